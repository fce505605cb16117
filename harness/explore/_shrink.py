"""Shrinking a finding: the smallest counterexample that still shows the same violation.

A counterexample as first found carries every actor of the scenario and whatever interleaving
the strategy stumbled on (a 32-claimer race, a 24-step trace).  Like Hypothesis, claimcheck
prints the smallest one it can find instead, and keeps the original in the JSON report:

1. **Fewer actors and operations.**  Delta debugging over the actors (halves, quarters, ...
   down to one), then over each remaining actor's operations: a candidate workload is kept
   when some schedule of it still shows a violation of the same kind.  A candidate is an
   ad-hoc scenario (its token replays it) with the original's set-up.
2. **Fewest preemptions, then fewest steps.**  For the final workload, exhaustive search with
   a preemption bound of 0, 1, 2, ...: the first bound under which a failing schedule exists
   is the fewest context switches the bug needs, and depth-first order finds a short one.

Only schedules that still fail with the same kind of violation are ever accepted, so the
shrunk counterexample is a real one; every search is deterministic, so printing stays
deterministic for a given seed.  Each search is bounded (``budget`` schedules), so shrinking
ends; when nothing smaller fails, the original is kept.
"""

from __future__ import annotations

from collections.abc import Sequence

from models import FleetOp

from ..runtime import ExhaustiveScheduler
from ..runtime import RandomScheduler
from ..runtime import Scheduler
from ._coordinators import CoordinatorSpec
from ._runner import Run
from ._runner import ScheduleRunner
from ._runner import StoreFactory
from ._scenarios import Scenario
from ._scenarios import adhoc_scenario

__all__ = ["Shrunk", "shrink"]

Actors = list[tuple[str, tuple[FleetOp, ...]]]

#: Schedules each candidate may spend, per search, to show it still fails.
CANDIDATE_BUDGET = 100
#: The highest preemption bound tried when minimizing the schedule.
MAX_PREEMPTIONS = 4
#: Schedules one shrink may spend in all: shrinking always ends, and deterministically.
TOTAL_BUDGET = 4000


class Shrunk:
    """A smaller failing workload and run: the scenario (ad hoc) and its failing run."""

    def __init__(self, scenario: Scenario, size: int, run: Run) -> None:
        self.scenario = scenario
        self.size = size
        self.run = run


class _Spend:
    """Schedules left for the whole shrink."""

    def __init__(self, total: int) -> None:
        self.left = total


def _failing_run(
    scenario: Scenario,
    size: int,
    factory: StoreFactory,
    coordinator: CoordinatorSpec,
    kind: str,
    schedulers: Sequence[Scheduler],
    budget: int,
    spend: _Spend,
) -> Run | None:
    """The first run, under each scheduler in turn, whose first violation is of ``kind``."""
    runner = ScheduleRunner(scenario, size, factory, coordinator)
    for scheduler in schedulers:
        spent = 0
        while spent < budget and spend.left > 0 and scheduler.new_execution():
            run = runner.run(scheduler)
            if run.execution.pruned:
                continue
            spent += 1
            spend.left -= 1
            if run.violations and run.violations[0].kind == kind:
                return run
    return None


def _searches(seed: int) -> list[Scheduler]:
    # A random walk first: races with a wide window (most of them) show within a few
    # schedules, and a candidate that cannot fail costs the least there.  Then depth-first
    # search with few preemptions, for bugs that need one precise interleaving.
    return [RandomScheduler(seed), *(ExhaustiveScheduler(preemption_bound=p) for p in (1, 2))]


def _candidate(base: Scenario, size: int, actors: Actors) -> Scenario:
    return adhoc_scenario(base.initial, actors, base.setup(size))


def shrink(
    scenario: Scenario,
    size: int,
    run: Run,
    factory: StoreFactory,
    coordinator: CoordinatorSpec,
    *,
    seed: int = 0,
    budget: int = CANDIDATE_BUDGET,
    total: int = TOTAL_BUDGET,
) -> Shrunk | None:
    """A smaller workload and schedule that still fail like ``run``, or None if none is found."""
    kind = run.violations[0].kind
    spend = _Spend(total)
    actors: Actors = list(scenario.actors(size))
    best: tuple[Actors, Run] | None = None

    def fails(candidate: Actors) -> Run | None:
        if not candidate:
            return None
        adhoc = _candidate(scenario, size, candidate)
        return _failing_run(
            adhoc, len(candidate), factory, coordinator, kind, _searches(seed), budget, spend
        )

    # 1. Delta debugging over actors: remove chunks, from halves down to single actors.
    chunk = max(1, len(actors) // 2)
    while chunk >= 1 and len(actors) > 1:
        removed = False
        start = 0
        while start < len(actors) and len(actors) > 1:
            candidate = actors[:start] + actors[start + chunk :]
            found = fails(candidate)
            if found is not None:
                actors, best, removed = candidate, (candidate, found), True
            else:
                start += chunk
        if not removed:
            chunk //= 2
    # ... then over each remaining actor's operations, last ones first.
    for index in range(len(actors)):
        ops = list(actors[index][1])
        position = len(ops) - 1
        while position >= 0 and len(ops) > 1:
            fewer = ops[:position] + ops[position + 1 :]
            candidate = [*actors[:index], (actors[index][0], tuple(fewer)), *actors[index + 1 :]]
            found = fails(candidate)
            if found is not None:
                ops, actors, best = fewer, candidate, (candidate, found)
            position -= 1
    # 2. Fewest preemptions: the first bound under which the final workload fails (on the
    # scenario itself when no actor could go, so that the token keeps its name).
    whole = actors == list(scenario.actors(size))
    target = scenario if whole else _candidate(scenario, size, actors)
    for bound in range(MAX_PREEMPTIONS + 1):
        found = _failing_run(
            target,
            size if whole else len(actors),
            factory,
            coordinator,
            kind,
            [ExhaustiveScheduler(preemption_bound=bound)],
            budget * 4,
            spend,
        )
        if found is not None:
            best = (actors, found)
            break
    if best is None:
        return None
    final_actors, final_run = best
    if len(final_run.execution.schedule) >= len(run.execution.schedule) and len(
        final_actors
    ) >= len(scenario.actors(size)):
        return None  # nothing smaller than what was found
    if final_actors == list(scenario.actors(size)):
        return Shrunk(scenario=scenario, size=size, run=final_run)
    return Shrunk(
        scenario=_candidate(scenario, size, final_actors), size=len(final_actors), run=final_run
    )
