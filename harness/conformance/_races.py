"""Races: compare-and-set and create, under true concurrency and under controlled schedules.

Under trio every racer is a task; a store that does blocking I/O through ``stores.run_io`` runs
each call in a worker thread, so the calls really overlap.  Under control, a create race is an
ad-hoc fleet workload (N clients enqueue the same job id) explored exhaustively: a store whose
create checks and then inserts lets two clients both be told "enqueued", which no order of the
calls explains, and the finding replays exactly with ``claimcheck replay``.

Ids come in several shapes: a plain id, a run id as the coordinator makes them
(``j1~run~1``), ids with other separators, non-ASCII ids and a long one.  A store can be
atomic for one shape and not for another (one that routes ids with a separator through another
code path, say).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable
from collections.abc import Callable

import trio

from models import Enqueue
from models import FleetState
from stores import DocumentExists
from stores import Expected
from stores import Store

from ..explore import ScheduleFinding
from ..explore import adhoc_scenario
from ..explore import explore
from ..runtime import drive
from ._cases import expect
from ._labels import plain
from ._parallel import Pool
from ._stores import Keeper

__all__ = ["ID_SHAPES", "check_atomicity", "check_create_race", "check_create_schedules"]

#: The shapes of id every create race is run with.
ID_SHAPES = ("j1", "j1~run~1", "a:b|c d.e", "ü-ñ~é", "long-" + "x" * 120)


def first_error(error: BaseException) -> BaseException:
    """The first leaf of an exception group (a nursery's racers): the one to report."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


def race(racers: int, fn: Callable[[int], Awaitable[None]]) -> None:
    """Run ``fn(i)`` for ``i`` in ``range(racers)`` as trio tasks; raise the first failure."""

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            for i in range(racers):
                nursery.start_soon(fn, i)

    try:
        trio.run(main)
    except BaseExceptionGroup as group:
        raise first_error(group) from None


def check_atomicity(keeper: Keeper, trials: int = 5, racers: int = 12) -> str:
    """12 tasks read one document, then race ``update_if_match`` with the same token."""
    for trial in range(trials):
        with keeper.opened() as store:
            drive(store.create("race", "p", {"n": 0}))
            read_all = _Gate(racers)
            won: list[int] = []

            async def racer(
                i: int, store: Store = store, gate: _Gate = read_all, won: list[int] = won
            ) -> None:
                seen = await store.get("race", "p")
                assert seen is not None
                await gate.arrive()
                result = await store.update_if_match(
                    "race", "p", Expected(etag=seen.etag, rev=seen.rev), {"n": i}
                )
                if result.ok:
                    won.append(i)

            race(racers, racer)
            expect(
                len(won) == 1,
                f"trial {trial + 1}: {len(won)} of {racers} concurrent update_if_match calls "
                "with the same token succeeded; exactly one may (the compare-and-set is not "
                "atomic)",
            )
    return f"{trials} trials x {racers} racers: exactly 1 winner each"


class _Gate:
    """Releases every waiter once ``count`` have arrived (so that the racers start together)."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.event: trio.Event | None = None

    async def arrive(self) -> None:
        if self.event is None:
            self.event = trio.Event()
        self.count -= 1
        if self.count == 0:
            self.event.set()
        await self.event.wait()


def check_create_race(keeper: Keeper, pool: Pool, trials: int = 3, racers: int = 12) -> str:
    """``racers`` tasks create the same id at once, for every id shape: exactly one may win,
    every other must raise ``DocumentExists``, and the document is the winner's."""

    def shape(id: str) -> None:
        for trial in range(trials):
            with keeper.opened() as store:
                won: list[int] = []
                gate = _Gate(racers)

                async def racer(
                    i: int, store: Store = store, gate: _Gate = gate, won: list[int] = won
                ) -> None:
                    await gate.arrive()
                    try:
                        await store.create(id, "p", {"by": i})
                    except DocumentExists:
                        return
                    won.append(i)

                race(racers, racer)
                expect(
                    len(won) == 1,
                    f"id {id!r}, trial {trial + 1}: {len(won)} of {racers} concurrent creates "
                    f"of one id succeeded ({', '.join(f'racer {i}' for i in won) or 'none'}); "
                    "exactly one may, the others must raise DocumentExists (create must check "
                    "and insert in one atomic step)",
                )
                listed = [(d.id, plain(d.body)) for d in drive(store.list_partition("p"))]
                expect(
                    listed == [(id, {"by": won[0]})],
                    f"id {id!r}, trial {trial + 1}: racer {won[0]} won the create, but the "
                    f"partition holds {listed}",
                )

    pool.map(shape, ID_SHAPES)
    return f"{len(ID_SHAPES)} id shapes x {trials} trials x {racers} racers: exactly 1 winner each"


def check_create_schedules(
    keeper: Keeper, pool: Pool, name: str, budget: int, clients: int = 3
) -> tuple[str, int]:
    """For every id shape, ``clients`` clients enqueue the same job id; every schedule (up to
    ``budget`` per shape) must be explained by the reference model."""
    per_shape = max(10, math.ceil(budget / len(ID_SHAPES)))

    def shape(id: str) -> tuple[int, bool, ScheduleFinding | None]:
        scenario = adhoc_scenario(
            FleetState(), [(f"c{i}", [Enqueue(job_id=id)]) for i in range(clients)]
        )
        with keeper.exploring() as factory:
            result = explore(scenario.name, name, "exhaustive", budget=per_shape, factory=factory)
        if result.counterexample is not None:
            return result.schedules, False, ScheduleFinding(result.counterexample)
        return result.schedules, result.complete, None

    results = pool.map(shape, ID_SHAPES, stop=lambda r: r[2] is not None)
    if results[-1][2] is not None:
        raise results[-1][2]
    schedules = sum(n for n, _, _ in results)
    complete = sum(done for _, done, _ in results)
    return (
        f"{len(ID_SHAPES)} id shapes x {clients} clients enqueueing one job: {schedules} "
        f"schedules ({complete} of {len(ID_SHAPES)} searches complete), no violation",
        schedules,
    )
