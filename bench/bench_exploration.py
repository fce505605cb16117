"""Exploration at scale: proofs by size, schedules/s at 32 actors, shrinking, sharding.

Prints each figure next to its target (issue 13) and, where there is one, a reference measured
in the same run.  Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import functools
import multiprocessing
import statistics
import time
from typing import Any
from unittest import mock

from harness import explore
from harness.explore import _explore
from harness.runtime import ExhaustiveScheduler
from harness.runtime import Shard
from stores import MemoryStore
from stores import StoreWrapper


def _timed(size: int, **options: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = explore("claim-race", "memory", "exhaustive", size=size, **options)
    return result, time.perf_counter() - started


def proofs() -> None:
    print(
        "exhaustive proof of claim-race on memory: effect-aware sleep sets + symmetry over "
        "started claimers, beside symmetry off and the label-only sleep sets of before"
    )
    for size in (2, 3, 4, 5, 6, 8, 10):
        reduced, took = _timed(size, budget=None, count_naive=size <= 4)
        line = f"  {size:>2} claimers: {reduced.schedules:>6,} schedules ({reduced.pruned:,} pruned), {took:6.2f} s"
        if reduced.naive_schedules is not None:
            line += f", unreduced {reduced.naive_schedules:,}"
        plain, plain_took = _timed(size, budget=20_000, symmetry=False)
        line += f"; symmetry off: {plain.schedules:,} in {plain_took:.2f} s (x{plain.schedules / reduced.schedules:.0f})"
        if not plain.complete:
            line += " not finished"
        if size <= 6:
            old, old_took = _timed(size, budget=20_000, symmetry=False, factory=_unprobed)
            done = "" if old.complete else " (budget spent, not finished)"
            line += f"; label-only sleep sets: {old.schedules:,} in {old_took:.2f} s{done}"
        print(line + ("  proven" if reduced.complete else ""))
    print("  target: 10 claimers proven in under 10 s")
    started = time.perf_counter()
    found = explore("claim-race", "rcw-memory", "exhaustive", size=10, budget=5000, shrink=False)
    print(
        f"  10 claimers on rcw-memory: caught at schedule #{found.schedules} "
        f"in {time.perf_counter() - started:.2f} s"
    )


def dpor() -> None:
    print(
        "source-set DPOR vs sleep sets alone, claim-race on memory, symmetry off "
        "(started runs = schedules + pruned)"
    )
    sleep_sets = functools.partial(ExhaustiveScheduler, dpor=False)
    for size in (4, 5, 6, 7, 8):
        line = f"  {size} claimers:"
        for name, patch in (("DPOR", None), ("sleep sets", sleep_sets)):
            with mock.patch.object(_explore, "ExhaustiveScheduler", patch or ExhaustiveScheduler):
                result, took = _timed(size, budget=None, symmetry=False)
            line += (
                f" {name} {result.schedules:,} + {result.pruned:,} pruned "
                f"= {result.schedules + result.pruned:,} runs in {took:.2f} s;"
            )
        print(line.rstrip(";"))


def _unprobed(wrap: Any) -> Any:
    """A memory store the effect probe does not recognise (it cannot fork): every write
    counts as its label says, as before issue 13's effect-aware reduction."""
    return _NoFork(wrap(MemoryStore()))


class _NoFork(StoreWrapper):
    forkable = False


def throughput() -> None:
    for size in (2, 32):
        started = time.perf_counter()
        result = explore("claim-race", "memory", "random", size=size, budget=2000)
        rate = result.schedules / (time.perf_counter() - started)
        print(f"claim-race x{size}, random, checked: {rate:9,.0f} schedules/s", end="")
        print("  (target >= 5,000 at 32 actors)" if size == 32 else "  (reference)")


def shrinking() -> None:
    lengths, times, originals = [], [], []
    for seed in range(20):
        started = time.perf_counter()
        cx = explore("multi-job", "rcw-memory", "random", seed=seed, budget=500).counterexample
        times.append(time.perf_counter() - started)
        assert cx is not None
        lengths.append(len(cx.trace))
        originals.append(len((cx.original or cx).trace))
    print(
        f"shrinking multi-job findings, 20 seeds: median printed trace {statistics.median(lengths)} "
        f"steps (first found: median {statistics.median(originals)}), worst {max(times):.2f} s "
        "per finding (target: median <= 12 steps, < 2 s each)"
    )


def _part(args: tuple[int, int, int]) -> int:
    index, count, budget = args
    shard = Shard(index, count) if count > 1 else None
    return explore("multi-job", "memory", "random", budget=budget, shard=shard).schedules


def sharding() -> None:
    budget = 20_000
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pool.map(_part, [(0, 1, 10), (0, 1, 10)])  # warm both workers
        started = time.perf_counter()
        one = pool.map(_part, [(0, 1, budget)])[0]
        single = one / (time.perf_counter() - started)
        started = time.perf_counter()
        both = sum(pool.map(_part, [(0, 2, budget), (1, 2, budget)]))
        sharded = both / (time.perf_counter() - started)
    print(
        f"sharded random multi-job, {budget:,} schedules: 1 worker {single:,.0f}/s, "
        f"2 workers {sharded:,.0f}/s = {sharded / single:.2f}x (target >= 1.7x on 2 cores)"
    )


if __name__ == "__main__":
    dpor()
    proofs()
    throughput()
    shrinking()
    sharding()
