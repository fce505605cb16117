"""The reference model of job/run/lease state: pure, synchronous, sequential.

No I/O, no clock, no randomness, no imports from the rest of claimcheck: time is an argument
(``now``) and every operation is a total function ``apply(state, op) -> (state, result)``.

Invariants the harness checks (``check_invariants`` for a state, ``check_outcomes`` for what
concurrent callers were told):

1. **One winner per (job, epoch)**: at most one claim of a job returns ``claimed`` at a given
   epoch.
2. **Exactly one run per epoch**: a job at epoch ``e`` has runs for epochs ``1..e``, each
   created by the worker that won that epoch.
3. **At most one live lease per job**: a job is held by at most one (worker, epoch).
4. **Epochs strictly increase**: each successful claim moves the epoch by exactly one.
5. **Fencing**: a worker holding a stale epoch (or an expired lease) can neither renew, nor
   complete, nor release.
6. **Done is final**: a completed job is never claimed again.

Semantics chosen here, and mirrored by ``fleet.Coordinator``: a lease is live while
``now < expires_at``; an expired lease is lost (it cannot be renewed, completed or released)
even before a reaper runs; a job is claimable when queued, or leased with an expired lease.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from typing import Literal

import attrs

from ._protocol import Model
from ._protocol import OpT

Status = Literal["queued", "leased", "done"]


@attrs.frozen(kw_only=True)
class JobState:
    status: Status = "queued"
    epoch: int = 0
    worker: str | None = None
    expires_at: int | None = None
    completed_epoch: int | None = None
    #: runs[i] is the worker that won epoch i + 1.
    runs: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class FleetState:
    """All jobs, as a sorted tuple of (job_id, JobState) so that states hash and compare."""

    jobs: tuple[tuple[str, JobState], ...] = ()

    def job(self, job_id: str) -> JobState | None:
        for jid, job in self.jobs:
            if jid == job_id:
                return job
        return None

    def as_dict(self) -> dict[str, JobState]:
        return dict(self.jobs)

    def with_job(self, job_id: str, job: JobState) -> FleetState:
        jobs = dict(self.jobs)
        jobs[job_id] = job
        return FleetState(jobs=tuple(sorted(jobs.items())))


@attrs.frozen(kw_only=True, cache_hash=True)
class Enqueue:
    job_id: str


@attrs.frozen(kw_only=True, cache_hash=True)
class Claim:
    job_id: str
    worker_id: str
    now: int
    ttl: int


@attrs.frozen(kw_only=True, cache_hash=True)
class Renew:
    job_id: str
    worker_id: str
    epoch: int
    now: int
    ttl: int


@attrs.frozen(kw_only=True, cache_hash=True)
class Complete:
    job_id: str
    worker_id: str
    epoch: int
    now: int


@attrs.frozen(kw_only=True, cache_hash=True)
class Release:
    job_id: str
    worker_id: str
    epoch: int
    now: int


@attrs.frozen(kw_only=True, cache_hash=True)
class Reap:
    now: int


FleetOp = Enqueue | Claim | Renew | Complete | Release | Reap


@attrs.frozen(kw_only=True, cache_hash=True)
class Probe(Claim):
    """A claim the harness makes alone, after everything else, to observe a job's final state
    through a coordinator's own operations (a user's coordinator, whose documents the harness
    does not read).  Judged strictly: run alone it cannot lose a race, so ``conflict`` and an
    unknown outcome are wrong, and a ``not_claimable`` answer must name the job's epoch."""


@attrs.frozen(kw_only=True, cache_hash=True)
class ReapJob:
    """One job's share of a ``Reap``, for the linearizability checker.

    A reap is one conditional write per expired job, not one atomic step over all jobs: two
    reapers may each requeue a different expired job.  So a recorded reap is checked as one
    ``ReapJob`` per job, each placed at its own point: answered ``reaped`` exactly when the job
    was leased and expired at that point, ``kept`` otherwise.
    """

    job_id: str
    now: int


@attrs.frozen(kw_only=True)
class ModelResult:
    """What the model says an operation answers.

    ``kind`` uses the coordinator's vocabulary; ``epoch`` and ``expires_at`` are the observable
    values a caller gets back; ``reaped`` is set for ``Reap`` only.  The model never answers
    ``conflict``: in a sequential execution nobody writes between a read and a write.
    """

    kind: str
    epoch: int | None = None
    expires_at: int | None = None
    reaped: tuple[str, ...] = ()


def _refusal(job: JobState, worker_id: str, epoch: int, now: int) -> str:
    if job.epoch != epoch:
        return "stale_epoch"
    if job.status != "leased" or job.worker != worker_id:
        return "not_holder"
    assert job.expires_at is not None
    if job.expires_at <= now:
        return "expired"
    return ""


