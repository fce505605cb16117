"""``AioCosmosStore``: the store contract over one Cosmos DB container, through
``azure.cosmos.aio`` on aiohttp.

The item layout, tombstones and compare-and-set by If-Match are ``CosmosStore``'s (the same
items, readable by either store); what differs is that every request is awaited on the event
loop that drives the store, with no thread: unmodified asyncio code, which the controlled
asyncio runtime (``harness/runtime/_aio.py``) steps one task step at a time, waiting for the
I/O in flight before each decision.  Each operation still awaits its one labelled scheduling
point (``stores.checkpoint``) before it takes effect; the awaits of its requests that follow
are the loop's own steps, which the runtime labels as dependent on everything.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any
from typing import Literal
from typing import NoReturn
from typing import TypeVar

from azure.core import MatchConditions
from azure.cosmos.aio import ContainerProxy
from azure.cosmos.aio import CosmosClient
from azure.cosmos.exceptions import CosmosAccessConditionFailedError
from azure.cosmos.exceptions import CosmosResourceExistsError
from azure.cosmos.exceptions import CosmosResourceNotFoundError

from .._contract import Conflict
from .._contract import Doc
from .._contract import DocumentExists
from .._contract import DocumentNotFound
from .._contract import Expected
from .._contract import NotFound
from .._contract import StoreMisuse
from .._contract import Updated
from .._contract import UpdateResult
from .._contract import freeze_body
from .._contract import validate_expected
from .._contract import validate_key
from .._contract import validate_patch
from .._points import CONTROLLED
from .._points import checkpoint
from ._aio_transport import build_aio_transport
from ._aio_transport import close_client
from ._aio_transport import open_aio_container
from ._errors import ErrorMapper
from ._errors import send_write
from ._store import _CREATE_TOKEN
from ._store import _IDS_QUERY
from ._store import _LIST_QUERY
from ._store import _MAX_ATTEMPTS
from ._store import _PK
from ._store import _REV
from ._store import _TOMBSTONE
from ._store import CosmosStore
from ._store import _check_fields
from ._store import _is_tombstone
from ._store import _item
from ._store import _Lost
from ._transport import EndpointHealth
from ._transport import EndpointProbe
from ._transport import _AccountSettings
from ._transport import account_from_env
from ._transport import check_arguments
from ._transport import emulator_account
from ._transport import is_loopback_https
from ._transport import loopback_fingerprint

__all__ = ["AioCosmosStore"]

T = TypeVar("T")
Item = dict[str, Any]


def _point(op: str, partition_key: str, id: str | None, writes: bool) -> Awaitable[None]:
    """The operation's scheduling point: the controlled runtime's, else a plain asyncio yield
    (the store then works under any asyncio loop, e.g. ``asyncio.run``)."""
    if CONTROLLED.get() is None:
        return asyncio.sleep(0)
    return checkpoint(op, partition_key, id, writes)


def _raise(error: BaseException) -> NoReturn:
    raise error


class AioCosmosStore:
    """The store contract over one Cosmos DB container, through ``azure.cosmos.aio``.

    Same items, semantics, errors and limits as :class:`stores.cosmos.CosmosStore` (see its
    docstring and ``docs/cosmos.md``); the differences: operations await the asyncio SDK on
    the loop that drives them (the controlled asyncio runtime, or any asyncio loop), and the
    SDK client with its aiohttp session is opened on first use inside that loop (a session
    belongs to one loop) and closed by :meth:`aclose`.  One client per store: under the
    harness, one store per schedule, so that no schedule depends on connections an earlier one
    left in a pool.  Under the controlled runtime, run it with ``use_runtime("asyncio")``
    (aiohttp needs a task from its first request).
    """

    def __init__(
        self,
        *,
        endpoint: str,
        key: str,
        database: str,
        container: str,
        tls_fingerprint: str | None = None,
        create_if_missing: bool = True,
        probe: EndpointProbe | None = None,
    ) -> None:
        """Check the arguments and pin a loopback certificate; no request is made before the
        first operation.  Arguments as ``CosmosStore``'s."""
        check_arguments(endpoint=endpoint, key=key, database=database, container=container)
        self.endpoint = endpoint
        self.database = database
        self.container = container
        self._key = key
        self._create_if_missing = create_if_missing
        self._health = health = EndpointHealth(endpoint, probe)
        self._errors = ErrorMapper(
            endpoint=endpoint, database=database, container=container, secret=key, health=health
        )
        if tls_fingerprint is None and is_loopback_https(endpoint):
            try:  # trust on first use, on this machine only (see CosmosStore)
                tls_fingerprint = loopback_fingerprint(endpoint, health)
            except OSError as exc:
                self._errors.unavailable(
                    "connect",
                    None,
                    exc,
                    "check that the endpoint is running (COSMOS_ENDPOINT, or the embedded "
                    "endpoint's log)",
                )
        self._fingerprint = tls_fingerprint
        # The item layout is CosmosStore's: borrow its mapping of items to documents.
        self._items = CosmosStore.__new__(CosmosStore)
        self._items.endpoint, self._items.database = endpoint, database
        self._items.container = container
        self._client: CosmosClient | None = None
        self._container: ContainerProxy | None = None
        self._opening: asyncio.Lock | None = None
        self._closed = False

    @classmethod
    def from_env(
        cls,
        *,
        database: str = "claimcheck",
        container: str = "store",
        environ: Mapping[str, str] | None = None,
        create_if_missing: bool = True,
    ) -> AioCosmosStore:
        """A store on the account named by ``COSMOS_ENDPOINT`` and ``COSMOS_KEY`` (and
        ``COSMOS_TLS_FINGERPRINT``), as ``CosmosStore.from_env``."""
        return cls(
            **account_from_env(environ),
            database=database,
            container=container,
            create_if_missing=create_if_missing,
        )

    @classmethod
    def for_emulator(
        cls,
        emulator: _AccountSettings,
        *,
        database: str,
        container: str = "store",
        create_if_missing: bool = True,
    ) -> AioCosmosStore:
        """A store on an embedded endpoint (``stores.emulator.start_emulator()``), watching
        its process as ``CosmosStore.for_emulator`` does."""
        return cls(
            **emulator_account(emulator),
            database=database,
            container=container,
            create_if_missing=create_if_missing,
        )

    async def aclose(self) -> None:
        """Close the SDK client and its aiohttp session (idempotent); later calls are
        ``StoreMisuse``.  Await it on the loop that used the store."""
        self._closed = True
        client, self._client, self._container = self._client, None, None
        if client is not None:
            await close_client(client)

    def __repr__(self) -> str:
        return (
            f"AioCosmosStore(endpoint={self.endpoint!r}, database={self.database!r}, "
            f"container={self.container!r})"
        )

    async def _ready(self) -> ContainerProxy:
        if self._closed:
            raise StoreMisuse(f"{self!r} was closed; make a new store")
        if self._container is None:
            if self._opening is None:
                self._opening = asyncio.Lock()
            async with self._opening:
                if self._container is None:
                    self._client, self._container = await open_aio_container(
                        endpoint=self.endpoint,
                        key=self._key,
                        database=self.database,
                        container=self.container,
                        partition_key_path=f"/{_PK}",
                        transport=build_aio_transport(self._fingerprint, self._health),
                        pinned=self._fingerprint is not None,
                        create_if_missing=self._create_if_missing,
                    )
        return self._container

    async def _guard(self, op: str, id: str | None, run: Callable[[], Awaitable[T]]) -> T:
        """``run()`` with the SDK's errors mapped as ``ErrorMapper.guard`` maps them."""
        self._errors.guard(op, id, lambda: None)  # a down endpoint: EndpointUnavailable now
        try:
            return await run()
        except Exception as exc:
            error = exc
        self._errors.guard(op, id, lambda: _raise(error))
        raise AssertionError("unreachable")  # pragma: no cover

    # -- the contract ------------------------------------------------------------------------

    async def create(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        validate_key("id", id)
        validate_key("partition_key", partition_key)
        fields = _check_fields("body", freeze_body(body))
        await _point("create", partition_key, id, True)
        return await self._guard("create", id, lambda: self._create(id, partition_key, fields))

    async def get(self, id: str, partition_key: str) -> Doc | None:
        validate_key("id", id)
        validate_key("partition_key", partition_key)
        await _point("get", partition_key, id, False)

        async def get() -> Doc | None:
            item = await self._read_live(id, partition_key)
            return None if item is None else self._items._doc(item, partition_key)

        return await self._guard("get", id, get)

    async def replace(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        validate_key("id", id)
        validate_key("partition_key", partition_key)
        fields = _check_fields("body", freeze_body(body))
        await _point("replace", partition_key, id, True)
        return await self._guard("replace", id, lambda: self._replace(id, partition_key, fields))

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        validate_key("id", id)
        validate_key("partition_key", partition_key)
        validate_expected(expected)
        changes = _check_fields("patch", freeze_body(validate_patch(patch), name="patch"))
        await _point("update_if_match", partition_key, id, True)
        return await self._guard(
            "update_if_match", id, lambda: self._update(id, partition_key, expected, changes)
        )

    async def delete(self, id: str, partition_key: str) -> bool:
        validate_key("id", id)
        validate_key("partition_key", partition_key)
        await _point("delete", partition_key, id, True)
        return await self._guard("delete", id, lambda: self._delete(id, partition_key))

    async def list_partition(self, partition_key: str) -> list[Doc]:
        validate_key("partition_key", partition_key)
        await _point("list_partition", partition_key, None, False)

        async def list_partition() -> list[Doc]:
            items = await self._query(_LIST_QUERY, partition_key)
            docs = [
                self._items._doc(item, partition_key)
                for item in items
                if item.get(_PK) == partition_key and not _is_tombstone(item)
            ]
            return sorted(docs, key=lambda doc: doc.id)  # Python's str order, the contract's

        return await self._guard("list_partition", None, list_partition)

    # -- outside the contract ----------------------------------------------------------------

    async def apurge_partition(self, partition_key: str) -> int:
        """Remove every item of ``partition_key``, tombstones included (no scheduling point);
        how many.  As ``CosmosStore.purge_partition``."""
        validate_key("partition_key", partition_key)

        async def ids() -> list[str]:
            return [str(item["id"]) for item in await self._query(_IDS_QUERY, partition_key)]

        async def remove(id: str) -> bool:
            container = await self._ready()
            try:
                await container.delete_item(item=id, partition_key=partition_key)
            except CosmosResourceNotFoundError:
                return False
            return True

        removed = 0
        for id in await self._guard("purge_partition", None, ids):
            removed += await self._guard("purge", id, lambda id=id: remove(id))  # type: ignore[misc]
        return removed

    # -- the operations' requests ------------------------------------------------------------

    async def _create(self, id: str, partition_key: str, fields: Mapping[str, Any]) -> Doc:
        container = await self._ready()
        token = uuid.uuid4().hex
        for _ in range(_MAX_ATTEMPTS):
            new = {**_item(id, partition_key, fields, 1), _CREATE_TOKEN: token}
            try:
                item = await _send_write(container.create_item(body=new))
                return self._items._written_doc(item, partition_key)
            except CosmosResourceExistsError:
                pass
            existing = await self._read(id, partition_key)
            if existing is None:
                continue  # removed by someone else in between: try a plain create again
            if existing.get(_CREATE_TOKEN) == token:
                # Our own create: an earlier attempt applied and the SDK's resend got 409.
                return self._items._written_doc(existing, partition_key)
            if not _is_tombstone(existing):
                raise DocumentExists(
                    f"document {id!r} already exists in partition {partition_key!r}"
                )
            # Re-create over the tombstone, fenced by its etag.
            rev = self._items._rev(existing) + 1
            written = await self._write_if(
                existing, {**_item(id, partition_key, fields, rev), _CREATE_TOKEN: token}
            )
            if written is not None and written is not _Lost.LOST:
                return self._items._written_doc(written, partition_key)
        self._items._give_up("create", id)

    async def _replace(self, id: str, partition_key: str, fields: Mapping[str, Any]) -> Doc:
        missing = f"document {id!r} not found in partition {partition_key!r}"
        for _ in range(_MAX_ATTEMPTS):
            item = await self._read_live(id, partition_key)
            if item is None:
                raise DocumentNotFound(missing)
            rev = self._items._rev(item) + 1
            written = await self._write_if(item, _item(id, partition_key, fields, rev))
            if written is None:
                raise DocumentNotFound(missing)
            if written is not _Lost.LOST:
                return self._items._written_doc(written, partition_key)
        self._items._give_up("replace", id)

    async def _update(
        self, id: str, partition_key: str, expected: Expected, changes: Mapping[str, Any]
    ) -> UpdateResult:
        for _ in range(_MAX_ATTEMPTS):
            item = await self._read_live(id, partition_key)
            if item is None:
                return NotFound()
            current = self._items._doc(item, partition_key)
            if not expected.matches(current):
                return Conflict()
            new = _item(id, partition_key, {**current.body, **changes}, current.rev + 1)
            # If-Match on the etag just read fences the comparison: here another actor's
            # request may really come in between (each await is a step), and makes this a 412.
            written = await self._write_if(item, new)
            if written is None:
                return NotFound()
            if written is not _Lost.LOST:
                return Updated(doc=self._items._written_doc(written, partition_key))
        self._items._give_up("update_if_match", id)

    async def _delete(self, id: str, partition_key: str) -> bool:
        for _ in range(_MAX_ATTEMPTS):
            item = await self._read_live(id, partition_key)
            if item is None:
                return False
            rev = self._items._rev(item)
            tombstone = {"id": id, _PK: partition_key, _REV: rev, _TOMBSTONE: True}
            written = await self._write_if(item, tombstone)
            if written is None:
                return False
            if written is not _Lost.LOST:
                return True
        self._items._give_up("delete", id)

    async def _query(self, query: str, partition_key: str) -> list[Item]:
        # The WHERE on pk is in the query itself: the embedded endpoint ignores the partition
        # key of a query (see CosmosStore.list_partition).
        container = await self._ready()
        items = container.query_items(
            query=query,
            parameters=[{"name": "@pk", "value": partition_key}],
            partition_key=partition_key,
        )
        return [dict(item) async for item in items]

    async def _read(self, id: str, partition_key: str) -> Item | None:
        container = await self._ready()
        try:
            return dict(await container.read_item(item=id, partition_key=partition_key))
        except CosmosResourceNotFoundError:
            return None

    async def _read_live(self, id: str, partition_key: str) -> Item | None:
        item = await self._read(id, partition_key)
        return None if item is None or _is_tombstone(item) else item

    async def _write_if(self, current: Mapping[str, Any], new: Item) -> Item | _LostT | None:
        """Replace ``current`` by ``new`` if unchanged: the new item, ``LOST`` on 412, ``None``
        on 404."""
        container = await self._ready()
        try:
            return await _send_write(
                container.replace_item(
                    item=current["id"],
                    body=new,
                    etag=current["_etag"],
                    match_condition=MatchConditions.IfNotModified,
                )
            )
        except CosmosAccessConditionFailedError:
            return _Lost.LOST
        except CosmosResourceNotFoundError:
            return None


_LostT = Literal[_Lost.LOST]


async def _send_write(request: Awaitable[Mapping[str, Any]]) -> Item:
    """Await one write request, its errors classified as ``_errors.send_write`` classifies
    them (``MaybeApplied`` when it may have been applied)."""
    try:
        answer = await request
    except Exception as exc:
        error = exc
        send_write(lambda: _raise(error))
        raise AssertionError("unreachable") from exc  # pragma: no cover
    return dict(answer)
