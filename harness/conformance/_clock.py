"""Logical time for the register histories of the linearizability check (``_checks``).

A history needs invoke and return times in real order; here they come from counting the
store operations completed so far, through a wrapper around the store under test.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stores import Doc
from stores import Expected
from stores import Store
from stores import StoreWrapper
from stores import UpdateResult

__all__ = ["CountingStore", "HistoryClock"]


class HistoryClock:
    """Logical time: the number of store operations completed so far.

    A return is stamped ``2k`` and an invoke ``2k + 1`` (k = operations completed), so an
    operation that returned before another was invoked is strictly earlier, even though both
    happened "at" k: the checker's intervals are closed.
    """

    def __init__(self) -> None:
        self.completed = 0

    def invoke_time(self) -> int:
        return 2 * self.completed + 1

    def return_time(self) -> int:
        return 2 * self.completed


class CountingStore(StoreWrapper):
    """Counts completed operations of ``inner`` for :class:`HistoryClock`; adds no scheduling point."""

    # The clock times one batch: a copy counting into it, or into a clock of its own, would
    # stamp a history it does not belong to.
    forkable = False

    def __init__(self, inner: Store, clock: HistoryClock) -> None:
        super().__init__(inner)
        self.clock = clock

    async def _count(self, coro: Any) -> Any:
        try:
            return await coro
        finally:
            self.clock.completed += 1

    async def create(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        doc: Doc = await self._count(self.inner.create(id, partition_key, body))
        return doc

    async def get(self, id: str, partition_key: str) -> Doc | None:
        doc: Doc | None = await self._count(self.inner.get(id, partition_key))
        return doc

    async def replace(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        doc: Doc = await self._count(self.inner.replace(id, partition_key, body))
        return doc

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        result: UpdateResult = await self._count(
            self.inner.update_if_match(id, partition_key, expected, patch)
        )
        return result

    async def delete(self, id: str, partition_key: str) -> bool:
        done: bool = await self._count(self.inner.delete(id, partition_key))
        return done

    async def list_partition(self, partition_key: str) -> list[Doc]:
        docs: list[Doc] = await self._count(self.inner.list_partition(partition_key))
        return docs
