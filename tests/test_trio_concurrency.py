"""True concurrency in a trio nursery: the analogue of ``await Promise.all([...])``.

Each test runs the correct store and asserts the property, and runs the control
(``ReadCheckWriteStore``) and asserts the property BREAKS in at least one of a fixed set of
seeded trials -- which shows the same test would have failed on the pre-fix code.  Trials vary
only by how many extra trio checkpoints each task waits before it starts (drawn from
``random.Random(seed)``); trial 0 starts every task together.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

import trio

from fleet import Coordinator
from fleet import FleetResult
from fleet import run_id
from stores import MemoryStore
from stores import ReadCheckWriteStore
from stores import Store

SEEDS = range(20)


def offsets(seed: int, n: int) -> list[int]:
    rng = random.Random(seed)
    return [0] * n if seed == 0 else [rng.randint(0, 3) for _ in range(n)]


async def gather(calls: Sequence[Callable[[], Awaitable[Any]]], delays: list[int]) -> list[Any]:
    results: list[Any] = [None] * len(calls)

    async def one(i: int) -> None:
        for _ in range(delays[i]):
            await trio.lowlevel.checkpoint()
        results[i] = await calls[i]()

    async with trio.open_nursery() as nursery:
        for i in range(len(calls)):
            nursery.start_soon(one, i)
    return results


def claim_race(store: Store, n: int, seed: int) -> tuple[list[FleetResult], Coordinator]:
    coord = Coordinator(store)

    async def main() -> list[FleetResult]:
        await coord.enqueue_job("j1")
        calls = [(lambda w=f"w{i}": coord.try_claim_job("j1", w, now=0, ttl=10)) for i in range(n)]
        return await gather(calls, offsets(seed, n))

    return trio.run(main), coord


def docs(coord: Coordinator) -> dict[str, Any]:
    return {d.id: d.body for d in trio.run(coord.list_documents)}


def test_two_claims_of_one_job_exactly_one_wins() -> None:
    for seed in SEEDS:
        results, coord = claim_race(MemoryStore(), 2, seed)
        kinds = sorted(r.kind for r in results)
        winners = [r for r in results if r.kind == "claimed"]
        assert len(winners) == 1, (seed, results)
        if seed == 0:  # both read before either wrote: the loser's CAS must conflict
            assert kinds == ["claimed", "conflict"]
        (won,) = winners
        assert won.epoch == 1
        assert won.lease is not None
        state = docs(coord)
        job = state["j1"]
        assert (job["status"], job["epoch"], job["worker"]) == ("leased", 1, won.lease.worker_id)
        runs = [body for body in state.values() if body["kind"] == "run"]
        assert runs == [state[run_id("j1", 1)]]
        assert runs[0]["worker"] == won.lease.worker_id


def test_two_claims_double_assign_on_the_control() -> None:
    doubled = 0
    for seed in SEEDS:
        results, _ = claim_race(ReadCheckWriteStore(MemoryStore()), 2, seed)
        doubled += sum(r.kind == "claimed" for r in results) == 2
    assert doubled > 0, "the control never double-assigned: the test could not catch the bug"


def test_ten_concurrent_claims_one_ok_nine_conflicts() -> None:
    for seed in SEEDS:
        results, coord = claim_race(MemoryStore(), 10, seed)
        assert sum(r.ok for r in results) == 1, (seed, results)
        if seed == 0:
            assert sum(r.kind == "conflict" for r in results) == 9
        assert sum(body["kind"] == "run" for body in docs(coord).values()) == 1


def test_ten_concurrent_claims_several_win_on_the_control() -> None:
    worst = max(
        sum(r.ok for r in claim_race(ReadCheckWriteStore(MemoryStore()), 10, seed)[0])
        for seed in SEEDS
    )
    assert worst > 1


def renewal_race(store: Store, seed: int) -> tuple[list[Any], dict[str, Any]]:
    """A holds epoch 1 until t=10.  Concurrently: A (slow clock, t=9) renews twice, B claims
    at t=10, and a reaper runs at t=10."""
    coord = Coordinator(store)

    async def main() -> list[Any]:
        await coord.enqueue_job("j1")
        await coord.try_claim_job("j1", "A", now=0, ttl=10)
        calls: list[Callable[[], Awaitable[Any]]] = [
            lambda: coord.renew_lease("j1", "A", 1, now=9, ttl=10),
            lambda: coord.renew_lease("j1", "A", 1, now=9, ttl=20),
            lambda: coord.try_claim_job("j1", "B", now=10, ttl=10),
            lambda: coord.reap_expired(10),
        ]
        return await gather(calls, offsets(seed, 4))

    results = trio.run(main)
    return results, docs(coord)


def renewal_violations(results: list[Any], state: dict[str, Any]) -> list[str]:
    renew1, renew2, claim, reaped = results
    job = state["j1"]
    problems = []
    renewed = [r for r in (renew1, renew2) if r.kind == "renewed"]
    if renewed and claim.kind == "claimed":
        problems.append("A renewed epoch 1 and B claimed epoch 2: two live leases")
    if claim.kind == "claimed" and (job["worker"], job["epoch"]) != ("B", 2):
        problems.append(f"B won epoch 2 but the job says {job['worker']} epoch {job['epoch']}")
    if renewed and claim.kind != "claimed" and job["worker"] != "A":
        problems.append("A renewed but the job is not held by A")
    if reaped and renewed and job["worker"] == "A" and job["status"] != "leased":
        problems.append("A renewed but the job was requeued")
    runs = sorted(body["epoch"] for body in state.values() if body["kind"] == "run")
    if runs != list(range(1, job["epoch"] + 1)):
        problems.append(f"runs {runs} for epoch {job['epoch']}")
    return problems


def test_lease_renewal_under_contention_keeps_one_holder() -> None:
    for seed in SEEDS:
        results, state = renewal_race(MemoryStore(), seed)
        assert renewal_violations(results, state) == [], (seed, results, state)


def test_lease_renewal_under_contention_breaks_the_control() -> None:
    broken = [
        seed
        for seed in SEEDS
        if renewal_violations(*renewal_race(ReadCheckWriteStore(MemoryStore()), seed))
    ]
    assert broken, "the control kept one holder in every trial: the test could not catch it"
