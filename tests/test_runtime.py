"""The controlled runtime and the schedulers, on hand-made actors."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from harness import ExhaustiveScheduler
from harness import PctScheduler
from harness import RandomScheduler
from harness import ReplayScheduler
from harness import RuntimeMisuse
from harness import ScheduleDiverged
from harness import drive
from harness import run_actors
from harness.runtime import ActorError
from stores import MemoryStore


def writers(store: MemoryStore, ids: list[str], rounds: int = 2) -> list[Any]:
    def make(i: int, doc_id: str) -> Any:
        async def actor() -> int:
            for r in range(rounds):
                await store.create(f"{doc_id}-{i}-{r}", "p", {})
            return i

        return actor

    return [make(i, doc_id) for i, doc_id in enumerate(ids)]


def test_every_store_operation_is_one_step() -> None:
    store = MemoryStore()
    execution = run_actors(writers(store, ["a", "b"], rounds=3), RandomScheduler(1))
    assert len(execution.schedule) == 6
    assert sorted(execution.schedule) == [0, 0, 0, 1, 1, 1]
    assert all(p[0] == "create" for p in execution.points)
    assert execution.results == (0, 1)


def test_same_seed_same_schedule_different_seed_differs() -> None:
    def schedule(seed: int) -> tuple[int, ...]:
        return run_actors(
            writers(MemoryStore(), ["a", "b", "c"], 4), RandomScheduler(seed)
        ).schedule

    assert schedule(7) == schedule(7)
    assert len({schedule(s) for s in range(10)}) > 1


def test_pct_is_deterministic_per_seed() -> None:
    def schedules(seed: int) -> list[tuple[int, ...]]:
        pct = PctScheduler(seed)
        out = []
        for _ in range(5):
            pct.new_execution()
            out.append(run_actors(writers(MemoryStore(), ["a", "b", "c"], 3), pct).schedule)
        return out

    assert schedules(3) == schedules(3)


def test_replay_follows_the_recorded_schedule() -> None:
    first = run_actors(writers(MemoryStore(), ["a", "b"], 3), RandomScheduler(5))
    again = run_actors(writers(MemoryStore(), ["a", "b"], 3), ReplayScheduler(first.schedule))
    assert again.schedule == first.schedule
    assert again.points == first.points


def test_replay_of_an_impossible_choice_names_the_step() -> None:
    with pytest.raises(ScheduleDiverged, match="step 1 of the schedule resumes actor 5"):
        run_actors(writers(MemoryStore(), ["a", "b"]), ReplayScheduler([5, 0, 0, 1]))


def test_exhaustive_enumerates_every_interleaving_without_reduction() -> None:
    # Two actors with two dependent steps each (same partition listing): C(4,2) = 6 orders.
    def actors(store: MemoryStore) -> list[Any]:
        async def a() -> None:
            await store.create("x", "p", {})
            await store.list_partition("p")

        async def b() -> None:
            await store.create("y", "p", {})
            await store.list_partition("p")

        return [a, b]

    scheduler = ExhaustiveScheduler(reduction=False)
    seen = set()
    while scheduler.new_execution():
        seen.add(run_actors(actors(MemoryStore()), scheduler).schedule)
    assert len(seen) == 6


def test_sleep_sets_collapse_independent_actors_to_one_schedule() -> None:
    # Actors that touch different documents commute: one schedule represents all 20.
    def count(reduction: bool) -> int:
        scheduler = ExhaustiveScheduler(reduction=reduction)
        n = 0
        while scheduler.new_execution():
            n += not run_actors(writers(MemoryStore(), ["a", "b"], 3), scheduler).pruned
        return n

    assert count(reduction=False) == 20
    assert count(reduction=True) == 1


def test_preemption_bound_limits_the_search() -> None:
    def count(bound: int | None) -> int:
        scheduler = ExhaustiveScheduler(reduction=False, preemption_bound=bound)
        n = 0
        while scheduler.new_execution():
            n += not run_actors(writers(MemoryStore(), ["a", "b"], 3), scheduler).pruned
        return n

    assert count(0) == 2  # run a to the end then b, or b then a
    assert count(0) < count(1) < count(None) == 20


def test_actor_awaiting_trio_runs_under_control_and_a_foreign_await_is_a_clear_misuse() -> None:
    async def sleeper() -> str:
        await trio.sleep(0)
        return "slept"

    # Unmodified trio code is driven by the controlled runtime (issue 12), not refused.
    execution = run_actors([sleeper, sleeper], RandomScheduler(0))
    assert execution.results == ("slept", "slept")

    class Foreign:
        def __await__(self) -> Any:
            yield "something no loop knows"

    async def stranger() -> None:
        await Foreign()

    with pytest.raises(RuntimeMisuse):
        run_actors([stranger, stranger], RandomScheduler(0))


def test_actor_exceptions_are_kept_not_swallowed() -> None:
    store = MemoryStore()

    async def boom() -> None:
        await store.get("a", "p")
        raise KeyError("kaput")

    async def fine() -> str:
        await store.get("a", "p")
        return "ok"

    execution = run_actors([boom, fine], RandomScheduler(0))
    assert isinstance(execution.results[0], ActorError)
    assert isinstance(execution.results[0].error, KeyError)
    assert execution.results[1] == "ok"


def test_drive_runs_sequential_code() -> None:
    store = MemoryStore()
    doc = drive(store.create("a", "p", {"x": 1}))
    assert drive(store.get("a", "p")) == doc
