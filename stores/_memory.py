"""The in-process store: atomic because its compare-and-set has no await inside it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._contract import Conflict
from ._contract import Doc
from ._contract import DocumentExists
from ._contract import DocumentNotFound
from ._contract import Expected
from ._contract import NotFound
from ._contract import Updated
from ._contract import UpdateResult
from ._contract import document_key
from ._contract import freeze_body
from ._contract import is_flat
from ._contract import private_body
from ._contract import validate_expected
from ._contract import validate_key
from ._contract import validate_patch
from ._points import checkpoint

__all__ = ["MemoryStore"]


class MemoryStore:
    """A dict of documents; every operation is one scheduling point, then one synchronous block.

    Atomicity argument: a coroutine can only be interrupted at an ``await``.  Each operation
    awaits its scheduling point first and then reads, compares and writes without awaiting again,
    so no other operation can observe or change the document in between.

    Tokens are deterministic (no uuid, no clock): ``rev`` comes from a per-id counter kept across
    deletes, the etag from a store-wide write counter, so two runs of one schedule produce the
    same documents.

    Bodies are copied on the way in (:func:`freeze_body`) and read-only on the way out.  A
    flat body (scalars only, every coordinator document) is handed out as stored: nothing in it
    can change.  A body holding lists or mappings is handed out as a private deep copy, since
    a caller could change a list nested in a read-only mapping.

    ``fork()`` returns an independent copy (documents are immutable, so a shallow copy of the
    maps is enough); the harness uses it to run a scenario's set-up once per exploration.
    """

    def __init__(self) -> None:
        self._docs: dict[tuple[str, str], Doc] = {}
        self._last_rev: dict[tuple[str, str], int] = {}
        self._writes = 0
        #: Documents whose bodies hold lists or mappings (handed out as copies).
        self._nested: set[tuple[str, str]] = set()

    def fork(self) -> MemoryStore:
        twin = MemoryStore()
        twin._docs = dict(self._docs)
        twin._last_rev = dict(self._last_rev)
        twin._writes = self._writes
        twin._nested = set(self._nested)
        return twin

    def _write(self, key: tuple[str, str], body: Mapping[str, Any]) -> Doc:
        rev = self._last_rev.get(key, 0) + 1
        self._last_rev[key] = rev
        self._writes += 1
        doc = Doc(id=key[1], partition_key=key[0], body=body, etag=f"m{self._writes}", rev=rev)
        self._docs[key] = doc
        if is_flat(body):
            self._nested.discard(key)
            return doc
        self._nested.add(key)
        return self._out(doc)

    def _out(self, doc: Doc) -> Doc:
        """``doc`` as handed to a caller: a copy when its body holds something mutable."""
        if (doc.partition_key, doc.id) not in self._nested:
            return doc
        return Doc(
            id=doc.id,
            partition_key=doc.partition_key,
            body=private_body(doc.body),
            etag=doc.etag,
            rev=doc.rev,
        )

    async def create(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        key = document_key(id, partition_key)
        frozen = freeze_body(body)
        await checkpoint("create", partition_key, id, True)
        if key in self._docs:
            raise DocumentExists(f"document {id!r} already exists in partition {partition_key!r}")
        return self._write(key, frozen)

    async def get(self, id: str, partition_key: str) -> Doc | None:
        key = document_key(id, partition_key)
        await checkpoint("get", partition_key, id, False)
        doc = self._docs.get(key)
        return doc if doc is None or key not in self._nested else self._out(doc)

    async def replace(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        key = document_key(id, partition_key)
        frozen = freeze_body(body)
        await checkpoint("replace", partition_key, id, True)
        if key not in self._docs:
            raise DocumentNotFound(f"document {id!r} not found in partition {partition_key!r}")
        return self._write(key, frozen)

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        key = document_key(id, partition_key)
        validate_expected(expected)
        validate_patch(patch)
        await checkpoint("update_if_match", partition_key, id, True)
        # From here to the return there is no await: compare and set are one atomic step.
        current = self._docs.get(key)
        if current is None:
            return NotFound()
        if not expected.matches(current):
            return Conflict()
        return Updated(doc=self._write(key, freeze_body({**current.body, **patch})))

    async def delete(self, id: str, partition_key: str) -> bool:
        key = document_key(id, partition_key)
        await checkpoint("delete", partition_key, id, True)
        return self._docs.pop(key, None) is not None

    async def list_partition(self, partition_key: str) -> list[Doc]:
        validate_key("partition_key", partition_key)
        await checkpoint("list_partition", partition_key, None, False)
        return sorted(
            (self._out(doc) for (pk, _), doc in self._docs.items() if pk == partition_key),
            key=lambda d: d.id,
        )
