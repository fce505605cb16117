"""True concurrency: the same scenarios in a trio nursery, with no controlled scheduler.

This is the analogue of ``await Promise.all([...])``: every actor is a trio task, every store
operation a real trio checkpoint (or a real request in a worker thread).  Which interleaving
happens is up to trio and the backend, so this finds races only as often as they happen --
that is exactly what it demonstrates, next to the controlled runs that find them every time.

Variety comes from a seeded source: each trial starts each actor after a number of extra
checkpoints drawn from ``random.Random(seed)``.  Trial 0 starts everybody together (offsets
all 0), which for in-process stores makes every actor read before any writes.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

import attrs
import trio

from fleet import Coordinator
from fleet import FleetResult

from .._findings import Violation
from ..backends import identity
from ..runtime import ActorError
from ._runner import StoreFactory
from ._scenarios import Scenario
from ._scenarios import actor_coroutine
from ._scenarios import perform
from ._verdict import check_run
from ._verdict import initial_state

__all__ = ["ConcurrentOutcome", "run_concurrently"]


@attrs.frozen(kw_only=True)
class ConcurrentOutcome:
    """``violations`` of the first failing trial (empty if none failed) and its number."""

    trials: int
    failing_trials: int
    first_failure: int | None
    violations: tuple[Violation, ...]
    claimed_counts: tuple[int, ...]
    conflict_counts: tuple[int, ...]


async def _trial(
    scenario: Scenario, size: int, factory: StoreFactory, offsets: list[int]
) -> tuple[tuple[Violation, ...], int, int]:
    coord = Coordinator(factory(identity), partition="jobs")
    for op in scenario.setup(size):
        await perform(coord, op)
    named = scenario.actors(size)
    results: list[Any] = [None] * len(named)
    # One event counter shared by the tasks: trio runs them on one thread, so the order in
    # which they take numbers is the real order of their invokes and returns.
    tick = itertools.count().__next__

    async def run(index: int, ops: Any) -> None:
        for _ in range(offsets[index]):
            await trio.lowlevel.checkpoint()
        try:
            results[index] = await actor_coroutine(coord, ops, tick=tick)()
        except Exception as error:
            results[index] = ActorError(error=error)

    async with trio.open_nursery() as nursery:
        for index, (_, ops) in enumerate(named):
            nursery.start_soon(run, index, ops)
    docs = await coord.list_documents()
    names = [name for name, _ in named]
    violations = check_run(initial_state(scenario, size), names, results, docs)
    outcomes = [
        r
        for log in results
        if not isinstance(log, ActorError)
        for _, r, _, _ in log
        if isinstance(r, FleetResult)
    ]
    claimed = sum(r.kind == "claimed" for r in outcomes)
    conflicts = sum(r.kind == "conflict" for r in outcomes)
    return violations, claimed, conflicts


def run_concurrently(
    scenario: Scenario,
    size: int,
    factory: StoreFactory,
    *,
    seed: int = 0,
    trials: int = 20,
    max_offset: int = 3,
) -> ConcurrentOutcome:
    """Run ``trials`` trials of ``scenario`` as concurrent trio tasks; check each one."""
    rng = random.Random(seed)
    failing = 0
    first: int | None = None
    first_violations: tuple[Violation, ...] = ()
    claimed: list[int] = []
    conflicts: list[int] = []
    n = len(scenario.actors(size))
    for trial in range(trials):
        offsets = [0] * n if trial == 0 else [rng.randint(0, max_offset) for _ in range(n)]
        violations, won, lost = trio.run(_trial, scenario, size, factory, offsets)
        claimed.append(won)
        conflicts.append(lost)
        if violations:
            failing += 1
            if first is None:
                first, first_violations = trial, tuple(violations)
    return ConcurrentOutcome(
        trials=trials,
        failing_trials=failing,
        first_failure=first,
        violations=first_violations,
        claimed_counts=tuple(claimed),
        conflict_counts=tuple(conflicts),
    )
