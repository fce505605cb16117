"""One exploration split over N workers: the parts together are exactly the whole."""

from __future__ import annotations

import pytest

from harness import explore
from harness.backends import coordinator_options
from harness.backends import get_backend
from harness.explore import ScheduleRunner
from harness.explore import get_scenario
from harness.runtime import PctScheduler
from harness.runtime import RandomScheduler
from harness.runtime import Scheduler
from harness.runtime import Shard


@pytest.mark.parametrize(
    ("store", "scenario", "size"),
    [
        ("memory", "claim-race", 4),
        ("memory", "zombie-lease", 3),
        ("memory", "renew-contention", 4),
        ("faulty-memory", "complete-after-expiry", 2),
    ],
)
@pytest.mark.parametrize("parts", [2, 3])
def test_exhaustive_parts_add_up_to_the_unsharded_count(
    store: str, scenario: str, size: int, parts: int
) -> None:
    whole = explore(scenario, store, "exhaustive", size=size, budget=None)
    shards = [
        explore(scenario, store, "exhaustive", size=size, budget=None, shard=Shard(k, parts))
        for k in range(parts)
    ]
    assert sum(s.schedules for s in shards) == whole.schedules
    assert all(s.complete for s in shards)
    assert whole.complete


def _schedules(make: type[Scheduler], shard: Shard | None, budget: int) -> list[tuple[int, ...]]:
    scenario = get_scenario("multi-job")
    with get_backend("memory").open() as factory:
        runner = ScheduleRunner(scenario, 3, factory, coordinator_options("memory"))
        scheduler = make(7, shard=shard)  # type: ignore[call-arg]
        out = []
        for _ in range(budget):
            scheduler.new_execution()
            out.append(runner.run(scheduler).execution.schedule)
        return out


@pytest.mark.parametrize("make", [RandomScheduler, PctScheduler])
def test_random_and_pct_parts_run_exactly_the_unsharded_schedules(make: type[Scheduler]) -> None:
    whole = _schedules(make, None, 60)
    even = _schedules(make, Shard(0, 2), 30)
    odd = _schedules(make, Shard(1, 2), 30)
    if make is RandomScheduler:
        # Schedule i of the whole is schedule i // 2 of part i % 2.
        assert whole[0::2] == even
        assert whole[1::2] == odd
    else:
        # PCT's schedule length estimate grows with what each part has seen: same seeds and
        # change points, and at least the same verdicts (below), if not every schedule.
        assert len(set(even) | set(odd)) > 1


@pytest.mark.parametrize("strategy", ["random", "pct"])
def test_a_control_found_unsharded_is_found_by_some_part(strategy: str) -> None:
    whole = explore("multi-job", "rcw-memory", strategy, seed=3, budget=100)
    parts = [
        explore("multi-job", "rcw-memory", strategy, seed=3, budget=100, shard=Shard(k, 2))
        for k in range(2)
    ]
    assert whole.found
    assert any(p.found for p in parts)


def test_each_part_runs_its_share_of_the_budget() -> None:
    parts = [
        explore("claim-race", "memory", "random", budget=101, shard=Shard(k, 2)) for k in (0, 1)
    ]
    assert [p.schedules for p in parts] == [51, 50]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("3/2", "does not exist"),
        ("0/2", "does not exist"),
        ("1-2", "is not K/N"),
        ("a/b", "is not K/N"),
    ],
)
def test_a_bad_shard_is_a_precise_error(text: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Shard.parse(text)
    assert Shard.parse("2/4") == Shard(1, 4)


def _outcomes(scenario: str, size: int, symmetry: bool) -> set[tuple[str, ...]]:
    """Every distinct ending (the sorted answers) an exhaustive search reaches."""
    from harness.explore import ScheduleRunner as Runner
    from harness.explore import symmetry_classes
    from harness.runtime import ExhaustiveScheduler

    chosen = get_scenario(scenario)
    classes = symmetry_classes(chosen, size) if symmetry else None
    scheduler = ExhaustiveScheduler(symmetry=classes)
    seen = set()
    with get_backend("memory").open() as factory:
        runner = Runner(chosen, size, factory, coordinator_options("memory"))
        while scheduler.new_execution():
            run = runner.run(scheduler)
            if not run.execution.pruned:
                kinds = [
                    getattr(r, "kind", str(r))
                    for log in run.execution.results
                    for _, r, _, _ in log
                ]
                seen.add(tuple(sorted(kinds)))
    return seen


@pytest.mark.parametrize(
    ("scenario", "size"), [("claim-race", 4), ("zombie-lease", 4), ("multi-job", 3)]
)
def test_symmetry_reduction_reaches_every_ending_the_full_search_reaches(
    scenario: str, size: int
) -> None:
    assert _outcomes(scenario, size, symmetry=True) == _outcomes(scenario, size, symmetry=False)


def test_symmetry_reduction_explores_fewer_schedules_and_still_catches_the_control() -> None:
    reduced = explore("claim-race", "memory", "exhaustive", size=4, budget=None)
    full = explore("claim-race", "memory", "exhaustive", size=4, budget=None, symmetry=False)
    assert reduced.complete
    assert full.complete
    assert reduced.schedules < full.schedules
    for size in (2, 3, 4, 10):
        assert explore("claim-race", "rcw-memory", "exhaustive", size=size, budget=5000).found
