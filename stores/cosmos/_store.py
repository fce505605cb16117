"""``CosmosStore``: the store contract over one Cosmos DB container, through the SDK.

The item layout (reserved fields, tombstones instead of deletes) and the compare-and-set by
If-Match live here; the transport and client set-up are in ``_transport``, the mapping of SDK
errors in ``_errors``.  Design notes, measured figures and the embedded endpoint's deviations
from the real service are in ``docs/cosmos.md``.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from functools import partial
from typing import Any
from typing import Literal
from typing import NoReturn

from azure.core import MatchConditions
from azure.cosmos.exceptions import CosmosAccessConditionFailedError
from azure.cosmos.exceptions import CosmosResourceExistsError
from azure.cosmos.exceptions import CosmosResourceNotFoundError

from .._contract import Conflict
from .._contract import Doc
from .._contract import DocumentExists
from .._contract import DocumentNotFound
from .._contract import Expected
from .._contract import NotFound
from .._contract import OutcomeUnknown
from .._contract import StoreMisuse
from .._contract import StoreUnavailable
from .._contract import Updated
from .._contract import UpdateResult
from .._contract import freeze_body
from .._contract import validate_expected
from .._contract import validate_key
from .._contract import validate_patch
from .._points import run_io
from ._errors import ErrorMapper
from ._errors import send_write
from ._transport import EndpointHealth
from ._transport import EndpointProbe
from ._transport import TransportWrapper
from ._transport import _AccountSettings
from ._transport import account_from_env
from ._transport import build_transport
from ._transport import check_arguments
from ._transport import emulator_account
from ._transport import is_loopback_https
from ._transport import loopback_fingerprint
from ._transport import open_container

__all__ = ["RESERVED_FIELDS", "CosmosStore"]

#: Item fields this store owns, next to the body's fields: ``id``; ``pk``, the container's
#: partition key path (``/pk``) holding ``Doc.partition_key``; ``rev``; and ``tombstone``, present
#: only on deleted ids (see ``CosmosStore``).  A body or patch may not use them.
_PK = "pk"
_REV = "rev"
_TOMBSTONE = "tombstone"
#: A per-call token in every item a create writes: when the SDK resends a create whose first
#: attempt applied behind a lost answer, the resend answers 409, and the token tells our own
#: document from someone else's.
_CREATE_TOKEN = "ccop"
#: Fields the service adds to every item; stripped from ``Doc.body``.
_SYSTEM_FIELDS = frozenset({"_rid", "_self", "_etag", "_attachments", "_ts"})
RESERVED_FIELDS = frozenset({"id", _PK, _REV, _TOMBSTONE, _CREATE_TOKEN}) | _SYSTEM_FIELDS

#: Read-then-conditional-write loops retry only after another writer changed the item in between
#: (HTTP 412).  ``update_if_match``, ``create`` and ``delete`` settle on their second pass (the
#: change they lost to is visible to the re-read); ``replace`` retries while it keeps losing.
_MAX_ATTEMPTS = 64

_LIST_QUERY = f"SELECT * FROM c WHERE c.{_PK} = @pk AND NOT IS_DEFINED(c.{_TOMBSTONE})"
_IDS_QUERY = f"SELECT c.id FROM c WHERE c.{_PK} = @pk"


class _Lost(enum.Enum):
    """A conditional write that lost to another write (HTTP 412)."""

    LOST = "lost"


class CosmosStore:
    """The store contract over one Cosmos DB container, through the synchronous SDK.

    Threads: every operation is one :func:`stores.run_io` call, so under trio it runs in a worker
    thread (at most ``IO_THREADS`` at once) and under the controlled runtime it runs inline right
    after its scheduling point.  One SDK client, thread-safe, is shared by all threads; its
    connection pool holds ``IO_THREADS`` connections.

    Mapping: an item is the document's body fields at top level, plus ``id``, ``pk`` (the
    container's partition key path ``/pk``, holding ``Doc.partition_key``) and ``rev``.
    ``Doc.etag`` is the item's ``_etag`` (opaque: compare for equality only; the real service
    quotes it, the embedded one does not); the service's system fields are stripped from
    ``Doc.body``.  Bodies may not use :data:`RESERVED_FIELDS`.  The container must be written
    only through this class.

    No ABA: ``rev`` must strictly increase per id and never be reused, even across delete and
    re-create.  ``delete`` therefore does not remove the item: it replaces it, conditionally on
    the etag it read, with a tombstone ``{id, pk, rev: <last rev>, tombstone: true}`` that every
    read treats as absent.  ``create`` of a tombstoned id replaces the tombstone (conditionally
    on its etag) with the new document at ``rev + 1``.  So the last rev of an id lives as long as
    the id: a per-id counter document would need a second write per delete that the service can
    only make atomic with a transactional batch, which the embedded endpoint does not support.
    The price is one small item per deleted id, never expired (a TTL would bring ABA back).

    Compare-and-set: ``update_if_match`` reads the item, compares ``expected`` (rev and/or etag)
    in Python, then replaces the item with ``If-Match: <etag it read>``.  The If-Match is the
    fence: if any write landed since the read, the service answers 412 and nothing is written,
    so the comparison and the write are one atomic step.  A 412 is not mapped straight to
    ``Conflict``: the write it lost to may have been a delete (a tombstone), so the item is read
    again and the outcome classified from that read (``NotFound`` or ``Conflict``; it cannot
    match again, since every write changes both tokens).  Upsert is never used: with If-Match it
    re-creates a deleted item.  ``replace`` is unconditional for the caller, but it too reads and
    writes with If-Match (retrying when it loses) so that concurrent replaces never write the
    same rev twice.

    Errors the contract does not cover: a write request that was sent and whose answer was lost
    (or timed out, or was a server failure other than 503) raises ``stores.OutcomeUnknown``: it
    may or may not have been applied.  Anything that proves nothing was written (unreachable
    endpoint, rejected key, 429/503 after the SDK's retries, a read that failed) raises
    ``stores.StoreUnavailable``.  Both name the endpoint and what to do, in one line.  The key
    is handed to the SDK client and kept here only to redact it from error text: it never
    appears in a repr, an error or output.

    Bounded: a request waits at most 5 s to connect and 5 s for its answer.  An endpoint that
    refuses a connection, does not answer in time, or whose process exited (``probe``) is down
    for good (``EndpointHealth``): that call and every later one raise ``EndpointUnavailable``
    (a ``StoreUnavailable``) at once, without a request, so that neither the SDK's retries nor
    the caller's stretch a dead endpoint out.  Faults a ``transport_wrapper`` injects never count.
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
        transport_wrapper: TransportWrapper | None = None,
        probe: EndpointProbe | None = None,
    ) -> None:
        """Connect; create the database and container (partition key ``/pk``) if missing.

        ``tls_fingerprint`` (hex SHA-256 of the server certificate) pins that certificate
        instead of verifying a CA chain: for an emulator's self-signed certificate.
        ``transport_wrapper``, if given, is called once with the transport the store builds and
        returns the transport the SDK client uses (and the store closes): for fault injection at
        the HTTP level (``stores.cosmos.FaultyTransport``).  It sees every request, the connection
        set-up's included, below the SDK's retry policies.  ``probe``, if given, is asked before
        every request whether the endpoint's process is gone for good (``None``: it may be up;
        else one line saying why): ``for_emulator`` passes the embedded server's exit check.
        Raises :class:`StoreUnavailable` if the account cannot be reached or rejects the key,
        and :class:`StoreMisuse` for an invalid argument or a container with another partition
        key.
        """
        check_arguments(endpoint=endpoint, key=key, database=database, container=container)
        self.endpoint = endpoint
        self.database = database
        self.container = container
        health = EndpointHealth(endpoint, probe)
        # The key goes to the SDK client; the mapper keeps it only to redact it from messages.
        self._errors = ErrorMapper(
            endpoint=endpoint, database=database, container=container, secret=key, health=health
        )
        if tls_fingerprint is None and is_loopback_https(endpoint):
            # The SDK never verifies a loopback endpoint (it turns verification off for
            # localhost/127.0.0.1, and urllib3 would then warn on every request); pin the
            # certificate it presents now instead: trust on first use, on this machine only.
            try:
                tls_fingerprint = loopback_fingerprint(endpoint, health)
            except OSError as exc:
                self._errors.unavailable(
                    "connect",
                    None,
                    exc,
                    "check that the endpoint is running (COSMOS_ENDPOINT, or the embedded "
                    "endpoint's log)",
                )
        transport = build_transport(tls_fingerprint, transport_wrapper, health)
        self._transport = transport
        pinned = tls_fingerprint is not None
        try:
            self._client, self._container = self._errors.guard(
                "connect",
                None,
                lambda: open_container(
                    endpoint=endpoint,
                    key=key,
                    database=database,
                    container=container,
                    partition_key_path=f"/{_PK}",
                    transport=transport,
                    pinned=pinned,
                    create_if_missing=create_if_missing,
                ),
            )
        except BaseException:
            transport.close()
            raise

    @classmethod
    def from_env(
        cls,
        *,
        database: str = "claimcheck",
        container: str = "store",
        environ: Mapping[str, str] | None = None,
        transport_wrapper: TransportWrapper | None = None,
    ) -> CosmosStore:
        """A store on the account named by ``COSMOS_ENDPOINT`` and ``COSMOS_KEY``.

        Microsoft's emulator on this machine (``https://localhost:8081/``) needs nothing more:
        a loopback endpoint's certificate is pinned on first use.  ``COSMOS_TLS_FINGERPRINT``
        (hex SHA-256 of the certificate) pins a given certificate instead, e.g. for an emulator
        in a container reached by name; a real account is verified against the usual CAs.
        """
        return cls(
            **account_from_env(environ),
            database=database,
            container=container,
            transport_wrapper=transport_wrapper,
        )

    @classmethod
    def for_emulator(
        cls,
        emulator: _AccountSettings,
        *,
        database: str,
        container: str = "store",
        transport_wrapper: TransportWrapper | None = None,
    ) -> CosmosStore:
        """A store on an embedded endpoint (``stores.emulator.start_emulator()``).  If the
        server exits while the store is in use, the next call raises ``EndpointUnavailable``
        with the server's exit status and its log (``EmulatorHandle.exit_reason``)."""
        return cls(
            **emulator_account(emulator),
            database=database,
            container=container,
            transport_wrapper=transport_wrapper,
        )

    def close(self) -> None:
        """Close the SDK client and its pooled connections (idempotent)."""
        self._client.close()
        self._transport.close()

    def __enter__(self) -> CosmosStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"CosmosStore(endpoint={self.endpoint!r}, database={self.database!r}, "
            f"container={self.container!r})"
        )

    # -- the contract ------------------------------------------------------------------------

    async def create(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        validate_key("id", id)
        validate_key("partition_key", partition_key)
        fields = _check_fields("body", freeze_body(body))

        def create() -> Doc:
            token = uuid.uuid4().hex
            for _ in range(_MAX_ATTEMPTS):
                try:
                    item = send_write(
                        lambda: self._container.create_item(
                            body={**_item(id, partition_key, fields, 1), _CREATE_TOKEN: token}
                        )
                    )
                    return self._written_doc(item, partition_key)
                except CosmosResourceExistsError:
                    pass
                existing = self._read(id, partition_key)
                if existing is None:
                    continue  # removed by someone else in between: try a plain create again
                if existing.get(_CREATE_TOKEN) == token:
                    # Our own create: an earlier attempt applied and the SDK's resend got 409.
                    return self._written_doc(existing, partition_key)
                if not _is_tombstone(existing):
                    raise DocumentExists(
                        f"document {id!r} already exists in partition {partition_key!r}"
                    )
                # Re-create over the tombstone, fenced by its etag: a racing re-create or a
                # concurrent writer makes this 412 and we look again.
                rev = self._rev(existing) + 1
                written = self._write_if(
                    existing, {**_item(id, partition_key, fields, rev), _CREATE_TOKEN: token}
                )
                if written is None or written is _Lost.LOST:
                    continue
                return self._written_doc(written, partition_key)
            self._give_up("create", id)

        return await run_io(
            lambda: self._errors.guard("create", id, create), "create", partition_key, id, True
        )

    async def get(self, id: str, partition_key: str) -> Doc | None:
        validate_key("id", id)
        validate_key("partition_key", partition_key)

        def get() -> Doc | None:
            item = self._read_live(id, partition_key)
            return None if item is None else self._doc(item, partition_key)

        return await run_io(
            lambda: self._errors.guard("get", id, get), "get", partition_key, id, False
        )

    async def replace(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        validate_key("id", id)
        validate_key("partition_key", partition_key)
        fields = _check_fields("body", freeze_body(body))

        def replace() -> Doc:
            for _ in range(_MAX_ATTEMPTS):
                item = self._read_live(id, partition_key)
                if item is None:
                    raise DocumentNotFound(
                        f"document {id!r} not found in partition {partition_key!r}"
                    )
                written = self._write_if(
                    item, _item(id, partition_key, fields, self._rev(item) + 1)
                )
                if written is _Lost.LOST:
                    continue  # another write came in between: read its rev and go again
                if written is None:
                    raise DocumentNotFound(
                        f"document {id!r} not found in partition {partition_key!r}"
                    )
                return self._written_doc(written, partition_key)
            self._give_up("replace", id)

        return await run_io(
            lambda: self._errors.guard("replace", id, replace), "replace", partition_key, id, True
        )

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        validate_key("id", id)
        validate_key("partition_key", partition_key)
        validate_expected(expected)
        changes = _check_fields("patch", freeze_body(validate_patch(patch), name="patch"))

        def update_if_match() -> UpdateResult:
            for _ in range(_MAX_ATTEMPTS):
                item = self._read_live(id, partition_key)
                if item is None:
                    return NotFound()
                current = self._doc(item, partition_key)
                if not expected.matches(current):
                    return Conflict()
                new = _item(id, partition_key, {**current.body, **changes}, current.rev + 1)
                # If-Match on the etag just read fences the comparison above: no write can
                # land between it and this one without turning this one into a 412.
                written = self._write_if(item, new)
                if written is None:
                    return NotFound()
                if written is not _Lost.LOST:
                    return Updated(doc=self._written_doc(written, partition_key))
                # 412: something was written after our read (maybe a delete). The re-read
                # classifies it; it cannot match, since that write changed rev and etag.
            self._give_up("update_if_match", id)

        return await run_io(
            lambda: self._errors.guard("update_if_match", id, update_if_match),
            "update_if_match",
            partition_key,
            id,
            True,
        )

    async def delete(self, id: str, partition_key: str) -> bool:
        validate_key("id", id)
        validate_key("partition_key", partition_key)

        def delete() -> bool:
            for _ in range(_MAX_ATTEMPTS):
                item = self._read_live(id, partition_key)
                if item is None:
                    return False
                tombstone = {"id": id, _PK: partition_key, _REV: self._rev(item), _TOMBSTONE: True}
                written = self._write_if(item, tombstone)
                if written is None:
                    return False
                if written is not _Lost.LOST:
                    return True
            self._give_up("delete", id)

        return await run_io(
            lambda: self._errors.guard("delete", id, delete), "delete", partition_key, id, True
        )

    async def list_partition(self, partition_key: str) -> list[Doc]:
        validate_key("partition_key", partition_key)

        def list_partition() -> list[Doc]:
            # The WHERE on pk is not redundant with partition_key=: the embedded endpoint
            # ignores the partition key of a query and would scan every partition.
            items = self._container.query_items(
                query=_LIST_QUERY,
                parameters=[{"name": "@pk", "value": partition_key}],
                partition_key=partition_key,
            )
            docs = [
                self._doc(item, partition_key)
                for item in items
                if item.get(_PK) == partition_key and not _is_tombstone(item)
            ]
            # Sorted here, not by ORDER BY: Python's str order is the contract's order.
            return sorted(docs, key=lambda doc: doc.id)

        return await run_io(
            lambda: self._errors.guard("list_partition", None, list_partition),
            "list_partition",
            partition_key,
            None,
            False,
        )

    # -- outside the contract ----------------------------------------------------------------

    def purge_partition(self, partition_key: str) -> int:
        """Remove every item of ``partition_key``, tombstones included; return how many.

        Not a store operation (synchronous, no scheduling point): for a partition nobody will
        use again, e.g. a finished schedule's namespace (``NamespacedStore.close``).  Without
        its tombstones a re-created id would start again at rev 1.  Raises like the operations.
        """
        validate_key("partition_key", partition_key)

        def ids() -> list[str]:
            # The WHERE on pk, as in list_partition: the embedded endpoint ignores the partition
            # key of a query.
            items = self._container.query_items(
                query=_IDS_QUERY,
                parameters=[{"name": "@pk", "value": partition_key}],
                partition_key=partition_key,
            )
            return [str(item["id"]) for item in items]

        def remove(id: str) -> bool:
            try:
                self._container.delete_item(item=id, partition_key=partition_key)
            except CosmosResourceNotFoundError:
                return False
            return True

        # One guarded call per request, so that a failure's "nothing was written" is true of it.
        removed = 0
        for id in self._errors.guard("purge_partition", None, ids):
            removed += self._errors.guard("purge", id, partial(remove, id))
        return removed

    # -- helpers (run in the I/O thread) ---------------------------------------------------

    def _read(self, id: str, partition_key: str) -> dict[str, Any] | None:
        """The raw item, tombstone included, or ``None``."""
        try:
            return dict(self._container.read_item(item=id, partition_key=partition_key))
        except CosmosResourceNotFoundError:
            return None

    def _read_live(self, id: str, partition_key: str) -> dict[str, Any] | None:
        item = self._read(id, partition_key)
        return None if item is None or _is_tombstone(item) else item

    def _write_if(
        self, current: Mapping[str, Any], new: dict[str, Any]
    ) -> dict[str, Any] | Literal[_Lost.LOST] | None:
        """Replace ``current`` by ``new`` if unchanged: the new item, ``LOST`` on 412 (a write
        came in between), ``None`` on 404."""
        try:
            return send_write(
                lambda: self._container.replace_item(
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

    def _written_doc(self, item: Mapping[str, Any], partition_key: str) -> Doc:
        """The document a write returned; the write took effect, so a malformed answer is an
        unknown outcome for the caller, not a refusal."""
        try:
            return self._doc(item, partition_key)
        except StoreUnavailable as exc:
            raise OutcomeUnknown(f"{exc} The write itself was applied.") from exc

    def _rev(self, item: Mapping[str, Any]) -> int:
        rev = item.get(_REV)
        if isinstance(rev, bool) or not isinstance(rev, int) or rev < 1:
            raise StoreUnavailable(
                f"item {item.get('id')!r} in container {self.container!r} at {self.endpoint} "
                f"has {_REV}={rev!r}, not a positive int: the container holds items not written "
                "by CosmosStore; use a container of its own."
            )
        return rev

    def _doc(self, item: Mapping[str, Any], partition_key: str) -> Doc:
        etag = item.get("_etag")
        if not isinstance(etag, str) or not etag:
            raise StoreUnavailable(
                f"item {item.get('id')!r} from {self.endpoint} has no _etag; the endpoint is "
                "not behaving like Cosmos DB."
            )
        body = {k: v for k, v in item.items() if k not in RESERVED_FIELDS}
        return Doc(
            id=str(item["id"]),
            partition_key=partition_key,
            body=freeze_body(body),
            etag=etag,
            rev=self._rev(item),
        )

    def _give_up(self, op: str, id: str) -> NoReturn:
        raise StoreUnavailable(
            f"{op} of {id!r} at {self.endpoint} lost {_MAX_ATTEMPTS} conditional writes in a "
            "row to concurrent writers; lower the contention on this document."
        )


def _item(id: str, partition_key: str, fields: Mapping[str, Any], rev: int) -> dict[str, Any]:
    return {**fields, "id": id, _PK: partition_key, _REV: rev}


def _is_tombstone(item: Mapping[str, Any]) -> bool:
    return item.get(_TOMBSTONE) is True


def _check_fields(name: str, fields: Mapping[str, Any]) -> Mapping[str, Any]:
    clash = sorted(RESERVED_FIELDS.intersection(fields))
    if clash:
        raise StoreMisuse(
            f"{name} may not use the field(s) {clash!r}: the Cosmos store keeps "
            f"{sorted(RESERVED_FIELDS)!r} for itself; rename them."
        )
    return fields