def apply(state: FleetState, op: FleetOp) -> tuple[FleetState, ModelResult]:
    """The next state and the answer of ``op`` applied to ``state``."""
    if isinstance(op, Reap):
        reaped: list[str] = []
        for job_id, held in state.jobs:
            if (
                held.status == "leased"
                and held.expires_at is not None
                and held.expires_at <= op.now
            ):
                state = state.with_job(
                    job_id, attrs.evolve(held, status="queued", worker=None, expires_at=None)
                )
                reaped.append(job_id)
        return state, ModelResult(kind="reaped", reaped=tuple(reaped))
    job = state.job(op.job_id)
    if isinstance(op, Enqueue):
        if job is not None:
            return state, ModelResult(kind="exists")
        return state.with_job(op.job_id, JobState()), ModelResult(kind="enqueued", epoch=0)
    if job is None:
        return state, ModelResult(kind="lost" if not isinstance(op, Claim) else "not_found")
    if isinstance(op, Claim):
        if job.status == "done":
            return state, ModelResult(kind="not_claimable", epoch=job.epoch)
        if job.status == "leased" and job.expires_at is not None and job.expires_at > op.now:
            return state, ModelResult(kind="not_claimable", epoch=job.epoch)
        epoch = job.epoch + 1
        new = JobState(
            status="leased",
            epoch=epoch,
            worker=op.worker_id,
            expires_at=op.now + op.ttl,
            completed_epoch=job.completed_epoch,
            runs=(*job.runs, op.worker_id),
        )
        return state.with_job(op.job_id, new), ModelResult(
            kind="claimed", epoch=epoch, expires_at=op.now + op.ttl
        )
    if _refusal(job, op.worker_id, op.epoch, op.now):
        return state, ModelResult(kind="lost", epoch=op.epoch)
    if isinstance(op, Renew):
        new = attrs.evolve(job, expires_at=op.now + op.ttl)
        return state.with_job(op.job_id, new), ModelResult(
            kind="renewed", epoch=op.epoch, expires_at=op.now + op.ttl
        )
    if isinstance(op, Complete):
        new = attrs.evolve(
            job, status="done", worker=None, expires_at=None, completed_epoch=op.epoch
        )
        return state.with_job(op.job_id, new), ModelResult(kind="completed", epoch=op.epoch)
    new = attrs.evolve(job, status="queued", worker=None, expires_at=None)
    return state.with_job(op.job_id, new), ModelResult(kind="released", epoch=op.epoch)


class FleetModel:
    """A mutable convenience wrapper around :func:`apply` for sequential drivers."""

    def __init__(self, state: FleetState | None = None) -> None:
        self.state = state if state is not None else FleetState()

    def run(self, op: FleetOp) -> ModelResult:
        self.state, result = apply(self.state, op)
        return result


def check_invariants(state: FleetState) -> list[str]:
    """Violations of invariants 2, 3, 4 and 6 visible in one state (empty when none)."""
    problems: list[str] = []
    for job_id, job in state.jobs:
        if len(job.runs) > job.epoch:
            problems.append(
                f"epoch went backwards: job {job_id} is at epoch {job.epoch} but epoch "
                f"{len(job.runs)} was already granted (epochs must strictly increase)"
            )
        elif len(job.runs) < job.epoch:
            problems.append(f"job {job_id}: {len(job.runs)} runs for epoch {job.epoch}")
        if job.status == "leased" and (job.worker is None or job.expires_at is None):
            problems.append(f"job {job_id}: leased without a holder")
        if job.status != "leased" and job.worker is not None:
            problems.append(f"job {job_id}: {job.status} but held by {job.worker}")
        if job.status == "done" and job.completed_epoch != job.epoch:
            problems.append(f"job {job_id}: done at epoch {job.completed_epoch}, now {job.epoch}")
    return problems


def check_outcomes(claims: Mapping[str, list[tuple[str, int]]]) -> list[str]:
    """Invariant 1 over what callers were told: ``claims[job_id]`` lists (worker, epoch) of
    every claim that returned ``claimed``."""
    problems: list[str] = []
    for job_id, won in claims.items():
        by_epoch: dict[int, list[str]] = {}
        for worker, epoch in won:
            by_epoch.setdefault(epoch, []).append(worker)
        for epoch, workers in sorted(by_epoch.items()):
            if len(workers) > 1:
                problems.append(
                    f"double assignment: job {job_id} epoch {epoch} claimed by "
                    + " and ".join(sorted(workers))
                )
    return problems


@attrs.frozen(kw_only=True)
class Observation:
    """What a caller was told, in model terms, for the linearizability checker.

    ``kind`` is the coordinator's answer, including ``"conflict"`` (a lost compare-and-set,
    which the checker treats as "no effect"); ``reaped`` is set for ``Reap`` only.
    """

    kind: str
    epoch: int | None = None
    expires_at: int | None = None
    reaped: tuple[str, ...] = ()
    #: For ``Inspect``: the job as the store held it (None when there was no such job).
    job: JobState | None = None


@attrs.frozen(kw_only=True)
class Inspect:
    """Not a coordinator call: the harness reading one job's whole state after a batch.

    Recorded last in a history, it makes the checker also explain the state the store ended
    in, not only the answers callers got: a write that applied while its caller was told
    ``conflict`` leaves a state no linearization of the answers reaches.
    """

    job_id: str


