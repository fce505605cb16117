"""Controlled-runtime benchmarks (issue: seeded interleaving schedulers).

1. Controlled steps per second on MemoryStore, next to a bare ``coro.send(None)`` loop over the
   same actors (no scheduler, no recording) measured in the same run.
   Target: >= 1,000,000 steps/s and >= 30% of the bare loop.
2. End-to-end schedules per second on the 2-claimer race, invariant check included.
   Target: >= 20,000 schedules/s.  Beside it, the same race on stores written against asyncio
   (``asyncio.Lock`` + ``asyncio.sleep(0)``; a client of a loopback "redis-like" server) and
   trio (``trio.sleep(0)``), which run under the event-loop controls (``harness/runtime/_aio.py``,
   ``_trio.py``): no target, a figure to watch.
3. Median schedules to the first double assignment on the control, per strategy, 100 seeds.

Run: ``.venv/bin/python bench/bench_runtime.py`` (or ``make bench``).  Best of 7 repetitions,
bare and controlled interleaved so that both see the same machine conditions.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from harness import RandomScheduler
from harness import explore
from harness import run_actors
from stores import CONTROLLED
from stores import MemoryStore

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.async_stores

from tests.async_stores import AioLockStore
from tests.async_stores import KvStores
from tests.async_stores import TrioSleepStore
from tests.async_stores import kv_server

ACTORS = 4
OPS_PER_ACTOR = 50_000


def make_actors(store: MemoryStore) -> list[Callable[[], Coroutine[Any, Any, None]]]:
    def make(i: int) -> Callable[[], Coroutine[Any, Any, None]]:
        doc_id = f"d{i % 2}"

        async def actor() -> None:
            get = store.get
            for _ in range(OPS_PER_ACTOR):
                await get(doc_id, "p")

        return actor

    return [make(i) for i in range(ACTORS)]


def bare_loop() -> float:
    """The tightest reference: one coroutine doing the same store operations, stepped by a
    bare ``coro.send(None)`` loop with no scheduler and no recording."""
    store = MemoryStore()

    async def actor() -> None:
        get = store.get
        for _ in range(ACTORS * OPS_PER_ACTOR):
            await get("d0", "p")

    coro = actor()
    send = coro.send
    token = CONTROLLED.set(True)
    steps = 0
    start = time.perf_counter()
    try:
        while True:
            send(None)
            steps += 1
    except StopIteration:
        pass
    finally:
        CONTROLLED.reset(token)
    return steps / (time.perf_counter() - start)


def controlled() -> float:
    store = MemoryStore()
    start = time.perf_counter()
    execution = run_actors(make_actors(store), RandomScheduler(1))
    return len(execution.schedule) / (time.perf_counter() - start)


def schedules_per_second(budget: int = 20_000) -> float:
    start = time.perf_counter()
    result = explore("claim-race", "memory", "random", seed=1, budget=budget)
    assert result.schedules == budget
    assert not result.found
    return budget / (time.perf_counter() - start)


def async_schedules_per_second(kind: str, budget: int = 1_000) -> float:
    """The 2-claimer race, checked, on a store written against asyncio or trio."""
    with kv_server() as server:
        stores = KvStores(server)
        factories: dict[str, Callable[[Any], Any]] = {
            "asyncio": lambda wrap: wrap(AioLockStore()),
            "trio": lambda wrap: wrap(TrioSleepStore()),
            "kv": stores,
        }
        factory = factories[kind]
        start = time.perf_counter()
        result = explore("claim-race", kind, "random", seed=1, budget=budget, factory=factory)
        took = time.perf_counter() - start
        stores.close()
    assert result.schedules == budget
    assert not result.found
    return budget / took


def schedules_to_first_finding(strategy: str, seeds: int = 100) -> list[int]:
    out = []
    for seed in range(seeds):
        result = explore("claim-race", "rcw-memory", strategy, seed=seed, budget=1000)
        assert result.found
        out.append(result.schedules)
    return out


def best(fn: Callable[[], float], reps: int = 5) -> float:
    return max(fn() for _ in range(reps))


def main() -> None:
    # Interleaved repetitions, so that both figures see the same machine conditions.
    bares, ctls = [], []
    for _ in range(7):
        bares.append(bare_loop())
        ctls.append(controlled())
    bare, ctl = max(bares), max(ctls)
    print("controlled runtime on MemoryStore (best of 7, interleaved)")
    print(f"  bare coro.send loop     {bare:>12,.0f} steps/s  (reference, same run)")
    print(f"  controlled (random)     {ctl:>12,.0f} steps/s  = {ctl / bare:.0%} of bare")
    print("    target: >= 1,000,000 steps/s and >= 30% of bare")
    sps = best(schedules_per_second, reps=3)
    print(f"  2-claimer race, checked {sps:>12,.0f} schedules/s  (target >= 20,000)")
    for kind, what in (
        ("asyncio", "asyncio.Lock store"),
        ("kv", "asyncio client, loopback"),
        ("trio", "trio.sleep(0) store"),
    ):
        figure = max(async_schedules_per_second(kind) for _ in range(3))
        print(f"    same race, {what:<24} {figure:>8,.0f} schedules/s  (event-loop control)")
    exhaustive = explore("claim-race", "rcw-memory", "exhaustive", budget=None).schedules
    print("schedules to the first double assignment on the control (claim-race x2, 100 seeds)")
    for strategy in ("random", "pct"):
        found = schedules_to_first_finding(strategy)
        print(
            f"  {strategy:<10} median {statistics.median(found):>4}  max {max(found):>4}  "
            f"mean {statistics.mean(found):.2f}"
        )
    print(f"  exhaustive (deterministic DFS, sleep sets): schedule #{exhaustive}")


if __name__ == "__main__":
    main()
