"""The one fleet check: a run is recorded as a history and checked through the reference model.

Every scenario run, controlled or under trio, and every state-machine batch is checked the same
way.  The actors' calls become a history of :class:`~harness.check.Operation` values (invoke and
return stamped from one event counter per run, so real-time order is kept), the final state of
each job is appended as one ``Inspect`` operation returned after everything else, and
:func:`~harness.check.check_operations` must find a linearization under
``models.FleetLinearModel``.  The named invariants (double assignment, the state invariants,
missing run documents) are reported first, because they are what a reader of a finding wants to
see; the linearizability check then catches everything else, including a write that applied
while its caller was told ``conflict``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fleet import FleetResult
from models import Claim
from models import FleetLinearModel
from models import FleetState
from models import Inspect
from models import Observation
from models import Reap
from models import ReapJob
from models import apply
from models import check_invariants
from stores import Doc

from .._findings import OpRef
from .._findings import Violation
from .._findings import who_raised
from ..check import Operation
from ..check import check_operations
from ..runtime import ActorError
from ._documents import observed_state
from ._scenarios import ActorLog
from ._scenarios import Observed
from ._scenarios import Scenario
from ._scenarios import Unknown

__all__ = ["RunChecker", "check_run", "history_of", "initial_state", "observe"]

#: Results that changed a job (the calls a violation about that job's state is about).
CHANGED = frozenset({"claimed", "renewed", "completed", "released", "reaped"})
#: How long one run's linearizability check may take before it is reported as undecided.
CHECK_TIMEOUT = 10.0


def observe(result: Observed) -> Observation:
    """A coordinator answer in the model's terms."""
    if isinstance(result, tuple):
        return Observation(kind="reaped", reaped=tuple(result))
    return Observation(kind=result.kind, epoch=result.epoch, expires_at=result.expires_at)


def history_of(
    names: Sequence[str],
    logs: Sequence[ActorLog],
    final: FleetState | None,
    before: FleetState,
    harness_log: ActorLog | None = None,
) -> tuple[list[Operation[Any, Any]], dict[int, OpRef]]:
    """The history of a run: every call, then one ``Inspect`` per job of ``final``, returned
    last.  ``harness_log`` holds the calls the harness made itself through a user's
    coordinator (its set-up, and the probes that stand in for ``final``: see
    ``_coordinators``), checked like an actor's under the client id ``harness``.

    Returns the operations and, keyed by ``id(operation)``, which actor's which call each one
    is (the harness's operations are not an actor's and have no entry).
    """
    operations: list[Operation[Any, Any]] = []
    refs: dict[int, OpRef] = {}
    end = 0
    if harness_log is None:
        harness_log = []
    jobs = sorted(
        {j for j, _ in before.jobs}
        | ({j for j, _ in final.jobs} if final is not None else set())
        | {op.job_id for log in (*logs, harness_log) for op, *_ in log if hasattr(op, "job_id")}
    )
    for name, log in zip((*names, "harness"), (*logs, harness_log), strict=True):
        crashed = 0
        for index, (op, result, invoked, returned) in enumerate(log):
            # After an unknown outcome the caller goes on, but its call never returned: like
            # Jepsen's crashed process, it continues as a new client.
            client = name if crashed == 0 else f"{name}#{crashed}"
            if isinstance(op, Reap) and isinstance(result, tuple):
                # A reap is one conditional write per job: check each job's part on its own.
                for job_id in jobs:
                    kind = "reaped" if job_id in result else "kept"
                    part: Operation[Any, Any] = Operation(
                        client_id=f"{client}:{job_id}",
                        input=ReapJob(job_id=job_id, now=op.now),
                        output=Observation(kind=kind),
                        call=invoked,
                        return_=returned,
                        outcome="ok",
                    )
                    operations.append(part)
                    if log is not harness_log:
                        refs[id(part)] = OpRef(actor=name, index=index)
                end = max(end, returned + 1)
                continue
            if isinstance(result, Unknown):
                crashed += 1
                # The caller never learned: the checker lets it take effect or not.
                operation: Operation[Any, Any] = Operation(
                    client_id=client,
                    input=op,
                    output=None,
                    call=invoked,
                    return_=None,
                    outcome="unknown",
                )
            else:
                operation = Operation(
                    client_id=client,
                    input=op,
                    output=observe(result),
                    call=invoked,
                    return_=returned,
                    outcome="ok",
                )
            operations.append(operation)
            if log is not harness_log:
                refs[id(operation)] = OpRef(actor=name, index=index)
            end = max(end, returned + 1)
    for job_id in jobs:
        if final is None:
            break
        inspected = Observation(kind="state", job=final.job(job_id))
        operations.append(
            Operation(
                client_id="harness",
                input=Inspect(job_id=job_id),
                output=inspected,
                call=end,
                return_=end + 1,
                outcome="ok",
            )
        )
        end += 2
    return operations, refs


