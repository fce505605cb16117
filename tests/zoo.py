"""A zoo of broken stores: each docstring names its bug and the check that catches it; the
conformance suite must catch all.

Also correct stores that must NOT be flagged: harmless wrappers (logging, renaming) and
correct-but-unusual backends (random opaque etags, revs that jump, slow I/O, several
scheduling points per operation, a close() that refuses later use, a context-manager factory).
Each ``make_*`` function is a factory usable as ``claimcheck conformance tests.zoo:make_<name>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import threading
import time
import uuid
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Coroutine
from collections.abc import Generator
from collections.abc import Iterator
from collections.abc import Mapping
from typing import Any
from typing import Self
from typing import TypeVar
from typing import cast

import attrs

from harness.backends import NamespacedStore
from harness.runtime import drive
from stores import Conflict
from stores import Doc
from stores import DocumentExists
from stores import DocumentNotFound
from stores import Expected
from stores import MemoryStore
from stores import NotFound
from stores import ReadCheckWriteStore
from stores import Store
from stores import StoreMisuse
from stores import StoreWrapper
from stores import Updated
from stores import UpdateResult
from stores import checkpoint
from stores import document_key
from stores import freeze_body
from stores import private_body
from stores import run_io
from stores import validate_expected
from stores import validate_key
from stores import validate_patch

T = TypeVar("T")


class NoTokenBump(MemoryStore):
    """Bug: writes keep the old etag and rev, so a stale token still matches (lost update).
    Caught by ``sequential contract`` (and most other checks)."""

    def _write(self, key: tuple[str, str], body: Mapping[str, Any]) -> Doc:
        old = self._docs.get(key)
        if old is None:
            return super()._write(key, body)
        doc = Doc(id=old.id, partition_key=old.partition_key, body=body, etag=old.etag, rev=old.rev)
        self._docs[key] = doc
        return doc


class OkWithoutWrite(MemoryStore):
    """Bug: update_if_match answers Updated on a match but never writes.  Caught by
    ``sequential contract``."""

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
    """Bug: update_if_match writes on a match and then answers Conflict.  Caught by
    ``sequential contract``."""

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        result = await super().update_if_match(id, partition_key, expected, patch)
        return Conflict() if isinstance(result, Updated) else result


class NotFoundAsConflict(MemoryStore):
    """Bug: update_if_match of a missing document answers Conflict instead of NotFound.
    Caught by ``sequential contract`` and ``endurance``."""

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        result = await super().update_if_match(id, partition_key, expected, patch)
        return Conflict() if isinstance(result, NotFound) else result


class ConflictAsNotFound(MemoryStore):
    """Bug: a stale token answers NotFound instead of Conflict.  Caught by
    ``sequential contract``."""

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        result = await super().update_if_match(id, partition_key, expected, patch)
        return NotFound() if isinstance(result, Conflict) else result


class RevRestartsAfterDelete(MemoryStore):
    """Bug: delete forgets the last rev and etag counter of the id, so a re-created document
    starts again at rev 1 with a reused etag: a pre-delete token matches again (ABA).  Caught
    by ``sequential contract`` and ``tokens``."""

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
    """Bug: get serves documents from a cache filled on first read and never invalidated.
    Caught by ``sequential contract``."""

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
    patch to the body this store last served to a reader (a stale snapshot), losing updates.
    Caught by ``fleet scenarios`` (and ``body isolation``)."""

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
    """Bug: create of an existing id silently replaces it instead of raising DocumentExists.
    Caught by ``sequential contract`` and ``create race (threads)``."""

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


