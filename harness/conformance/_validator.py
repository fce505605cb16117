"""The validator: every store the conformance suite touches is wrapped in a
:class:`ValidatingStore`, which turns a result of the wrong type or shape into a finding
(:class:`MalformedResult`) with the offending value as evidence."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from stores import Conflict
from stores import Doc
from stores import Expected
from stores import NotFound
from stores import Store
from stores import StoreWrapper
from stores import Updated
from stores import UpdateResult

from .._findings import Finding
from ._watchdog import Watch

__all__ = ["MalformedResult", "ValidatingStore"]


#: Attribute set on an exception that came out of the store under test: the operation.
STORE_OPERATION = "_claimcheck_store_operation"


def raised_by_store(error: BaseException) -> str | None:
    """The store operation that raised ``error``, or None when the store did not raise it."""
    op = getattr(error, STORE_OPERATION, None)
    return op if isinstance(op, str) else None


class MalformedResult(Finding):
    """A store operation returned a value the contract does not allow."""


def _bad(op: str, what: str, value: object) -> MalformedResult:
    return MalformedResult(f"{op} returned {what}: {value!r} ({type(value).__name__})")


class ValidatingStore(StoreWrapper):
    """Delegates to ``inner`` and checks every result against the contract's types; tells
    ``watch`` which operation is in flight."""

    # The suite checks the Store contract, and fork is no part of it: a validator that forked
    # would run the exploring checks on the backend's fork() instead of the store it was given
    # (a MemoryStore subclass forks into a plain, correct MemoryStore).
    forkable = False

    def __init__(self, inner: Store, watch: Watch | None = None) -> None:
        super().__init__(inner)
        self.watch = watch

    def _doc(self, op: str, doc: object, id: str, partition_key: str) -> Doc:
        if not isinstance(doc, Doc):
            raise _bad(op, "something that is not a stores.Doc", doc)
        if doc.id != id or doc.partition_key != partition_key:
            raise _bad(op, f"a Doc for another document (wanted {partition_key}/{id})", doc)
        if not isinstance(doc.body, Mapping):
            raise _bad(op, "a Doc whose body is not a mapping", doc.body)
        if not isinstance(doc.etag, str) or not doc.etag:
            raise _bad(op, "a Doc whose etag is not a non-empty str", doc.etag)
        if isinstance(doc.rev, bool) or not isinstance(doc.rev, int) or doc.rev < 1:
            raise _bad(op, "a Doc whose rev is not a positive int", doc.rev)
        return doc

    async def _call(self, op: str, coro: Any) -> Any:
        if self.watch is not None:
            self.watch.current = (op, time.monotonic())
        try:
            return await coro
        except (Exception, SystemExit) as error:
            # Mark what the store itself raised, so that the suite blames the store for it and
            # only for it (a coordinator or harness error is reported as such).
            if not hasattr(error, STORE_OPERATION):
                setattr(error, STORE_OPERATION, op)
            raise
        finally:
            if self.watch is not None:
                self.watch.current = None

    async def create(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        doc = await self._call(f"create({id})", self.inner.create(id, partition_key, body))
        return self._doc(f"create({id})", doc, id, partition_key)

    async def get(self, id: str, partition_key: str) -> Doc | None:
        doc = await self._call(f"get({id})", self.inner.get(id, partition_key))
        return None if doc is None else self._doc(f"get({id})", doc, id, partition_key)

    async def replace(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        doc = await self._call(f"replace({id})", self.inner.replace(id, partition_key, body))
        return self._doc(f"replace({id})", doc, id, partition_key)

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        op = f"update_if_match({id})"
        result = await self._call(
            op, self.inner.update_if_match(id, partition_key, expected, patch)
        )
        if isinstance(result, Updated):
            self._doc(op, result.doc, id, partition_key)
        elif not isinstance(result, Conflict | NotFound):
            raise _bad(op, "something that is not Updated, Conflict or NotFound", result)
        return result  # type: ignore[no-any-return]

    async def delete(self, id: str, partition_key: str) -> bool:
        done = await self._call(f"delete({id})", self.inner.delete(id, partition_key))
        if not isinstance(done, bool):
            raise _bad(f"delete({id})", "something that is not a bool", done)
        return done

    async def list_partition(self, partition_key: str) -> list[Doc]:
        op = f"list_partition({partition_key})"
        docs = await self._call(op, self.inner.list_partition(partition_key))
        if not isinstance(docs, list):
            raise _bad(op, "something that is not a list", docs)
        for doc in docs:
            if not isinstance(doc, Doc) or doc.partition_key != partition_key:
                raise _bad(op, "a list holding something other than this partition's Docs", doc)
        return docs
