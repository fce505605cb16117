"""True concurrency against Cosmos: trio tasks whose store calls run in worker threads.

The compare-and-set must hold when the requests really overlap at the server: of N tasks that
present the same token, exactly one writes.  The control (``ReadCheckWriteStore`` over the same
CosmosStore) must lose updates: a barrier after the reads makes every racer read before any
writes, so the race is reliable without sleeps.
"""

from __future__ import annotations

import pytest
import trio

from stores import Conflict
from stores import Doc
from stores import Expected
from stores import ReadCheckWriteStore
from stores import Store
from stores import StoreWrapper
from stores import Updated
from stores import UpdateResult
from stores.cosmos import CosmosStore

RACERS = 12
TRIALS = 20


async def race(store: Store, pk: str, doc: Doc, expected: Expected) -> list[UpdateResult]:
    results: list[UpdateResult] = []

    async def racer(i: int) -> None:
        results.append(await store.update_if_match(doc.id, pk, expected, {"owner": f"w{i}"}))

    async with trio.open_nursery() as nursery:
        for i in range(RACERS):
            nursery.start_soon(racer, i)
    return results


@pytest.mark.parametrize("which", ["rev", "etag", "both"])
def test_twelve_concurrent_cas_with_one_token_exactly_one_wins(
    cosmos_store: CosmosStore, pk: str, which: str
) -> None:
    async def main() -> tuple[Doc, list[UpdateResult], Doc | None]:
        doc = await cosmos_store.create("job", pk, {"owner": None})
        expected = {
            "rev": Expected(rev=doc.rev),
            "etag": Expected(etag=doc.etag),
            "both": Expected(etag=doc.etag, rev=doc.rev),
        }[which]
        results = await race(cosmos_store, pk, doc, expected)
        return doc, results, await cosmos_store.get("job", pk)

    doc, results, final = trio.run(main)
    winners = [r for r in results if isinstance(r, Updated)]
    assert len(results) == RACERS
    assert len(winners) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == RACERS - 1
    assert final == winners[0].doc
    assert final.rev == doc.rev + 1


class ReadBarrier(StoreWrapper):
    """Delegates to ``inner``; each ``get`` returns only once ``parties`` gets have read.

    Test scaffolding for the control: it puts every racer's read before any racer's write,
    the interleaving that exposes a read-check-write compare-and-set.
    """

    def __init__(self, inner: Store, parties: int) -> None:
        super().__init__(inner)
        self.parties = parties
        self.arrived = 0
        self.all_read = trio.Event()

    async def get(self, id: str, partition_key: str) -> Doc | None:
        doc = await self.inner.get(id, partition_key)
        self.arrived += 1
        if self.arrived >= self.parties:
            self.all_read.set()
        await self.all_read.wait()
        return doc


def test_control_over_cosmos_lets_more_than_one_racer_win(
    cosmos_store: CosmosStore, pk: str
) -> None:
    async def trial(n: int) -> list[UpdateResult]:
        doc = await cosmos_store.create(f"job-{n}", pk, {"owner": None})
        control = ReadCheckWriteStore(ReadBarrier(cosmos_store, RACERS))
        return await race(control, pk, doc, Expected(rev=doc.rev))

    wins = []
    for n in range(TRIALS):
        wins.append(sum(r.ok for r in trio.run(trial, n)))
        if wins[-1] > 1:
            break
    assert max(wins) > 1, f"the control never lost an update in {TRIALS} trials: {wins}"