class ThreadedMemory(MemoryStore):
    """Not a bug: the base of the zoo's I/O-like stores.  Every operation is one ``run_io``
    call (a worker thread under trio, inline under control) whose body is the MemoryStore
    operation under a lock, after ``latency`` seconds of simulated I/O."""

    latency = 0.0

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def _locked(self, fn: Callable[[], T]) -> T:
        if self.latency:
            time.sleep(self.latency)
        with self._lock:
            return fn()

    def _io(self, coro: Any) -> Any:
        return self._locked(lambda: drive(coro))

    async def create(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        return await run_io(
            lambda: self._io(MemoryStore.create(self, id, partition_key, body)),
            "create",
            partition_key,
            id,
            True,
        )

    async def get(self, id: str, partition_key: str) -> Doc | None:
        return await run_io(
            lambda: self._io(MemoryStore.get(self, id, partition_key)),
            "get",
            partition_key,
            id,
            False,
        )

    async def replace(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        return await run_io(
            lambda: self._io(MemoryStore.replace(self, id, partition_key, body)),
            "replace",
            partition_key,
            id,
            True,
        )

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        return await run_io(
            lambda: self._io(MemoryStore.update_if_match(self, id, partition_key, expected, patch)),
            "update_if_match",
            partition_key,
            id,
            True,
        )

    async def delete(self, id: str, partition_key: str) -> bool:
        return await run_io(
            lambda: self._io(MemoryStore.delete(self, id, partition_key)),
            "delete",
            partition_key,
            id,
            True,
        )

    async def list_partition(self, partition_key: str) -> list[Doc]:
        return await run_io(
            lambda: self._io(MemoryStore.list_partition(self, partition_key)),
            "list_partition",
            partition_key,
            None,
            False,
        )


class CheckThenInsert(ThreadedMemory):
    """Bug: create asks whether the id exists in one request and inserts in a second one, so
    two concurrent creators of one id both succeed (the later insert overwrites).  Caught by
    ``create race (threads)`` and ``create race (schedules)``."""

    async def create(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        key = document_key(id, partition_key)
        frozen = freeze_body(body)
        exists = await run_io(
            lambda: self._locked(lambda: key in self._docs), "get", partition_key, id, False
        )
        if exists:
            raise DocumentExists(f"document {id!r} already exists in partition {partition_key!r}")
        return await run_io(
            lambda: self._locked(lambda: self._write(key, frozen)),
            "create",
            partition_key,
            id,
            True,
        )


class CheckThenInsertForDerivedIds(CheckThenInsert):
    """Bug: ids with a separator (``j1~run~1``: documents derived from another) go through an
    "ensure" path that checks, then inserts; plain ids are created atomically.  A create race
    on plain ids alone would never see it.  Caught by ``create race (threads)`` and
    ``create race (schedules)``, which race several shapes of id."""

    async def create(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        if "~" in id:
            return await super().create(id, partition_key, body)
        return await ThreadedMemory.create(self, id, partition_key, body)


class EtagFromBody(MemoryStore):
    """Bug: the etag is a hash of the body, so a document deleted and re-created with the same
    body (or replaced by an equal body) gets its old etag back, and a compare-and-set with a
    pre-delete etag succeeds (ABA on the etag; the rev is right).  Caught by ``tokens``."""

    def _write(self, key: tuple[str, str], body: Mapping[str, Any]) -> Doc:
        rev = self._last_rev.get(key, 0) + 1
        self._last_rev[key] = rev
        digest = hashlib.sha1(json.dumps(dict(body), sort_keys=True).encode()).hexdigest()
        doc = Doc(id=key[1], partition_key=key[0], body=body, etag=digest[:16], rev=rev)
        self._docs[key] = doc
        return doc


class RevPerIncarnation(MemoryStore):
    """Bug: rev counts the writes of one incarnation of a document and restarts at 1 when it
    is re-created after a delete, so a pre-delete rev matches again (ABA on the rev; etags
    stay unique).  Caught by ``tokens`` (and ``sequential contract``)."""

    async def delete(self, id: str, partition_key: str) -> bool:
        done = await super().delete(id, partition_key)
        self._last_rev.pop((partition_key, id), None)
        return done


class ReplaceKeepsEtag(MemoryStore):
    """Bug: an unconditional replace bumps the rev but keeps the etag, so a compare-and-set
    with the pre-replace etag overwrites the replacement.  Caught by ``tokens``."""

    async def replace(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        old = await self.get(id, partition_key)
        doc = await super().replace(id, partition_key, body)
        if old is None:
            return doc
        kept = attrs.evolve(doc, etag=old.etag)
        self._docs[(partition_key, id)] = kept
        return kept


class KeepsCallersBody(MemoryStore):
    """Bug: create and replace store the caller's mapping itself, not a copy, so a caller that
    reuses its dict after the call rewrites the stored document.  Caught by
    ``body isolation``."""

    async def create(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        doc = await super().create(id, partition_key, body)
        self._docs[(partition_key, id)] = shared = attrs.evolve(doc, body=body)
        self._nested.discard((partition_key, id))
        return shared

    async def replace(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        doc = await super().replace(id, partition_key, body)
        self._docs[(partition_key, id)] = shared = attrs.evolve(doc, body=body)
        self._nested.discard((partition_key, id))
        return shared


class HandsOutItsBodies(MemoryStore):
    """Bug: copies bodies on the way in but hands out its own copy on the way out, so a
    caller that changes a list nested in a body it read changes the stored document for every
    later reader.  Caught by ``body isolation``."""

    def _out(self, doc: Doc) -> Doc:
        return doc


class FlatKeys(StoreWrapper):
    """Bug: an adapter over one flat key space, keyed ``f"{partition_key}~{id}"``, listing a
    partition by a prefix scan on its name: ``("a~b", "c")`` and ``("a", "b~c")`` are one key,
    and ``list_partition("p")`` also returns the documents of ``"p1"``.  Caught by
    ``partition isolation``."""

    def __init__(self, inner: Store | None = None) -> None:
        super().__init__(inner if inner is not None else MemoryStore())

    @staticmethod
    def _as(doc: Doc, id: str, partition_key: str) -> Doc:
        return attrs.evolve(doc, id=id, partition_key=partition_key)

    async def create(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        doc = await self.inner.create(f"{partition_key}~{id}", "kv", body)
        return self._as(doc, id, partition_key)

    async def get(self, id: str, partition_key: str) -> Doc | None:
        doc = await self.inner.get(f"{partition_key}~{id}", "kv")
        return None if doc is None else self._as(doc, id, partition_key)

    async def replace(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        doc = await self.inner.replace(f"{partition_key}~{id}", "kv", body)
        return self._as(doc, id, partition_key)

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        result = await self.inner.update_if_match(f"{partition_key}~{id}", "kv", expected, patch)
        if isinstance(result, Updated):
            return Updated(doc=self._as(result.doc, id, partition_key))
        return result

    async def delete(self, id: str, partition_key: str) -> bool:
        return await self.inner.delete(f"{partition_key}~{id}", "kv")

    async def list_partition(self, partition_key: str) -> list[Doc]:
        docs = await self.inner.list_partition("kv")
        return [
            self._as(d, d.id.split("~", 1)[1], partition_key)
            for d in docs
            if d.id.startswith(partition_key)
        ]


class PoolLeakOnConflict(ThreadedMemory):
    """Bug: every call checks a connection out of a pool of 32, and a compare-and-set that
    conflicts forgets to give it back; after 32 conflicts on one store every call waits for
    a connection forever.  Caught by ``endurance`` (a hang, naming the operation's number)."""

    def __init__(self) -> None:
        super().__init__()
        self._pool = threading.BoundedSemaphore(32)

    def _io(self, coro: Any) -> Any:
        self._pool.acquire()
        result = super()._io(coro)
        if not isinstance(result, Conflict):  # the bug: the conflict path keeps its connection
            self._pool.release()
        return result


class LeaksAFilePerWrite(MemoryStore):
    """Bug: each compare-and-set that writes opens a file (a new session to the server) and
    never closes it; the descriptors pile up until the store is closed.  Caught by
    ``endurance`` (open file descriptors grow)."""

    def __init__(self) -> None:
        super().__init__()
        self.files: list[int] = []

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        result = await super().update_if_match(id, partition_key, expected, patch)
        if result.ok:
            self.files.append(os.open(os.devnull, os.O_RDONLY))
        return result

    def close(self) -> None:
        while self.files:
            os.close(self.files.pop())


class NestedCheckout(ThreadedMemory):
    """Bug: each call checks one connection out of a pool of 2, does some I/O, then checks out
    a second one (for its audit record) while holding the first.  One at a time that works;
    two calls at once each hold one connection and wait forever for the other (pool
    starvation).  Caught by ``atomicity (threads)``, ``create race (threads)`` and
    ``endurance``: each reported as a hang naming every operation in flight."""

    def __init__(self) -> None:
        super().__init__()
        self._pool = threading.BoundedSemaphore(2)

    def _io(self, coro: Any) -> Any:
        with self._pool:
            time.sleep(0.002)  # the first request's round trip
            with self._pool:
                return super()._io(coro)


class MislabelledWrites(MemoryStore):
    """Bug: its writes label their scheduling point as a read of an index document, so
    partial-order reduction takes every write for a read of another id and an exhaustive
    search skips real interleavings yet calls itself complete.  Caught by
    ``scheduling labels`` and ``exhaustive schedules``."""

    async def _relabelled(self, coro: Coroutine[Any, Any, T]) -> T:
        gen = coro.__await__()
        value = None
        while True:
            try:
                point = gen.send(value)
            except StopIteration as stop:
                return cast(T, stop.value)
            if type(point) is tuple:
                point = ("get", point[1], "_index", False)
            value = await _Yield(point)

    async def create(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        return await self._relabelled(super().create(id, partition_key, body))

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        return await self._relabelled(super().update_if_match(id, partition_key, expected, patch))

    async def replace(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        return await self._relabelled(super().replace(id, partition_key, body))

    async def delete(self, id: str, partition_key: str) -> bool:
        return await self._relabelled(super().delete(id, partition_key))


class _Yield:
    """Awaiting it yields ``value`` to whoever drives the coroutine."""

    def __init__(self, value: object) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, Any, Any]:
        return (yield self.value)


class EffectBeforeItsPoint(MemoryStore):
    """Bug: update_if_match compares and writes at once, then awaits its scheduling point:
    honest labels, but the write happens in the step of the caller's previous point (a read),
    so reduction reorders it as a read.  No label shows it.  Caught by ``scheduling labels``
    (an exhaustive search without reduction reaches outcomes the reduced one never does)."""

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        result: UpdateResult = drive(super().update_if_match(id, partition_key, expected, patch))
        await checkpoint("update_if_match", partition_key, id, True)
        return result


# -- correct but unusual -----------------------------------------------------------------------


class RandomEtags(MemoryStore):
    """Correct: etags are random opaque strings (a uuid per write), as many servers make them."""

    def _write(self, key: tuple[str, str], body: Mapping[str, Any]) -> Doc:
        doc = super()._write(key, body)
        opaque = attrs.evolve(doc, etag=f'"{uuid.uuid4()}"')
        self._docs[key] = attrs.evolve(self._docs[key], etag=opaque.etag)
        return opaque


class JumpingRevs(MemoryStore):
    """Correct: rev is a store-wide sequence number (a log position), so the revs of one id
    jump by however many writes other documents had in between; they still only increase."""

    def _write(self, key: tuple[str, str], body: Mapping[str, Any]) -> Doc:
        self._writes += 6  # other writers' entries in the log
        self._last_rev[key] = self._writes  # the write below takes the next position
        return super()._write(key, body)


class SlowStore(ThreadedMemory):
    """Correct: every operation is a blocking call that takes ``latency`` seconds."""

    def __init__(self, latency: float = 0.002) -> None:
        super().__init__()
        self.latency = latency


class TwoPoints(MemoryStore):
    """Correct: every operation awaits two scheduling points, a handshake that does nothing
    (labelled as a read of the document) and then the operation's own."""

    async def _two(
        self, op: str, partition_key: str, id: str | None, call: Callable[[], Awaitable[T]]
    ) -> T:
        await checkpoint(f"{op}:handshake", partition_key, id, False)
        return await call()

    async def create(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        return await self._two(
            "create",
            partition_key,
            id,
            lambda: super(TwoPoints, self).create(id, partition_key, body),
        )

    async def get(self, id: str, partition_key: str) -> Doc | None:
        return await self._two(
            "get", partition_key, id, lambda: super(TwoPoints, self).get(id, partition_key)
        )

    async def replace(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        return await self._two(
            "replace",
            partition_key,
            id,
            lambda: super(TwoPoints, self).replace(id, partition_key, body),
        )

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        return await self._two(
            "update_if_match",
            partition_key,
            id,
            lambda: super(TwoPoints, self).update_if_match(id, partition_key, expected, patch),
        )

    async def delete(self, id: str, partition_key: str) -> bool:
        return await self._two(
            "delete", partition_key, id, lambda: super(TwoPoints, self).delete(id, partition_key)
        )

    async def list_partition(self, partition_key: str) -> list[Doc]:
        return await self._two(
            "list_partition",
            partition_key,
            None,
            lambda: super(TwoPoints, self).list_partition(partition_key),
        )


class Closable(MemoryStore):
    """Correct: has a close() after which every call raises StoreMisuse (as a closed client
    does).  ``CLOSED`` counts the closes, to check the suite closes what it opens."""

    CLOSED = 0

    def __init__(self) -> None:
        super().__init__()
        self.closed = False

    def close(self) -> None:
        assert not self.closed, "closed twice"
        self.closed = True
        Closable.CLOSED += 1

    async def get(self, id: str, partition_key: str) -> Doc | None:
        if self.closed:
            raise StoreMisuse("this store is closed")
        return await super().get(id, partition_key)

    async def create(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        if self.closed:
            raise StoreMisuse("this store is closed")
        return await super().create(id, partition_key, body)


class AsyncKV:
    """Not a store: a stand-in for an asyncio client library (every call awaits its loop).

    ``racy_insert`` makes ``insert`` check, await, then write: two inserts of one key that
    overlap on the loop both succeed.
    """

    def __init__(self, *, racy_insert: bool = False) -> None:
        self.rows: dict[tuple[str, str], tuple[dict[str, Any], str, int]] = {}
        self.revs: dict[tuple[str, str], int] = {}
        self.writes = 0
        self.racy_insert = racy_insert

    async def _stamp(self, key: tuple[str, str]) -> tuple[str, int]:
        await asyncio.sleep(0)  # a round trip to the server for a sequence number
        self.writes += 1
        self.revs[key] = self.revs.get(key, 0) + 1
        return f"a{self.writes}", self.revs[key]

    async def read(self, key: tuple[str, str]) -> tuple[dict[str, Any], str, int] | None:
        await asyncio.sleep(0)
        return self.rows.get(key)

    async def insert(
        self, key: tuple[str, str], body: dict[str, Any]
    ) -> tuple[dict[str, Any], str, int] | None:
        await asyncio.sleep(0)
        if key in self.rows:
            return None
        etag, rev = await self._stamp(key)
        if key in self.rows and not self.racy_insert:
            return None  # another insert came in during the await
        self.rows[key] = (body, etag, rev)
        return self.rows[key]

    async def put(
        self, key: tuple[str, str], body: dict[str, Any], expected: Expected | None = None
    ) -> tuple[dict[str, Any], str, int] | str:
        await asyncio.sleep(0)
        current = self.rows.get(key)
        if current is None:
            return "missing"
        etag, rev = await self._stamp(key)
        now = self.rows.get(key)
        if now is None:
            return "missing"
        if expected is not None and (
            now is not current
            or (expected.etag is not None and expected.etag != now[1])
            or (expected.rev is not None and expected.rev != now[2])
        ):
            return "conflict"
        self.rows[key] = ({**now[0], **body} if expected is not None else body, etag, rev)
        return self.rows[key]

    async def remove(self, key: tuple[str, str]) -> bool:
        await asyncio.sleep(0)
        return self.rows.pop(key, None) is not None

    async def scan(self, partition_key: str) -> list[tuple[str, tuple[dict[str, Any], str, int]]]:
        await asyncio.sleep(0)
        return sorted((k[1], row) for k, row in self.rows.items() if k[0] == partition_key)


class AsyncioClientStore:
    """Correct: the README's recipe for an asyncio client.  The client runs on an event loop
    of its own, in a thread of its own; each operation is one blocking ``run_io`` call into
    that loop; ``close()`` stops the loop."""

    def __init__(self, client: AsyncKV | None = None) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._client = client if client is not None else AsyncKV()

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    @staticmethod
    def _doc(key: tuple[str, str], row: tuple[dict[str, Any], str, int]) -> Doc:
        body = private_body(row[0])
        return Doc(id=key[1], partition_key=key[0], body=body, etag=row[1], rev=row[2])

    async def create(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        key = document_key(id, partition_key)
        copied = dict(freeze_body(body))
        row = await run_io(
            lambda: self._call(self._client.insert(key, copied)), "create", partition_key, id, True
        )
        if row is None:
            raise DocumentExists(f"document {id!r} already exists in partition {partition_key!r}")
        return self._doc(key, row)

    async def get(self, id: str, partition_key: str) -> Doc | None:
        key = document_key(id, partition_key)
        row = await run_io(
            lambda: self._call(self._client.read(key)), "get", partition_key, id, False
        )
        return None if row is None else self._doc(key, row)

    async def replace(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        key = document_key(id, partition_key)
        copied = dict(freeze_body(body))
        row = await run_io(
            lambda: self._call(self._client.put(key, copied)), "replace", partition_key, id, True
        )
        if isinstance(row, str):
            raise DocumentNotFound(f"document {id!r} not found in partition {partition_key!r}")
        return self._doc(key, row)

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        key = document_key(id, partition_key)
        validate_expected(expected)
        copied = dict(freeze_body(validate_patch(patch), name="patch"))
        row = await run_io(
            lambda: self._call(self._client.put(key, copied, expected)),
            "update_if_match",
            partition_key,
            id,
            True,
        )
        if row == "missing":
            return NotFound()
        if isinstance(row, str):
            return Conflict()
        return Updated(doc=self._doc(key, row))

    async def delete(self, id: str, partition_key: str) -> bool:
        key = document_key(id, partition_key)
        return await run_io(
            lambda: self._call(self._client.remove(key)), "delete", partition_key, id, True
        )

    async def list_partition(self, partition_key: str) -> list[Doc]:
        validate_key("partition_key", partition_key)
        rows = await run_io(
            lambda: self._call(self._client.scan(partition_key)),
            "list_partition",
            partition_key,
            None,
            False,
        )
        return [self._doc((partition_key, id), row) for id, row in rows]

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


#: How many stores ``make_in_context`` opened and closed.
CONTEXTS = {"entered": 0, "exited": 0}


@contextlib.contextmanager
def make_in_context() -> Iterator[Store]:
    """Correct: a context-manager factory (a temporary database per store, say)."""
    CONTEXTS["entered"] += 1
    try:
        yield MemoryStore()
    finally:
        CONTEXTS["exited"] += 1


def make_rcw() -> Store:
    """The read-check-write control (``stores.ReadCheckWriteStore``): a compare-and-set that
    reads, compares and then writes.  Caught by ``atomicity (threads)`` and every schedule
    check."""
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


def make_check_then_insert() -> Store:
    return CheckThenInsert()


def make_check_then_insert_for_derived_ids() -> Store:
    return CheckThenInsertForDerivedIds()


def make_etag_from_body() -> Store:
    return EtagFromBody()


def make_rev_per_incarnation() -> Store:
    return RevPerIncarnation()


def make_replace_keeps_etag() -> Store:
    return ReplaceKeepsEtag()


def make_keeps_callers_body() -> Store:
    return KeepsCallersBody()


def make_hands_out_its_bodies() -> Store:
    return HandsOutItsBodies()


def make_flat_keys() -> Store:
    return FlatKeys()


def make_pool_leak_on_conflict() -> Store:
    return PoolLeakOnConflict()


def make_leaks_a_file_per_write() -> Store:
    return LeaksAFilePerWrite()


def make_nested_checkout() -> Store:
    return NestedCheckout()


def make_mislabelled_writes() -> Store:
    return MislabelledWrites()


def make_effect_before_its_point() -> Store:
    return EffectBeforeItsPoint()


def make_asyncio_client() -> Store:
    return AsyncioClientStore()


def make_asyncio_client_racy_insert() -> Store:
    """Bug: the asyncio client's insert checks for the key, awaits a round trip, then writes:
    on its event loop two overlapping inserts both succeed.  One request at a time (every
    controlled schedule) it is atomic.  Caught by ``create race (threads)`` alone."""
    return AsyncioClientStore(AsyncKV(racy_insert=True))


def make_random_etags() -> Store:
    return RandomEtags()


def make_jumping_revs() -> Store:
    return JumpingRevs()


def make_slow() -> Store:
    return SlowStore()


def make_two_points() -> Store:
    return TwoPoints()


def make_closable() -> Store:
    return Closable()


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
    "create checks, then inserts": make_check_then_insert,
    "derived ids: check, then insert": make_check_then_insert_for_derived_ids,
    "etag is a hash of the body (ABA)": make_etag_from_body,
    "rev restarts per incarnation (ABA)": make_rev_per_incarnation,
    "replace keeps the etag": make_replace_keeps_etag,
    "keeps the caller's body": make_keeps_callers_body,
    "hands out its own bodies": make_hands_out_its_bodies,
    "flat keys, prefix listing": make_flat_keys,
    "pool leak on conflict (hangs at call N)": make_pool_leak_on_conflict,
    "leaks a file per write": make_leaks_a_file_per_write,
    "nested pool checkout (deadlock)": make_nested_checkout,
    "writes labelled as reads": make_mislabelled_writes,
    "effect before its point": make_effect_before_its_point,
    "asyncio client: insert awaits between check and write": make_asyncio_client_racy_insert,
}

#: A check that must fail for each broken store (its docstring names it).
CAUGHT_BY: dict[str, str] = {
    "read-check-write control": "atomicity (threads)",
    "tokens not bumped on write": "sequential contract",
    "ok without writing": "sequential contract",
    "writes then answers conflict": "sequential contract",
    "not_found reported as conflict": "sequential contract",
    "conflict reported as not_found": "sequential contract",
    "rev restarts after delete (ABA)": "tokens",
    "stale-read cache": "sequential contract",
    "patch applied to a stale snapshot": "fleet scenarios",
    "create overwrites": "create race (threads)",
    "create checks, then inserts": "create race (threads)",
    "derived ids: check, then insert": "create race (schedules)",
    "etag is a hash of the body (ABA)": "tokens",
    "rev restarts per incarnation (ABA)": "tokens",
    "replace keeps the etag": "tokens",
    "keeps the caller's body": "body isolation",
    "hands out its own bodies": "body isolation",
    "flat keys, prefix listing": "partition isolation",
    "pool leak on conflict (hangs at call N)": "endurance",
    "leaks a file per write": "endurance",
    "nested pool checkout (deadlock)": "atomicity (threads)",
    "writes labelled as reads": "scheduling labels",
    "effect before its point": "scheduling labels",
    "asyncio client: insert awaits between check and write": "create race (threads)",
}

#: Stores that must NOT be flagged.
HARMLESS: dict[str, Callable[[], Store]] = {
    "memory": make_memory,
    "logging wrapper": make_logging,
    "renaming wrapper": make_renaming,
    "random opaque etags": make_random_etags,
    "revs that jump": make_jumping_revs,
    "slow (2 ms a call, in threads)": make_slow,
    "two scheduling points a call": make_two_points,
    "closes, then refuses calls": make_closable,
    "context-manager factory": make_in_context,  # type: ignore[dict-item]
    "asyncio client on a loop of its own (README recipe)": make_asyncio_client,
}
