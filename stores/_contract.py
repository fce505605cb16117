"""The store contract: the narrow waist between the coordinator, the harness and the backends."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any
from typing import ClassVar
from typing import Literal
from typing import Protocol
from typing import runtime_checkable

import attrs

__all__ = [
    "Conflict",
    "Doc",
    "DocumentExists",
    "DocumentNotFound",
    "Expected",
    "NotFound",
    "OutcomeUnknown",
    "Store",
    "StoreError",
    "StoreMisuse",
    "StoreUnavailable",
    "UpdateResult",
    "Updated",
    "document_key",
    "freeze_body",
    "is_flat",
    "private_body",
    "validate_expected",
    "validate_key",
    "validate_patch",
]


class StoreError(Exception):
    """Base class of the errors a store raises for an expected, documented condition."""


class StoreMisuse(StoreError, ValueError):
    """The caller passed an argument the contract does not allow (a precise message says which)."""


class DocumentExists(StoreError):
    """``create`` found a document with the same id in the same partition (never overwritten)."""


class DocumentNotFound(StoreError):
    """``replace`` found no document with that id in that partition."""


class OutcomeUnknown(StoreError):
    """The request may or may not have taken effect (a lost response, a timeout).

    Callers must treat the write as possibly applied, now or later: re-read, or repeat the same
    *conditional* write, which can apply at most once.
    """


class StoreUnavailable(StoreError):
    """The store refused or could not be reached, and the request was NOT applied (a 429 or
    503 after the client's own retries, an unreachable endpoint).  The message names the
    endpoint and what to do, never a secret."""


@attrs.frozen(kw_only=True)
class Doc:
    """A stored document as read or written.

    ``etag`` is opaque (compare it only for equality); ``rev`` is an integer that strictly
    increases with every write of this document (this ``partition_key`` and ``id``) and is
    never reused, not even after delete and re-create, so neither token can suffer ABA.
    ``body`` is read-only to whoever receives it (see ``Store``).
    """

    id: str
    partition_key: str
    body: Mapping[str, Any]
    etag: str
    rev: int


@attrs.frozen(kw_only=True)
class Expected:
    """What ``update_if_match`` compares against: an etag, a rev, or both (both must match)."""

    etag: str | None = None
    rev: int | None = None

    def __attrs_post_init__(self) -> None:
        if self.etag is None and self.rev is None:
            raise StoreMisuse(
                "Expected() needs etag=... or rev=... (or both); got neither. "
                "Pass the etag or rev of the document you read."
            )
        if self.etag is not None and (not isinstance(self.etag, str) or not self.etag):
            raise StoreMisuse(
                f"Expected(etag=...) must be a non-empty str, got {self.etag!r} "
                f"({type(self.etag).__name__}); pass Doc.etag as read."
            )
        if self.rev is not None and (
            isinstance(self.rev, bool) or not isinstance(self.rev, int) or self.rev < 1
        ):
            raise StoreMisuse(
                f"Expected(rev=...) must be a positive int, got {self.rev!r} "
                f"({type(self.rev).__name__}); pass Doc.rev as read."
            )

    def matches(self, doc: Doc) -> bool:
        return (self.etag is None or self.etag == doc.etag) and (
            self.rev is None or self.rev == doc.rev
        )


@attrs.frozen(kw_only=True)
class Updated:
    """``update_if_match`` compared equal and wrote ``doc`` (tokens already bumped)."""

    ok: ClassVar[bool] = True
    reason: ClassVar[None] = None
    doc: Doc


@attrs.frozen(kw_only=True)
class Conflict:
    """``update_if_match`` found the document but its tokens differ: nothing was written."""

    ok: ClassVar[bool] = False
    reason: ClassVar[Literal["conflict"]] = "conflict"


@attrs.frozen(kw_only=True)
class NotFound:
    """``update_if_match`` found no such document: nothing was written."""

    ok: ClassVar[bool] = False
    reason: ClassVar[Literal["not_found"]] = "not_found"


UpdateResult = Updated | Conflict | NotFound


@runtime_checkable
class Store(Protocol):
    """A partitioned document store, seen through six async operations.

    Callers: the fleet coordinator (``fleet``), the harness (contract and conformance checks) and
    tests.  Every method is a coroutine that awaits exactly one scheduling point
    (``stores.checkpoint`` or ``stores.run_io``) before it takes effect, and takes effect
    atomically at that point: under trio that makes concurrent tasks really interleave, under
    the controlled runtime it makes every operation one scheduling decision.

    A store may await several points in one operation, provided each point's label
    ``(op, partition_key, id_or_None, writes)`` says what the operation does from that point to
    its next one: its own partition, its own document (``None``: the whole partition, as
    ``list_partition`` reads), and ``writes=True`` wherever it may change anything.  Nothing
    may take effect before the first point.  Partial-order reduction trusts these labels; the
    conformance suite checks them.

    Arguments: ``id`` and ``partition_key`` are non-empty ``str``; ``body`` is a mapping with
    ``str`` keys and JSON values; ``patch`` maps top-level fields to their new values.  Anything
    else raises :class:`StoreMisuse` naming the argument (``document_key``,
    ``validate_expected``, ``validate_patch`` and ``freeze_body`` do it).  A backend may
    reserve the few top-level field names it keeps its own data under, if it documents them
    and rejects them with :class:`StoreMisuse` (``CosmosStore``: ``id``, ``pk`` and its
    ``_``-prefixed fields).  ``(partition_key,
    id)`` names a document: the same id in two partitions is two documents.

    Bodies are copied on the way in: once a call has returned, its caller may change or reuse
    the mappings it passed, and the stored document does not change.  Bodies handed out (in a
    ``Doc`` from any operation) are read-only for the caller: a store may return an immutable
    mapping (``MemoryStore`` and ``SqliteStore`` return a ``MappingProxyType``) or a private
    copy, and callers must not mutate them.  Where Python lets a caller mutate one anyway (a
    list nested in a read-only mapping), doing so never changes the stored document nor what
    any other call returns: a store never hands out its own mutable state.

    Operations:

    ``create(id, partition_key, body) -> Doc``
        Writes a new document (typically at rev 1; after a delete, at a rev above every rev
        that document had).  If the id exists in the partition, raises
        :class:`DocumentExists`: never an overwrite, even when two creates race.
    ``get(id, partition_key) -> Doc | None``
        The current document, or ``None``.
    ``replace(id, partition_key, body) -> Doc``
        Unconditional full replacement (the pre-fix API, kept unchanged); raises
        :class:`DocumentNotFound` when missing.
    ``update_if_match(id, partition_key, expected, patch) -> Updated | Conflict | NotFound``
        The compare-and-set.  Compares ``expected`` (etag and/or rev; all given must match) with
        the current document and, only if equal, applies ``patch`` -- all as one atomic step:
        no other write to this document can come between the comparison and the write.
        Results expose ``.ok``; ``Updated.doc`` is the written document, ``.reason`` is
        ``"conflict"`` or ``"not_found"`` otherwise, and then nothing was written.
    ``delete(id, partition_key) -> bool``
        ``True`` if a document was removed, ``False`` if there was none.
    ``list_partition(partition_key) -> list[Doc]``
        Every document of the partition, sorted by id.

    Invariants every backend keeps: a successful write (``replace``, and one that changes no
    field, included) changes both ``etag`` and ``rev``; ``rev`` strictly increases per document
    (per ``(partition_key, id)``), may jump, and is never reused; no etag comes back for a
    document (no ABA of either token, even across delete and re-create).
    """

    async def create(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc: ...

    async def get(self, id: str, partition_key: str) -> Doc | None: ...

    async def replace(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc: ...

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult: ...

    async def delete(self, id: str, partition_key: str) -> bool: ...

    async def list_partition(self, partition_key: str) -> list[Doc]: ...


_SCALARS = (str, int, float, bool, type(None))
_SCALAR_TYPES = frozenset(_SCALARS)


def validate_key(name: str, value: object) -> str:
    """Check an ``id`` or ``partition_key`` argument; return it."""
    if not isinstance(value, str) or not value:
        raise StoreMisuse(
            f"{name} must be a non-empty str, got {value!r} ({type(value).__name__}); "
            f"pass the document's {name} as a string."
        )
    return value


def document_key(id: object, partition_key: object) -> tuple[str, str]:
    """Check ``id`` and ``partition_key``; return ``(partition_key, id)``.

    The inline type test comes first: this runs on every operation of every explored schedule.
    """
    if type(id) is str and id and type(partition_key) is str and partition_key:
        return (partition_key, id)
    validate_key("id", id)
    return (validate_key("partition_key", partition_key), str(id))


def validate_expected(expected: object) -> Expected:
    """Check an ``update_if_match`` expectation; return it."""
    if type(expected) is not Expected and not isinstance(expected, Expected):
        raise StoreMisuse(
            f"expected must be stores.Expected(etag=..., rev=...), got {expected!r} "
            f"({type(expected).__name__})."
        )
    return expected


def validate_patch(patch: object) -> Mapping[str, Any]:
    if (
        type(patch) is dict
        and _RESERVED.isdisjoint(patch)
        and _STR_ONLY.issuperset(map(type, patch))
        and "" not in patch
    ):
        return patch  # the common case, checked with C-level set operations
    if not isinstance(patch, Mapping):
        raise StoreMisuse(
            f"patch must be a mapping of top-level field names to new values, got {patch!r} "
            f"({type(patch).__name__}); pass e.g. {{'status': 'leased'}}."
        )
    for key in patch:
        if not isinstance(key, str) or not key:
            raise StoreMisuse(f"patch keys must be non-empty str field names, got {key!r}.")
        if key in _RESERVED:
            raise StoreMisuse(f"patch may not change the reserved field {key!r}.")
    return patch


_RESERVED = frozenset({"id", "_etag", "_rev"})
_STR_ONLY = frozenset({str})


def is_flat(body: Mapping[str, Any]) -> bool:
    """Whether every value of ``body`` is a scalar (then a read-only mapping of it is immutable
    all the way down, and may be handed to any number of callers)."""
    return _SCALAR_TYPES.issuperset(map(type, body.values()))


def private_body(body: Mapping[str, Any]) -> Mapping[str, Any]:
    """A read-only deep copy of ``body``, for a caller that may change what is nested in it."""
    return MappingProxyType(copy.deepcopy(dict(body)))


def freeze_body(body: object, *, name: str = "body") -> Mapping[str, Any]:
    """A private, read-only copy of a document body (deep only when it has to be)."""
    if type(body) is dict or type(body) is MappingProxyType:
        # Fast path (every write of every explored schedule comes here): flat bodies with
        # str keys and scalar values need only a shallow copy.  C-level set checks.
        if _STR_ONLY.issuperset(map(type, body)) and _SCALAR_TYPES.issuperset(
            map(type, body.values())
        ):
            return MappingProxyType(dict(body))
    if not isinstance(body, Mapping):
        raise StoreMisuse(
            f"{name} must be a mapping with str keys, got {body!r} ({type(body).__name__})."
        )
    flat = True
    for key, value in body.items():
        if not isinstance(key, str):
            raise StoreMisuse(f"{name} keys must be str, got {key!r} ({type(key).__name__}).")
        if not isinstance(value, _SCALARS):
            flat = False
    # Most coordinator documents are flat; a shallow copy is then as safe as a deep one.
    return MappingProxyType(dict(body) if flat else copy.deepcopy(dict(body)))
