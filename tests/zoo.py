"""A zoo of broken stores: each docstring names its bug; the conformance suite must catch all.

Also two harmless wrappers (logging, renaming) that must NOT be flagged.  Each ``make_*``
function is a factory usable as ``claimcheck conformance tests.zoo:make_<name>``.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from typing import Any
from typing import Self

from harness.backends import NamespacedStore
from stores import Conflict
from stores import Doc
from stores import Expected
from stores import MemoryStore
from stores import NotFound
from stores import ReadCheckWriteStore
from stores import Store
from stores import StoreWrapper
from stores import Updated
from stores import UpdateResult
from stores import checkpoint
from stores._contract import freeze_body
from stores._contract import validate_patch


class NoTokenBump(MemoryStore):
    """Bug: writes keep the old etag and rev, so a stale token still matches (lost update)."""

    def _write(self, key: tuple[str, str], body: Mapping[str, Any]) -> Doc:
        old = self._docs.get(key)
        if old is None:
            return super()._write(key, body)
        doc = Doc(id=old.id, partition_key=old.partition_key, body=body, etag=old.etag, rev=old.rev)
        self._docs[key] = doc
        return doc


class OkWithoutWrite(MemoryStore):
    """Bug: update_if_match answers Updated on a match but never writes."""

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        await checkpoint("update_if_match", partition_key, id, True)
        current = self._docs.get((partition_key, id))
        if current is None:
            return NotFound()
        if not expected.matches(current):
            return Conflict()
        body = freeze_body({**current.body, **patch})
        return Updated(
            doc=Doc(id=id, partition_key=partition_key, body=body, etag="fake", rev=current.rev + 1)
        )


class WriteThenConflict(MemoryStore):
    """Bug: update_if_match writes on a match and then answers Conflict."""

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        result = await super().update_if_match(id, partition_key, expected, patch)
        return Conflict() if isinstance(result, Updated) else result


class NotFoundAsConflict(MemoryStore):
    """Bug: update_if_match of a missing document answers Conflict instead of NotFound."""

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        result = await super().update_if_match(id, partition_key, expected, patch)
        return Conflict() if isinstance(result, NotFound) else result


class ConflictAsNotFound(MemoryStore):
    """Bug: a stale token answers NotFound instead of Conflict."""

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        result = await super().update_if_match(id, partition_key, expected, patch)
        return NotFound() if isinstance(result, Conflict) else result


class RevRestartsAfterDelete(MemoryStore):
    """Bug: delete forgets the last rev and etag counter of the id, so a re-created document
    starts again at rev 1 with a reused etag: a pre-delete token matches again (ABA)."""

    async def delete(self, id: str, partition_key: str) -> bool:
        done = await super().delete(id, partition_key)
        self._last_rev.pop((partition_key, id), None)
        return done

    def _write(self, key: tuple[str, str], body: Mapping[str, Any]) -> Doc:
        rev = self._last_rev.get(key, 0) + 1
        self._last_rev[key] = rev
        doc = Doc(id=key[1], partition_key=key[0], body=body, etag=f"r{rev}", rev=rev)
        self._docs[key] = doc
        return doc


class StaleReadCache(MemoryStore):
    """Bug: get serves documents from a cache filled on first read and never invalidated."""

    def __init__(self) -> None:
        super().__init__()
        self._cache: dict[tuple[str, str], Doc | None] = {}

    async def get(self, id: str, partition_key: str) -> Doc | None:
        key = (partition_key, id)
        if key in self._cache:
            await checkpoint("get", partition_key, id, False)
            return self._cache[key]
        doc = await super().get(id, partition_key)
        self._cache[key] = doc
        return doc


class PatchOnStaleSnapshot(MemoryStore):
    """Bug: update_if_match compares tokens against the current document but applies the
    patch to the body this store last served to a reader (a stale snapshot), losing updates."""

    def __init__(self) -> None:
        super().__init__()
        self._served: dict[tuple[str, str], Mapping[str, Any]] = {}

    async def get(self, id: str, partition_key: str) -> Doc | None:
        doc = await super().get(id, partition_key)
        if doc is not None:
            self._served.setdefault((partition_key, id), doc.body)
        return doc

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        validate_patch(patch)
        await checkpoint("update_if_match", partition_key, id, True)
        key = (partition_key, id)
        current = self._docs.get(key)
        if current is None:
            return NotFound()
        if not expected.matches(current):
            return Conflict()
        base = self._served.get(key, current.body)
        return Updated(doc=self._write(key, freeze_body({**base, **patch})))


class CreateOverwrites(MemoryStore):
    """Bug: create of an existing id silently replaces it instead of raising DocumentExists."""

    async def create(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        await checkpoint("create", partition_key, id, True)
        return self._write((partition_key, id), freeze_body(body))


class LoggingStore(StoreWrapper):
    """Harmless: logs every call, then delegates unchanged."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.log: list[str] = []

    async def create(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        self.log.append(f"create {id}")
        return await self.inner.create(id, partition_key, body)

    async def get(self, id: str, partition_key: str) -> Doc | None:
        self.log.append(f"get {id}")
        return await self.inner.get(id, partition_key)

    async def replace(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        self.log.append(f"replace {id}")
        return await self.inner.replace(id, partition_key, body)

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        self.log.append(f"update_if_match {id}")
        return await self.inner.update_if_match(id, partition_key, expected, patch)

    async def delete(self, id: str, partition_key: str) -> bool:
        self.log.append(f"delete {id}")
        return await self.inner.delete(id, partition_key)

    async def list_partition(self, partition_key: str) -> list[Doc]:
        self.log.append(f"list {partition_key}")
        return await self.inner.list_partition(partition_key)


class RenamingStore(NamespacedStore):
    """Harmless: stores every partition under a renamed key, and maps it back on the way out."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner, "renamed")

    def _rewrap(self, inner: Store) -> Self:
        return type(self)(inner)


def make_rcw() -> Store:
    """The read-check-write control."""
    return ReadCheckWriteStore(MemoryStore())


def make_no_token_bump() -> Store:
    return NoTokenBump()


def make_ok_without_write() -> Store:
    return OkWithoutWrite()


def make_write_then_conflict() -> Store:
    return WriteThenConflict()


def make_not_found_as_conflict() -> Store:
    return NotFoundAsConflict()


def make_conflict_as_not_found() -> Store:
    return ConflictAsNotFound()


def make_rev_restarts_after_delete() -> Store:
    return RevRestartsAfterDelete()


def make_stale_read_cache() -> Store:
    return StaleReadCache()


def make_patch_on_stale_snapshot() -> Store:
    return PatchOnStaleSnapshot()


def make_create_overwrites() -> Store:
    return CreateOverwrites()


def make_logging() -> Store:
    return LoggingStore(MemoryStore())


def make_renaming() -> Store:
    return RenamingStore(MemoryStore())


def make_memory() -> Store:
    return MemoryStore()


def make_garbage() -> Store:
    """Bug: get returns a plain dict instead of a Doc."""

    class Garbage(MemoryStore):
        async def get(self, id: str, partition_key: str) -> Doc | None:
            doc = await super().get(id, partition_key)
            return None if doc is None else {"id": doc.id}  # type: ignore[return-value]

    return Garbage()


def make_raiser() -> Store:
    """Bug: update_if_match raises a KeyError (not part of the contract)."""

    class Raiser(MemoryStore):
        async def update_if_match(
            self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
        ) -> UpdateResult:
            raise KeyError("internal index corrupted")

    return Raiser()


def make_exiter() -> Store:
    """Bug: get calls sys.exit(3) (a client library that gives up on the process)."""
    import sys

    class Exiter(MemoryStore):
        async def get(self, id: str, partition_key: str) -> Doc | None:
            sys.exit(3)

    return Exiter()


def make_hanger() -> Store:
    """Bug: list_partition blocks forever (an I/O call that never returns)."""
    import threading

    class Hanger(MemoryStore):
        async def list_partition(self, partition_key: str) -> list[Doc]:
            threading.Event().wait()  # blocks this thread for good
            return []

    return Hanger()


#: Every broken store the default suite must catch, by name.
BROKEN: dict[str, Callable[[], Store]] = {
    "read-check-write control": make_rcw,
    "tokens not bumped on write": make_no_token_bump,
    "ok without writing": make_ok_without_write,
    "writes then answers conflict": make_write_then_conflict,
    "not_found reported as conflict": make_not_found_as_conflict,
    "conflict reported as not_found": make_conflict_as_not_found,
    "rev restarts after delete (ABA)": make_rev_restarts_after_delete,
    "stale-read cache": make_stale_read_cache,
    "patch applied to a stale snapshot": make_patch_on_stale_snapshot,
    "create overwrites": make_create_overwrites,
}

#: Stores that must NOT be flagged.
HARMLESS: dict[str, Callable[[], Store]] = {
    "memory": make_memory,
    "logging wrapper": make_logging,
    "renaming wrapper": make_renaming,
}
