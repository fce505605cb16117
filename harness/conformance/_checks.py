"""The exploring checks: controlled schedules of the fleet's scenarios and register histories.

Each takes the run's :class:`Keeper` (fresh validated stores, released after each schedule)
and its :class:`Pool`.  A budget is cut into fixed pieces of :data:`PIECE` schedules, each
explored with a seed of its own on stores of its own, so that a backend that waits on I/O
explores several pieces at once; the pieces depend on the seed and budget only, so the verdict
does not depend on how many run at once.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

import attrs

from models import CasRegisterModel
from models import RegCas
from models import RegCasResult
from models import RegGet
from models import RegPut
from models import RegValue
from models import RegWritten
from stores import Expected
from stores import Store
from stores import Updated

from ..backends import FaultyStore
from ..check import HistoryRecorder
from ..check import Operation
from ..check import check_operations
from ..explore import Exploration
from ..explore import ScheduleFinding
from ..explore import explore
from ..explore import scenario_names
from ..runtime import ActorError
from ..runtime import drive
from ..runtime import run_actors
from ..runtime.schedulers import RandomScheduler
from ._clock import CountingStore
from ._clock import HistoryClock
from ._labels import LabelAudit
from ._labels import dishonest
from ._parallel import Pool
from ._parallel import pieces
from ._stores import Keeper

__all__ = [
    "PIECE",
    "Passed",
    "check_exploration",
    "check_faults",
    "check_fleet",
    "check_linearizability",
    "piece_seed",
]

#: Schedules per piece of an exploring check's budget: small enough that a default budget
#: keeps every worker of a slow backend busy, large enough that a piece's verdict memo pays.
PIECE = 10


@attrs.frozen(kw_only=True)
class Passed:
    """What a check that passed saw: a sentence, and the schedules it explored (if any)."""

    evidence: str
    schedules: int | None = None


def piece_seed(seed: int, piece: int) -> int:
    """The seed of piece ``piece`` of a run with ``seed`` (piece 0 explores with ``seed``)."""
    return seed * 1000 + piece


def _explore(
    scenarios: Sequence[str],
    strategy: str,
    keeper: Keeper,
    pool: Pool,
    seed: int,
    budget: int,
    name: str,
    *,
    faults: bool = False,
) -> int:
    """Explore each scenario with ``budget`` schedules, in pieces; the schedules explored.

    Raises the first counterexample (scenario by scenario, piece by piece), numbered as if the
    pieces had run one after the other.
    """

    def piece(item: tuple[str, int, int]) -> Exploration:
        scenario, index, count = item
        with keeper.exploring() as factory:
            made: Callable[[Any], Store] = (
                (lambda wrap: FaultyStore(factory(wrap))) if faults else factory
            )
            return explore(
                scenario,
                name,
                strategy,
                seed=piece_seed(seed, index),
                budget=count,
                factory=made,
            )

    cut = [
        (scenario, index, count)
        for scenario in scenarios
        for index, (_, count) in enumerate(pieces(budget, PIECE))
    ]
    results = pool.map(piece, cut, stop=lambda r: r.counterexample is not None)
    last = results[-1]
    if last.counterexample is not None:
        earlier = sum(
            r.schedules
            for r, item in zip(results[:-1], cut, strict=False)
            if item[0] == last.scenario
        )
        raise ScheduleFinding(
            attrs.evolve(
                last.counterexample,
                seed=seed,
                schedule_index=earlier + last.counterexample.schedule_index,
            )
        )
    return sum(r.schedules for r in results)


def check_exploration(
    strategy: str,
    keeper: Keeper,
    pool: Pool,
    seed: int,
    budget: int,
    name: str,
    audit: LabelAudit,
) -> Passed:
    """Random or PCT schedules of the claim race (in pieces), or its exhaustive search (one
    search: it cannot be cut), which is only called complete when every label was honest."""
    if strategy == "exhaustive":
        with keeper.exploring() as factory:
            result = explore("claim-race", name, "exhaustive", budget=budget, factory=factory)
        if result.counterexample is not None:
            raise ScheduleFinding(attrs.evolve(result.counterexample, seed=seed))
        explored, complete = result.schedules, result.complete
        problem = dishonest(audit)
        if problem is not None:
            raise AssertionError(
                f"the search {'finished' if complete else 'ran'} ({explored} schedules) with "
                f"no violation, but it cannot be trusted: {problem}"
            )
    else:
        explored = _explore(["claim-race"], strategy, keeper, pool, seed, budget, name)
        complete = False
    return Passed(
        evidence=f"{explored} schedules{' (complete)' if complete else ''}, no violation",
        schedules=explored,
    )


def _register_history(make: Callable[[], Store], seed: int) -> list[Operation[Any, Any]]:
    """One random schedule of 4 actors doing get-then-cas twice on two documents."""
    clock = HistoryClock()
    store = CountingStore(make(), clock)
    recorder = HistoryRecorder()
    keys = ("k0", "k1")
    for key in keys:
        h = recorder.invoke("setup", RegPut(key=key, value=0), time=clock.invoke_time())
        doc = drive(store.create(key, "p", {"v": 0}))
        recorder.ok(h, RegWritten(version=doc.rev), time=clock.return_time())

    def actor(name: str, key: str, value: int) -> Callable[[], Any]:
        async def run() -> None:
            for round_ in range(2):
                h = recorder.invoke(name, RegGet(key=key), time=clock.invoke_time())
                seen = await store.get(key, "p")
                assert seen is not None
                got = RegValue(value=seen.body.get("v"), version=seen.rev)
                recorder.ok(h, got, time=clock.return_time())
                new = value * 10 + round_
                cas = RegCas(key=key, expected_version=seen.rev, value=new)
                h = recorder.invoke(name, cas, time=clock.invoke_time())
                result = await store.update_if_match(key, "p", Expected(rev=seen.rev), {"v": new})
                out = (
                    RegCasResult(ok=True, version=result.doc.rev)
                    if isinstance(result, Updated)
                    else RegCasResult(ok=False)
                )
                recorder.ok(h, out, time=clock.return_time())

        return run

    actors = [actor(f"a{i}", keys[i % 2], i + 1) for i in range(4)]
    execution = run_actors(actors, RandomScheduler(seed))
    for r in execution.results:
        if isinstance(r, ActorError):
            raise r.error
    return recorder.operations()


def check_linearizability(keeper: Keeper, pool: Pool, seed: int, histories: int) -> Passed:
    """Random get / compare-and-set histories, checked against the register model."""

    def piece(start_count: tuple[int, int]) -> int:
        start, count = start_count
        total = 0
        with keeper.series() as make:
            for n in range(start, start + count):
                ops = _register_history(make, seed + n)
                total += len(ops)
                check = check_operations(CasRegisterModel(), ops, timeout=10.0)
                if not check.is_linearizable:
                    raise AssertionError(
                        f"history {n} (seed {seed + n}) is {check.verdict}: {check.explanation}"
                    )
        return total

    total = sum(pool.map(piece, pieces(histories, 2)))
    return Passed(
        evidence=f"{histories} histories, {total} operations, all linearizable",
        schedules=histories,
    )


def check_fleet(keeper: Keeper, pool: Pool, seed: int, budget: int, name: str) -> Passed:
    """Random schedules of every shipped scenario, checked against the reference model."""
    explored = _explore(scenario_names(), "random", keeper, pool, seed, budget, name)
    return Passed(
        evidence=f"{explored} schedules over {len(scenario_names())} scenarios, no violation",
        schedules=explored,
    )


def check_faults(keeper: Keeper, pool: Pool, seed: int, budget: int, name: str) -> Passed:
    """Random schedules of the claim race behind the scheduler-driven fault layer."""
    explored = _explore(["claim-race"], "random", keeper, pool, seed, budget, name, faults=True)
    return Passed(
        evidence=f"{explored} schedules with injected faults, no violation", schedules=explored
    )