def _refs(
    names: Sequence[str], logs: Sequence[ActorLog], job_id: str, kinds: frozenset[str]
) -> tuple[OpRef, ...]:
    """The calls on ``job_id`` (reaps: every job) whose answer is one of ``kinds``."""
    out = []
    for name, log in zip(names, logs, strict=True):
        for index, (op, result, _, _) in enumerate(log):
            if isinstance(result, Unknown):
                continue
            kind = "reaped" if isinstance(result, tuple) else result.kind
            if kind in kinds and getattr(op, "job_id", job_id) == job_id:
                out.append(OpRef(actor=name, index=index))
    return tuple(out)


def _double_assignments(names: Sequence[str], logs: Sequence[ActorLog]) -> list[Violation]:
    won: dict[tuple[str, int], list[tuple[str, OpRef]]] = {}
    for name, log in zip(names, logs, strict=True):
        for index, (op, result, _, _) in enumerate(log):
            if isinstance(op, Claim) and isinstance(result, FleetResult):
                if result.kind == "claimed" and result.epoch is not None:
                    ref = OpRef(actor=name, index=index)
                    won.setdefault((op.job_id, result.epoch), []).append((op.worker_id, ref))
    return [
        Violation(
            kind="double-assignment",
            subject=job_id,
            operations=tuple(ref for _, ref in claims),
            sentence=f"double assignment: job {job_id} epoch {epoch} claimed by "
            + " and ".join(sorted(worker for worker, _ in claims)),
        )
        for (job_id, epoch), claims in sorted(won.items())
        if len(claims) > 1
    ]


def _state_violations(
    names: Sequence[str], logs: Sequence[ActorLog], final: FleetState, lenient: bool
) -> list[Violation]:
    out = []
    for job_id, job in final.jobs:
        changed = _refs(names, logs, job_id, CHANGED)
        for sentence in check_invariants(FleetState(jobs=((job_id, job),))):
            out.append(
                Violation(kind="invariant", subject=job_id, operations=changed, sentence=sentence)
            )
        missing = [e for e, worker in enumerate(job.runs, 1) if worker == "<missing>"]
        # A claimer whose call ended in an unknown outcome may not have derived its run yet;
        # with every outcome known, a granted epoch must have its run document.
        if missing and not lenient:
            out.append(
                Violation(
                    kind="missing-run",
                    subject=job_id,
                    operations=changed,
                    sentence=f"job {job_id}: no run document for epoch "
                    + ", ".join(map(str, missing))
                    + " although every call's outcome is known",
                )
            )
    return out


def _linearizability(
    names: Sequence[str],
    logs: Sequence[ActorLog],
    before: FleetState,
    final: FleetState | None,
    harness_log: ActorLog | None = None,
) -> list[Violation]:
    operations, refs = history_of(names, logs, final, before, harness_log)
    result = check_operations(FleetLinearModel(before), operations, timeout=CHECK_TIMEOUT)
    if result.verdict == "linearizable":
        return []
    if result.violation is None:
        return [
            Violation(
                kind="undecided",
                subject=None,
                sentence=f"linearizability undecided (not a pass): {result.explanation}",
            )
        ]
    v = result.violation
    about = [op for op in (*v.stuck, v.blocking) if id(op) in refs]
    jobs = {getattr(op.input, "job_id", None) for op in v.partition}
    return [
        Violation(
            kind="not-linearizable",
            subject=jobs.pop() if len(jobs) == 1 else None,
            operations=tuple(sorted({refs[id(op)] for op in about}, key=_order(names))),
            sentence="not linearizable: no sequential order of the calls gives these answers "
            f"and this final state under the reference model: {v.summary}",
        )
    ]