def _same_job(model: JobState | None, seen: JobState | None) -> bool:
    if model is None or seen is None:
        return model is seen
    if attrs.evolve(model, runs=()) != attrs.evolve(seen, runs=()):
        return False
    if len(model.runs) != len(seen.runs):
        return False
    # A run document may be missing: its claimer may have crashed before deriving it.
    return all(s in (m, "<missing>") for m, s in zip(model.runs, seen.runs, strict=True))


def observation_matches(model: ModelResult, seen: Observation) -> bool:
    """Does the model's answer agree with what the caller saw, on every observable field?"""
    if model.kind != seen.kind:
        return False
    if seen.kind in ("claimed", "renewed"):
        return model.epoch == seen.epoch and model.expires_at == seen.expires_at
    if seen.kind == "reaped":
        return sorted(model.reaped) == sorted(seen.reaped)
    return True


def strict_match(model: ModelResult, seen: Observation) -> bool:
    """:func:`observation_matches`, and a refusal names the epoch the model names: how a call
    made alone (a set-up call, a :class:`Probe`) is judged."""
    if not observation_matches(model, seen):
        return False
    return seen.kind not in ("not_claimable", "lost") or model.epoch == seen.epoch


def _reap_job(
    state: FleetState, op: ReapJob, output: Observation | None
) -> tuple[bool, FleetState]:
    job = state.job(op.job_id)
    expired = (
        job is not None
        and job.status == "leased"
        and job.expires_at is not None
        and job.expires_at <= op.now
    )
    if expired:
        assert job is not None
        state = state.with_job(
            op.job_id, attrs.evolve(job, status="queued", worker=None, expires_at=None)
        )
    if output is None:
        return True, state
    return output.kind == ("reaped" if expired else "kept"), state


class FleetLinearModel(Model[FleetState, FleetOp | Inspect | ReapJob, Observation]):
    """The fleet model behind the ``Model`` protocol, for ``harness.check_operations``.

    Starts from ``initial`` (the state a store had before a concurrent batch).  A ``conflict``
    answer is legal from any state and changes nothing: optimistic concurrency may lose a race
    that the linear order places elsewhere.  An unknown outcome (``output`` None) is legal and
    takes effect.  Operations are independent per job, except ``Reap``, which reads every job:
    a history with a reap is checked as one part.
    """

    def __init__(self, initial: FleetState | None = None) -> None:
        self.initial = initial if initial is not None else FleetState()

    def init(self) -> FleetState:
        return self.initial

    def step(
        self, state: FleetState, input: FleetOp | Inspect | ReapJob, output: Observation | None
    ) -> tuple[bool, FleetState]:
        if isinstance(input, Inspect):
            return output is not None and _same_job(state.job(input.job_id), output.job), state
        if isinstance(input, ReapJob):
            return _reap_job(state, input, output)
        if isinstance(input, Probe):
            nxt, result = apply(state, input)
            return output is not None and strict_match(result, output), nxt
        if output is not None and output.kind == "conflict":
            return True, state
        nxt, result = apply(state, input)
        if output is None:
            return True, nxt
        return observation_matches(result, output), nxt

    def partition(self, operations: Sequence[OpT]) -> list[list[OpT]]:
        if any(isinstance(op.input, Reap) for op in operations):
            return [list(operations)] if operations else []
        parts: dict[str, list[OpT]] = {}
        for op in operations:
            parts.setdefault(op.input.job_id, []).append(op)
        return list(parts.values())

    def describe_operation(
        self, input: FleetOp | Inspect | ReapJob, output: Observation | None
    ) -> str:
        if isinstance(input, ReapJob):
            told = "?" if output is None else output.kind
            return f"reap({input.job_id}, now={input.now}) -> {told}"
        if isinstance(input, Inspect):
            job = None if output is None else output.job
            if job is None:
                return f"final state of {input.job_id}: missing"
            holder = f" held by {job.worker} until {job.expires_at}" if job.worker else ""
            return f"final state of {input.job_id}: {job.status} epoch {job.epoch}{holder}"
        if isinstance(input, Reap):
            text = f"reap(now={input.now})"
        elif isinstance(input, Enqueue):
            text = f"enqueue({input.job_id})"
        else:
            epoch = getattr(input, "epoch", None)
            args = ", ".join(
                a
                for a in (
                    input.job_id,
                    f"epoch={epoch}" if epoch is not None else "",
                    f"now={input.now}",
                )
                if a
            )
            text = f"{input.worker_id} {type(input).__name__.lower()}({args})"
        if output is None:
            return f"{text} -> ?"
        if output.kind == "reaped":
            return f"{text} -> reaped {list(output.reaped)}"
        extra = f" epoch {output.epoch}" if output.epoch is not None else ""
        return f"{text} -> {output.kind}{extra}"

    def describe_state(self, state: FleetState) -> str:
        return (
            "; ".join(
                f"{job_id} {job.status} epoch {job.epoch}"
                + (f" held by {job.worker} until {job.expires_at}" if job.worker else "")
                for job_id, job in state.jobs
            )
            or "no jobs"
        )
