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
from ._scenarios import ActorLog
from ._scenarios import Observed
from ._scenarios import Scenario
from ._scenarios import Unknown
from ._scenarios import observed_state

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
    names: Sequence[str], logs: Sequence[ActorLog], final: FleetState, before: FleetState
) -> tuple[list[Operation[Any, Any]], dict[int, OpRef]]:
    """The history of a run: every call, then one ``Inspect`` per job, returned last.

    Returns the operations and, keyed by ``id(operation)``, which actor's which call each one
    is (``Inspect`` operations are the harness's, not an actor's, and have no entry).
    """
    operations: list[Operation[Any, Any]] = []
    refs: dict[int, OpRef] = {}
    end = 0
    jobs = sorted({j for j, _ in before.jobs} | {j for j, _ in final.jobs})
    for name, log in zip(names, logs, strict=True):
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
            refs[id(operation)] = OpRef(actor=name, index=index)
            end = max(end, returned + 1)
    for job_id in jobs:
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
    names: Sequence[str], logs: Sequence[ActorLog], before: FleetState, final: FleetState
) -> list[Violation]:
    operations, refs = history_of(names, logs, final, before)
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
    final_docs: Sequence[Doc],
    final: FleetState | None = None,
) -> tuple[Violation, ...]:
    """The violations of one scenario run; empty when it is correct.

    ``results[i]`` is actor ``names[i]``'s log (calls with their answers and event numbers) or
    an ``ActorError``; ``before`` is the state after set-up; ``final_docs`` what the store
    holds at the end.
    """
    raised = [
        Violation(
            kind="actor-raised",
            subject=None,
            operations=(),
            sentence=f"actor {name}: {who_raised(result.error)}",
        )
        for name, result in zip(names, results, strict=True)
        if isinstance(result, ActorError)
    ]
    if raised:
        return tuple(raised)
    logs: Sequence[ActorLog] = results
    if final is None:
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
    and the verdict depends on nothing else, so each distinct outcome is checked once."""

    def __init__(self, scenario: Scenario, size: int, names: Sequence[str]) -> None:
        self.initial = initial_state(scenario, size)
        self.names = tuple(names)
        self._memo: dict[Any, tuple[Violation, ...]] = {}

    def __call__(self, results: Sequence[Any], final_docs: Sequence[Doc]) -> tuple[Violation, ...]:
        if any(isinstance(r, ActorError) for r in results):
            return check_run(self.initial, self.names, results, final_docs)
        # The raw documents are a cheaper key than the model state derived from them.
        docs_key = tuple((d.id, tuple(d.body.items())) for d in final_docs)
        key = (tuple(tuple(log) for log in results), docs_key)
        try:
            verdict = self._memo.get(key)
        except TypeError:  # an unhashable body value (a nested payload): check without memo
            return check_run(self.initial, self.names, results, final_docs)
        if verdict is None:
            verdict = check_run(self.initial, self.names, results, final_docs)
            self._memo[key] = verdict
        return verdict


def initial_state(scenario: Scenario, size: int) -> FleetState:
    """The model state after ``scenario``'s set-up for ``size`` actors."""
    state = scenario.initial
    for op in scenario.setup(size):
        state, _ = apply(state, op)
    return state
