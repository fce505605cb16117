"""Example stores written against asyncio or trio, as a user would write them: no
``stores.checkpoint``, only the event loop's own awaits.  Each correct store has a naive twin
whose ``update_if_match`` reads, awaits, and then writes unconditionally: the lost update the
harness must catch.

* :class:`TrioSleepStore` awaits ``trio.sleep(0)`` / ``trio.lowlevel.checkpoint()`` in every
  operation; :class:`TrioLockStore` holds a ``trio.Lock`` across two checkpoints (it needs trio
  before its first await: run it with ``runtime="trio"``); :class:`TrioThreadStore` does its
  work in ``trio.to_thread.run_sync``.
* :class:`AioLockStore` holds an ``asyncio.Lock`` across ``asyncio.sleep(0)``s.
* :class:`KvStore` is a client of :class:`KvServer`, a tiny "redis-like" server on loopback
  (JSON lines over asyncio streams, in a thread of its own): the compare-and-set runs on the
  server, as ``WATCH``/``MULTI`` or a Lua script would.

Every store keeps its documents in a :class:`DocTable` (tokens from counters, so runs repeat).
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import threading
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager
from typing import Any

import attrs
import trio

from stores import Conflict
from stores import Doc
from stores import DocumentExists
from stores import DocumentNotFound
from stores import Expected
from stores import NotFound
from stores import Updated
from stores import UpdateResult
from stores import document_key
from stores import freeze_body
from stores import is_flat
from stores import private_body
from stores import validate_expected
from stores import validate_key
from stores import validate_patch

__all__ = [
    "AioLockStore",
    "DocTable",
    "KvClient",
    "KvServer",
    "KvStore",
    "KvStores",
    "NaiveAioStore",
    "NaiveKvStore",
    "NaiveTrioStore",
    "TrioLockStore",
    "TrioSleepStore",
    "TrioThreadStore",
    "kv_server",
]

Key = tuple[str, str]


class DocTable:
    """The documents of one store, changed only by synchronous calls (each one atomic)."""

    def __init__(self) -> None:
        self.docs: dict[Key, Doc] = {}
        self.last_rev: dict[Key, int] = {}
        self.writes = 0
        self.lock = threading.RLock()  # for calls from worker threads

    def copy(self) -> DocTable:
        twin = DocTable()
        twin.docs, twin.last_rev, twin.writes = dict(self.docs), dict(self.last_rev), self.writes
        return twin

    def _write(self, key: Key, body: Mapping[str, Any]) -> Doc:
        rev = self.last_rev.get(key, 0) + 1
        self.last_rev[key] = rev
        self.writes += 1
        doc = Doc(id=key[1], partition_key=key[0], body=body, etag=f"t{self.writes}", rev=rev)
        self.docs[key] = doc
        return _out(doc)

    def get(self, key: Key) -> Doc | None:
        doc = self.docs.get(key)
        return None if doc is None else _out(doc)

    def create(self, key: Key, body: Mapping[str, Any]) -> Doc:
        with self.lock:
            if key in self.docs:
                raise DocumentExists(f"document {key[1]!r} exists in partition {key[0]!r}")
            return self._write(key, body)

    def replace(self, key: Key, body: Mapping[str, Any]) -> Doc:
        with self.lock:
            if key not in self.docs:
                raise DocumentNotFound(f"document {key[1]!r} not in partition {key[0]!r}")
            return self._write(key, body)

    def write_if(
        self, key: Key, current: Doc | None, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        """Compare ``current`` (what the caller read) with ``expected`` and, if they match,
        write ``patch`` over it: atomic only if nothing was written since the read."""
        if current is None:
            return NotFound()
        if not expected.matches(current):
            return Conflict()
        with self.lock:
            if key not in self.docs:
                return NotFound()
            return Updated(doc=self._write(key, freeze_body({**current.body, **patch})))

    def cas(self, key: Key, expected: Expected, patch: Mapping[str, Any]) -> UpdateResult:
        with self.lock:
            return self.write_if(key, self.docs.get(key), expected, patch)

    def delete(self, key: Key) -> bool:
        with self.lock:
            return self.docs.pop(key, None) is not None

    def list(self, partition_key: str) -> list[Doc]:
        docs = (_out(d) for (pk, _), d in self.docs.items() if pk == partition_key)
        return sorted(docs, key=_id)


def _out(doc: Doc) -> Doc:
    """``doc`` as handed to a caller: never the table's own nested lists or mappings."""
    if is_flat(doc.body):
        return doc
    return attrs.evolve(doc, body=private_body(doc.body))


