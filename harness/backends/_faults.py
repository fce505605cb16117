"""A fault layer for any store: every fault decision comes from the scheduler.

``FaultyStore(inner)`` sits between the coordinator and a real store.  Before each operation it
draws one choice in ``range(20)`` -- from the controlled run's scheduler when there is one (so
the choice is recorded in the schedule token, replayed exactly, and shrunk by Hypothesis), else
from its own ``random.Random(seed)``:

====  ===========================================================================
0-15  no fault
16    added latency: an extra scheduling point before the operation, which widens
      every race window
17    unavailable (a 429/503 the client gave up on): ``StoreUnavailable``, NOT applied
18    response lost after the store applied the write: ``OutcomeUnknown``
19    applied, then the client's automatic retry of it answered ``412``: the caller
      sees ``Conflict`` although its write won (reads: treated as 18)
====  ===========================================================================

Choice 0 is "no fault", so a shrunk counterexample keeps only the faults it needs.  Faults 18
and 19 apply only to writes; a read with those draws just loses its response.

Outside a controlled run (set-up, the harness's own reads of the final state, sequential
state-machine steps) no fault is injected, unless ``outside_runs=True`` (for trio runs and
standalone use), and then the decisions come from ``random.Random(seed)``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any
from typing import Self

from stores import Conflict
from stores import Doc
from stores import Expected
from stores import OutcomeUnknown
from stores import Store
from stores import StoreUnavailable
from stores import StoreWrapper
from stores import Updated
from stores import UpdateResult
from stores import checkpoint

from ..runtime import choose

__all__ = ["FAULT_CHOICES", "FaultyStore"]

FAULT_CHOICES = 20
_LATENCY, _UNAVAILABLE, _LOST, _MISLEADING = 16, 17, 18, 19


class FaultyStore(StoreWrapper):
    """Injects scheduler-chosen faults around ``inner`` (see the module docstring).

    A fork faults like this store from its first decision on: same seed, no faults injected yet.
    """

    injects_faults = True

    def __init__(self, inner: Store, *, seed: int = 0, outside_runs: bool = False) -> None:
        super().__init__(inner)
        self.seed = seed
        self.outside_runs = outside_runs
        self._rng = random.Random(seed)
        self.injected: list[str] = []

    def _rewrap(self, inner: Store) -> Self:
        return type(self)(inner, seed=self.seed, outside_runs=self.outside_runs)

    async def _draw(self, op: str, partition_key: str, id: str | None) -> int:
        value = choose(FAULT_CHOICES, ordinary=_LATENCY)
        if value is None:
            value = self._rng.randrange(FAULT_CHOICES) if self.outside_runs else 0
        if value == _LATENCY:
            self.injected.append(f"latency before {op}({id})")
            await checkpoint("delay", partition_key, id, False)
        elif value == _UNAVAILABLE:
            self.injected.append(f"unavailable: {op}({id}) not applied")
            raise StoreUnavailable(f"injected fault: {op}({id}) refused (503), not applied")
        return value

    def _after_write(self, value: int, op: str, id: str) -> None:
        if value in (_LOST, _MISLEADING):
            self.injected.append(f"response lost after {op}({id}) applied")
            raise OutcomeUnknown(f"injected fault: response to {op}({id}) lost after it applied")

    async def create(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        value = await self._draw("create", partition_key, id)
        doc = await self.inner.create(id, partition_key, body)
        self._after_write(value, "create", id)
        return doc

    async def get(self, id: str, partition_key: str) -> Doc | None:
        value = await self._draw("get", partition_key, id)
        doc = await self.inner.get(id, partition_key)
        if value in (_LOST, _MISLEADING):
            self.injected.append(f"response lost: get({id})")
            raise OutcomeUnknown(f"injected fault: response to get({id}) lost")
        return doc

    async def replace(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        value = await self._draw("replace", partition_key, id)
        doc = await self.inner.replace(id, partition_key, body)
        self._after_write(value, "replace", id)
        return doc

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        value = await self._draw("update_if_match", partition_key, id)
        result = await self.inner.update_if_match(id, partition_key, expected, patch)
        if value == _MISLEADING and isinstance(result, Updated):
            # What the Cosmos SDK does on a 503 after the first attempt applied: it retries the
            # conditional replace, the retry finds the new etag and answers 412.
            self.injected.append(f"update_if_match({id}) applied, then its retry answered 412")
            return Conflict()
        self._after_write(value, "update_if_match", id)
        return result

    async def delete(self, id: str, partition_key: str) -> bool:
        value = await self._draw("delete", partition_key, id)
        done = await self.inner.delete(id, partition_key)
        self._after_write(value, "delete", id)
        return done

    async def list_partition(self, partition_key: str) -> list[Doc]:
        value = await self._draw("list_partition", partition_key, None)
        docs = await self.inner.list_partition(partition_key)
        if value in (_LOST, _MISLEADING):
            raise OutcomeUnknown(f"injected fault: response to list({partition_key}) lost")
        return docs