def _order(names: Sequence[str]) -> Any:
    rank = {name: i for i, name in enumerate(names)}
    return lambda ref: (rank.get(ref.actor, len(rank)), ref.index)


def check_run(
    before: FleetState,
    names: Sequence[str],
    results: Sequence[Any],
    final_docs: Sequence[Doc] | None,
    final: FleetState | None = None,
    harness_log: ActorLog | None = None,
    coordinator_files: Sequence[Path] = (),
) -> tuple[Violation, ...]:
    """The violations of one scenario run; empty when it is correct.

    ``results[i]`` is actor ``names[i]``'s log (calls with their answers and event numbers) or
    an ``ActorError``; ``before`` is the state after set-up; ``final_docs`` what the store
    holds at the end.  For a user's coordinator (``_coordinators``) there are no documents to
    read: ``final_docs`` is None, ``before`` the state before set-up, and ``harness_log`` the
    set-up and the final probes the harness ran through the coordinator.
    """
    raised = [
        Violation(
            kind="actor-raised",
            subject=None,
            operations=(),
            sentence=f"actor {name}: {who_raised(result.error, coordinator_files)}",
        )
        for name, result in zip(names, results, strict=True)
        if isinstance(result, ActorError)
    ]
    if raised:
        return tuple(raised)
    logs: Sequence[ActorLog] = results
    if harness_log is not None:
        problems = _double_assignments(names, logs)
        return tuple(problems or _linearizability(names, logs, before, None, harness_log))
    if final is None:
        assert final_docs is not None
        final = observed_state(final_docs)
    lenient = any(isinstance(call[1], Unknown) for log in logs for call in log)
    problems = _double_assignments(names, logs)
    problems += _state_violations(names, logs, final, lenient)
    if problems:
        # The run already fails, in words a reader wants; the search for a linearization
        # would only add a vaguer sentence, at a cost that grows with the actors.
        return tuple(problems)
    return tuple(_linearizability(names, logs, before, final))


class RunChecker:
    """``check_run`` with a memo: many schedules end in the same history and the same state,
    and the verdict depends on nothing else, so each distinct outcome is checked once.

    ``user`` (a user's coordinator): runs come with the harness's own log (set-up and final
    probes) instead of documents, and the check starts before the set-up.
    """

    def __init__(
        self, scenario: Scenario, size: int, names: Sequence[str], *, user: bool = False
    ) -> None:
        self.initial = scenario.initial if user else initial_state(scenario, size)
        self.names = tuple(names)
        #: Source files of a user's coordinator, so that its errors are blamed on it.
        self.coordinator_files: tuple[Path, ...] = ()
        self._memo: dict[Any, tuple[Violation, ...]] = {}

    def __call__(
        self,
        results: Sequence[Any],
        final_docs: Sequence[Doc] | None,
        harness_log: ActorLog | None = None,
    ) -> tuple[Violation, ...]:
        def check() -> tuple[Violation, ...]:
            return check_run(
                self.initial, self.names, results, final_docs,
                harness_log=harness_log, coordinator_files=self.coordinator_files,
            )  # fmt: skip

        if any(isinstance(r, ActorError) for r in results):
            return check()
        # The raw documents are a cheaper key than the model state derived from them.
        if final_docs is None:
            final_key: Any = tuple(harness_log or ())
        else:
            final_key = tuple((d.id, tuple(d.body.items())) for d in final_docs)
        key = (tuple(tuple(log) for log in results), final_key)
        try:
            verdict = self._memo.get(key)
        except TypeError:  # an unhashable body value (a nested payload): check without memo
            return check()
        if verdict is None:
            verdict = check()
            self._memo[key] = verdict
        return verdict


def initial_state(scenario: Scenario, size: int) -> FleetState:
    """The model state after ``scenario``'s set-up for ``size`` actors."""
    state = scenario.initial
    for op in scenario.setup(size):
        state, _ = apply(state, op)
    return state