def _id(doc: Doc) -> str:
    return doc.id


def _checked(id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]) -> Key:
    """``update_if_match``'s arguments checked; the document's key."""
    key = document_key(id, partition_key)
    validate_expected(expected)
    validate_patch(patch)
    return key


class _PausingStore:
    """Checks arguments, awaits ``_pause()`` (the loop's own scheduling point), then acts on
    the table in one synchronous block: atomic, like ``MemoryStore``."""

    def __init__(self, table: DocTable | None = None) -> None:
        self.table = table or DocTable()

    def fork(self) -> _PausingStore:
        return type(self)(self.table.copy())

    async def _pause(self) -> None:
        raise NotImplementedError

    async def create(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        key = document_key(id, partition_key)
        frozen = freeze_body(body)
        await self._pause()
        return self.table.create(key, frozen)

    async def get(self, id: str, partition_key: str) -> Doc | None:
        key = document_key(id, partition_key)
        await self._pause()
        return self.table.get(key)

    async def replace(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        key = document_key(id, partition_key)
        frozen = freeze_body(body)
        await self._pause()
        return self.table.replace(key, frozen)

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        key = _checked(id, partition_key, expected, patch)
        await self._pause()
        return self.table.cas(key, expected, patch)

    async def delete(self, id: str, partition_key: str) -> bool:
        key = document_key(id, partition_key)
        await self._pause()
        return self.table.delete(key)

    async def list_partition(self, partition_key: str) -> list[Doc]:
        validate_key("partition_key", partition_key)
        await self._pause()
        return self.table.list(partition_key)


class TrioSleepStore(_PausingStore):
    """Correct: one trio checkpoint (``trio.sleep(0)``, then ``trio.lowlevel.checkpoint()``
    on alternate operations) before each atomic operation."""

    _turn = 0

    async def _pause(self) -> None:
        self._turn += 1
        if self._turn % 2:
            await trio.sleep(0)
        else:
            await trio.lowlevel.checkpoint()


class NaiveTrioStore(TrioSleepStore):
    """THE BUG IS DELIBERATE: read, checkpoint, compare, write unconditionally."""

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        key = _checked(id, partition_key, expected, patch)
        await trio.lowlevel.checkpoint()
        current = self.table.get(key)
        await trio.sleep(0)  # another writer may come in here
        return self.table.write_if(key, current, expected, patch)


class TrioLockStore(_PausingStore):
    """Correct: a ``trio.Lock`` held across the read and the write, with checkpoints inside.
    ``trio.Lock.acquire`` needs a trio task even when the lock is free: run with
    ``runtime="trio"``."""

    def __init__(self, table: DocTable | None = None) -> None:
        super().__init__(table)
        self.lock = trio.Lock()

    async def _pause(self) -> None:
        async with self.lock:
            await trio.sleep(0)

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        key = _checked(id, partition_key, expected, patch)
        async with self.lock:
            current = self.table.get(key)
            await trio.sleep(0)  # safe: the lock keeps other writers out
            return self.table.write_if(key, current, expected, patch)


class TrioThreadStore(_PausingStore):
    """Correct: every operation runs in ``trio.to_thread.run_sync`` (the table's own lock
    makes each call atomic)."""

    async def _pause(self) -> None:
        await trio.lowlevel.checkpoint()

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        key = _checked(id, partition_key, expected, patch)
        return await trio.to_thread.run_sync(self.table.cas, key, expected, patch)


class AioLockStore(_PausingStore):
    """Correct: an ``asyncio.Lock`` held across the read and the write, which are separated
    by ``asyncio.sleep(0)``s; every other operation sleeps once first."""

    def __init__(self, table: DocTable | None = None) -> None:
        super().__init__(table)
        self.lock = asyncio.Lock()

    async def _pause(self) -> None:
        await asyncio.sleep(0)

    async def _read_then_write(
        self, key: Key, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        await asyncio.sleep(0)
        current = self.table.get(key)
        await asyncio.sleep(0)  # safe under the lock, a lost update without it
        return self.table.write_if(key, current, expected, patch)

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        key = _checked(id, partition_key, expected, patch)
        async with self.lock:
            return await self._read_then_write(key, expected, patch)


class NaiveAioStore(AioLockStore):
    """THE BUG IS DELIBERATE: the same read-then-write, without the lock."""

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        key = _checked(id, partition_key, expected, patch)
        return await self._read_then_write(key, expected, patch)


# -- the "redis-like" server and its client -----------------------------------------------------


def _doc_json(doc: Doc | None) -> Any:
    if doc is None:
        return None
    return {
        "id": doc.id,
        "pk": doc.partition_key,
        "body": dict(doc.body),
        "etag": doc.etag,
        "rev": doc.rev,
    }


def _json_doc(data: Any) -> Doc | None:
    if data is None:
        return None
    return Doc(
        id=data["id"],
        partition_key=data["pk"],
        body=freeze_body(data["body"]),
        etag=data["etag"],
        rev=data["rev"],
    )


class KvServer:
    """One ``DocTable`` per namespace, served as JSON lines on 127.0.0.1 by a plain asyncio
    loop in a thread of its own: a real server, outside the actors' event loop."""

    def __init__(self) -> None:
        self.tables: dict[str, DocTable] = {}
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="kv-server", daemon=True)

    def start(self) -> KvServer:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                writer.write(json.dumps(self.handle(json.loads(line))).encode() + b"\n")
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass  # a client went away, or the server stops
        finally:
            writer.close()

    def handle(self, request: Mapping[str, Any]) -> Any:
        table = self.tables.setdefault(request["ns"], DocTable())
        key = (request["pk"], request.get("id", ""))
        op = request["op"]
        try:
            if op == "get":
                return {"doc": _doc_json(table.get(key))}
            if op == "set":  # create or replace, as the request says
                write = table.create if request["new"] else table.replace
                return {"doc": _doc_json(write(key, freeze_body(request["body"])))}
            if op == "cas":
                expected = Expected(etag=request["etag"], rev=request["rev"])
                result = table.cas(key, expected, request["patch"])
                return {"result": result.reason, "doc": _doc_json(getattr(result, "doc", None))}
            if op == "del":
                return {"deleted": table.delete(key)}
            if op == "list":
                return {"docs": [_doc_json(d) for d in table.list(request["pk"])]}
        except DocumentExists:
            return {"error": "exists"}
        except DocumentNotFound:
            return {"error": "not_found"}
        return {"error": f"unknown op {op!r}"}


@contextmanager
def kv_server() -> Iterator[KvServer]:
    server = KvServer().start()
    try:
        yield server
    finally:
        server.stop()


class KvClient:
    """A pool of connections per event loop, as ``redis.asyncio`` keeps: a request takes an
    idle connection (or opens one), sends one line, reads one line, and gives it back.

    A request cancelled half-way drops its connection: a reply left unread would otherwise
    answer the next request on it.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self._idle: dict[asyncio.AbstractEventLoop, list[tuple[Any, Any]]] = {}

    async def request(self, message: Mapping[str, Any]) -> Any:
        idle = self._idle.setdefault(asyncio.get_running_loop(), [])
        if idle:
            reader, writer = idle.pop()
        else:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            writer.write(json.dumps(message).encode() + b"\n")
            await writer.drain()
            line = await reader.readline()
        except BaseException:
            writer.close()
            raise
        idle.append((reader, writer))
        return json.loads(line)

    def close(self) -> None:
        for idle in self._idle.values():
            for _, writer in idle:
                writer.close()
        self._idle.clear()


_namespaces = itertools.count()


class KvStore:
    """A store over a :class:`KvClient` of its own, in a namespace of its own on the server.

    Its own client, so that a schedule never depends on connections an earlier one left in a
    pool: a token then replays in a fresh process exactly as it ran (see :class:`KvStores`).
    """

    def __init__(self, port: int, namespace: str | None = None) -> None:
        self.client = KvClient(port)
        self.ns = namespace or f"ns{next(_namespaces)}"

    def close(self) -> None:
        self.client.close()

    async def _call(self, op: str, partition_key: str, id: str = "", **fields: Any) -> Any:
        message = {"op": op, "ns": self.ns, "pk": partition_key, "id": id, **fields}
        return await self.client.request(message)

    async def _set(self, new: bool, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        document_key(id, partition_key)
        reply = await self._call("set", partition_key, id, new=new, body=copy.deepcopy(dict(body)))
        if reply.get("error") == "exists":
            raise DocumentExists(f"document {id!r} exists in partition {partition_key!r}")
        if reply.get("error") == "not_found":
            raise DocumentNotFound(f"document {id!r} not in partition {partition_key!r}")
        doc = _json_doc(reply["doc"])
        assert doc is not None
        return doc

    async def create(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        freeze_body(body)
        return await self._set(True, id, partition_key, body)

    async def get(self, id: str, partition_key: str) -> Doc | None:
        document_key(id, partition_key)
        return _json_doc((await self._call("get", partition_key, id))["doc"])

    async def replace(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        freeze_body(body)
        return await self._set(False, id, partition_key, body)

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        _checked(id, partition_key, expected, patch)
        reply = await self._call(
            "cas", partition_key, id, etag=expected.etag, rev=expected.rev, patch=dict(patch)
        )
        if reply["result"] == "not_found":
            return NotFound()
        if reply["result"] == "conflict":
            return Conflict()
        doc = _json_doc(reply["doc"])
        assert doc is not None
        return Updated(doc=doc)

    async def delete(self, id: str, partition_key: str) -> bool:
        document_key(id, partition_key)
        return bool((await self._call("del", partition_key, id))["deleted"])

    async def list_partition(self, partition_key: str) -> list[Doc]:
        validate_key("partition_key", partition_key)
        docs = (await self._call("list", partition_key))["docs"]
        return [doc for doc in map(_json_doc, docs) if doc is not None]


class NaiveKvStore(KvStore):
    """THE BUG IS DELIBERATE: GET, compare in the client, then an unconditional SET."""

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        _checked(id, partition_key, expected, patch)
        current = await self.get(id, partition_key)  # GET ...
        if current is None:
            return NotFound()
        if not expected.matches(current):  # ... compare ...
            return Conflict()
        try:  # ... and SET, whatever was written in between
            doc = await self.replace(id, partition_key, {**current.body, **patch})
        except DocumentNotFound:
            return NotFound()
        return Updated(doc=doc)


class KvStores:
    """Fresh stores on ``server``, one per schedule, for ``explore(factory=...)``: asking for
    a new one closes the previous one's connections (as the Cosmos backend purges)."""

    def __init__(self, server: KvServer, naive: bool = False) -> None:
        self.server = server
        self.kind = NaiveKvStore if naive else KvStore
        self.current: KvStore | None = None

    def __call__(self, wrap: Any) -> Any:
        self.close()
        self.current = self.kind(self.server.port)
        return wrap(self.current)

    def close(self) -> None:
        if self.current is not None:
            self.current.close()
            self.current = None
