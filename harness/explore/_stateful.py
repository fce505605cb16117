"""Hypothesis state machines: the coordinator against the reference model.

``fleet_machine(make_store, store_name=..., concurrent=True)`` returns a
``RuleBasedStateMachine`` class.  Its sequential rules (enqueue, claim, renew, complete,
release, reap, advance the clock) run one coordinator call at a time and compare every answer
and the whole observable state with the model.  Its concurrent rule runs a batch of 2 to 4
operations as separate actors under the controlled runtime, drawing **every scheduling choice
from Hypothesis** (``HypothesisScheduler``), records the history, checks it for
linearizability against the model from the current model state, and then moves the model to
the state the store actually reached.

Because the workload and the schedule come from the same Hypothesis data, Hypothesis shrinks
them together: a failure on the control ends as two claims of one job by two workers, printed
as runnable steps, and the :class:`BatchFinding` carries the schedule token that replays the
batch with ``claimcheck replay``.

This module imports Hypothesis but not pytest: run a machine with
``hypothesis.stateful.run_state_machine_as_test`` or its ``TestCase``.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine
from hypothesis.stateful import initialize
from hypothesis.stateful import invariant
from hypothesis.stateful import precondition
from hypothesis.stateful import rule

from fleet import Coordinator
from models import Claim
from models import Complete
from models import Enqueue
from models import FleetModel
from models import FleetOp
from models import FleetState
from models import Reap
from models import Release
from models import Renew
from models import check_invariants
from models import observation_matches
from stores import Store

from .._findings import Finding
from ..runtime import drive
from ..runtime.schedulers import HypothesisScheduler
from ._batch import BatchOutcome
from ._batch import run_batch
from ._counterexample import Counterexample
from ._documents import observed_state
from ._explore import explore
from ._scenarios import adhoc_scenario
from ._scenarios import perform
from ._verdict import observe

__all__ = ["BatchFinding", "fleet_machine"]

JOBS = ("j1", "j2")
WORKERS = ("w1", "w2", "w3")


class BatchFinding(Finding):
    """A concurrent batch whose answers no sequential order explains.

    ``outcome`` is the batch as Hypothesis ran it; ``actors``, ``token`` and ``counterexample``
    describe the smallest failing batch :func:`_minimize` found from it (the same batch when no
    actor could be dropped).
    """

    def __init__(
        self,
        outcome: BatchOutcome,
        actors: Sequence[tuple[str, Sequence[FleetOp]]],
        counterexample: Counterexample | None = None,
    ) -> None:
        self.outcome = outcome
        self.actors = actors
        self.counterexample = counterexample
        self.token = outcome.token if counterexample is None else counterexample.token
        lines = [
            "claimcheck finding: a concurrent batch is not linearizable",
            outcome.check.explanation,
            *outcome.errors,
        ]
        if counterexample is not None:
            lines += [
                "",
                f"smallest failing batch ({len(actors)} actors):",
                counterexample.render(),
            ]
        else:
            lines += [
                f"  schedule: {outcome.token}",
                "  reproduce with:",
                f"    claimcheck replay {outcome.token}",
            ]
        super().__init__("\n".join(lines))


def _minimize(
    before: FleetState,
    actors: Sequence[tuple[str, tuple[FleetOp, ...]]],
    make_store: Callable[[], Store],
    store_name: str,
) -> tuple[list[tuple[str, tuple[FleetOp, ...]]], Counterexample | None]:
    """Drop actors from a failing batch while some schedule of the rest still fails.

    Hypothesis shrinks workload and schedule together, but deleting an actor shifts every later
    scheduling choice, so it can stop at a batch with a spare actor.  Here each candidate batch
    gets an exhaustive search of its schedules (small: one operation per actor), so an actor is
    dropped whenever the rest can fail in *any* interleaving (and, with a fault layer, with
    any one fault).
    """
    current = list(actors)
    found: Counterexample | None = None

    def failing(batch: list[tuple[str, tuple[FleetOp, ...]]]) -> Counterexample | None:
        scenario = adhoc_scenario(before, batch)
        factory = lambda wrap: wrap(make_store())  # noqa: E731
        result = explore(scenario.name, store_name, "exhaustive", budget=5000, factory=factory)
        return result.counterexample

    found = failing(current)
    shrinking = found is not None
    while shrinking and len(current) > 1:
        shrinking = False
        for i in range(len(current)):
            candidate = current[:i] + current[i + 1 :]
            smaller = failing(candidate)
            if smaller is not None:
                current, found, shrinking = candidate, smaller, True
                break
    return current, found


_KINDS = ("claim", "renew", "complete", "release", "reap")


def _op(kind: str, job: str, worker: str, epoch: int, ttl: int, now: int) -> FleetOp:
    if kind == "claim":
        return Claim(job_id=job, worker_id=worker, now=now, ttl=ttl)
    if kind == "renew":
        return Renew(job_id=job, worker_id=worker, epoch=epoch, now=now, ttl=ttl)
    if kind == "complete":
        return Complete(job_id=job, worker_id=worker, epoch=epoch, now=now)
    if kind == "release":
        return Release(job_id=job, worker_id=worker, epoch=epoch, now=now)
    return Reap(now=now)


# An operation without its worker: (kind, job, epoch, ttl).  Kinds and jobs shrink towards the
# first entry, so failures shrink towards claims of j1.
_SPECS = st.tuples(
    # Claims at least half the time: they are what contends.
    st.one_of(st.just("claim"), st.sampled_from(_KINDS)),
    st.sampled_from(JOBS),
    st.integers(0, 3),
    st.integers(1, 12),
)


def fleet_machine(
    make_store: Callable[[], Store],
    *,
    store_name: str = "memory",
    concurrent: bool = True,
    coordinator: Mapping[str, Any] | None = None,
) -> type[RuleBasedStateMachine]:
    """A state machine class driving a coordinator over stores from ``make_store``.

    ``coordinator`` holds keyword arguments for ``fleet.Coordinator``."""
    options = dict(coordinator or {})

    class FleetMachine(RuleBasedStateMachine):
        @initialize()
        def start(self) -> None:
            self.coord = Coordinator(make_store(), **options)
            self.model = FleetModel()
            self.now = 0
            # Every example starts with the jobs queued: contention needs a job to fight over.
            for job in JOBS:
                self._sequential(Enqueue(job_id=job))

        def _sequential(self, op: FleetOp) -> None:
            got = observe(drive(perform(self.coord, op)))
            want = self.model.run(op)
            assert observation_matches(want, got), f"{op}: store said {got}, model says {want}"

        @rule(spec=_SPECS, worker=st.sampled_from(WORKERS))
        def sequential_op(self, spec: tuple[str, str, int, int], worker: str) -> None:
            self._sequential(_op(*spec[:2], worker, *spec[2:], now=self.now))

        @rule(ticks=st.integers(1, 8))
        def advance_clock(self, ticks: int) -> None:
            self.now += ticks

        @precondition(lambda self: concurrent)
        @rule(batch=st.lists(_SPECS, min_size=2, max_size=4), data=st.data())
        def concurrent_batch(
            self, batch: list[tuple[str, str, int, int]], data: st.DataObject
        ) -> None:
            # Operation i is done by worker w{i+1}: a batch is that many workers at once.  One
            # list draw lets Hypothesis delete any operation while shrinking.
            actors = [
                (f"w{i + 1}", (_op(*spec[:2], f"w{i + 1}", *spec[2:], now=self.now),))
                for i, spec in enumerate(batch)
            ]
            before = self.model.state
            outcome = run_batch(
                self.coord, before, actors, HypothesisScheduler(data), store_name=store_name
            )
            if not outcome.ok:
                smallest, counterexample = _minimize(before, actors, make_store, store_name)
                raise BatchFinding(outcome, smallest, counterexample)
            # Linearizable: continue from the state the store actually reached.
            self.model.state = outcome.final

        @invariant()
        def store_matches_model(self) -> None:
            if not hasattr(self, "coord"):
                return
            state = observed_state(drive(self.coord.list_documents()))
            assert state == self.model.state, f"store {state} != model {self.model.state}"
            assert check_invariants(state) == []

    FleetMachine.__name__ = FleetMachine.__qualname__ = f"FleetMachine[{store_name}]"
    return FleetMachine
