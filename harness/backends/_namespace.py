"""A fresh, empty store inside a shared one: every partition key gets a private prefix.

Exploring schedules needs a new empty store per schedule.  For a server-backed store, a new
database or container per schedule costs far more than the schedule itself, so the harness
gives each schedule its own namespace of partitions in one shared container instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from typing import Self

import attrs

from stores import Doc
from stores import Expected
from stores import Store
from stores import StoreWrapper
from stores import Updated
from stores import UpdateResult

__all__ = ["NamespacedStore"]


class NamespacedStore(StoreWrapper):
    """``inner`` seen through partition keys ``<prefix>~<partition_key>``.

    Adds no scheduling point: each call is exactly one call of ``inner``.  Documents come back
    with the caller's partition key.  A fork keeps the prefix over the fork of ``inner``.
    """

    def __init__(self, inner: Store, prefix: str) -> None:
        super().__init__(inner)
        self.prefix = prefix

    def _rewrap(self, inner: Store) -> Self:
        return type(self)(inner, self.prefix)

    def _pk(self, partition_key: str) -> str:
        return f"{self.prefix}~{partition_key}"

    def _out(self, doc: Doc | None, partition_key: str) -> Doc | None:
        return None if doc is None else attrs.evolve(doc, partition_key=partition_key)

    async def create(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        doc = await self.inner.create(id, self._pk(partition_key), body)
        return attrs.evolve(doc, partition_key=partition_key)

    async def get(self, id: str, partition_key: str) -> Doc | None:
        return self._out(await self.inner.get(id, self._pk(partition_key)), partition_key)

    async def replace(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        doc = await self.inner.replace(id, self._pk(partition_key), body)
        return attrs.evolve(doc, partition_key=partition_key)

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        result = await self.inner.update_if_match(id, self._pk(partition_key), expected, patch)
        if isinstance(result, Updated):
            return Updated(doc=attrs.evolve(result.doc, partition_key=partition_key))
        return result

    async def delete(self, id: str, partition_key: str) -> bool:
        return await self.inner.delete(id, self._pk(partition_key))

    async def list_partition(self, partition_key: str) -> list[Doc]:
        docs = await self.inner.list_partition(self._pk(partition_key))
        return [attrs.evolve(d, partition_key=partition_key) for d in docs]
