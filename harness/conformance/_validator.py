"""The validator: every store the conformance suite touches is wrapped in a
:class:`ValidatingStore`, which turns a result of the wrong type or shape into a finding
(:class:`MalformedResult`) with the offending value as evidence, tells the watchdog which
operations are in flight, shows every scheduling point to the label audit, and can keep a
transcript of the calls (the reproducer of a sequential check)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stores import CONTROLLED
from stores import Conflict
from stores import Doc
from stores import Expected
from stores import NotFound
from stores import Store
from stores import StoreWrapper
from stores import Updated
from stores import UpdateResult

from .._findings import Finding
from ..explore import TracingStore
from ._labels import LabelAudit
from ._watchdog import Watch

__all__ = ["MalformedResult", "Transcript", "ValidatingStore", "raised_by_store"]


#: Attribute set on an exception that came out of the store under test: the operation.
STORE_OPERATION = "_claimcheck_store_operation"

#: One call as a line of Python (``create('a', 'p', {'x': 1})``) and what it gave.
Transcript = list[tuple[str, str]]


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
    ``watch`` which operations are in flight; hands the scheduling points of each call to
    ``audit``; appends each call and its outcome to ``transcript`` when one is given."""

    # The suite checks the Store contract, and fork is no part of it: a validator that forked
    # would run the exploring checks on the backend's fork() instead of the store it was given
    # (a MemoryStore subclass forks into a plain, correct MemoryStore).
    forkable = False

    def __init__(
        self,
        inner: Store,
        watch: Watch | None = None,
        *,
        audit: LabelAudit | None = None,
        transcript: Transcript | None = None,
    ) -> None:
        super().__init__(inner)
        self.watch = watch
        self.audit = audit
        self.transcript = transcript

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

    async def _call(
        self, kind: str, target: tuple[str, str | None], args: tuple[Any, ...], coro: Any
    ) -> Any:
        """Await one operation of ``inner``: ``kind`` on ``target`` (partition, id or None)."""
        named = target[1] if target[1] is not None else target[0]
        op = f"{kind}({named if len(named) <= 40 else named[:37] + '...'})"
        if getattr(type(coro), "__await__", None) is None:
            raise _bad(op, "something that cannot be awaited (Store methods are coroutines)", coro)
        ticket = None if self.watch is None else self.watch.start(op)
        points: list[object] = []
        # Points are tuples only under the stepper (its marker is True); audit only those.
        controlled = CONTROLLED.get() is True
        try:
            result = await TracingStore.follow(coro, points.append)
        except (Exception, SystemExit) as error:
            # Mark what the store itself raised, so that the suite blames the store for it and
            # only for it (a coordinator or harness error is reported as such).
            if not hasattr(error, STORE_OPERATION):
                setattr(error, STORE_OPERATION, op)
            self._note(kind, args, f"raised {type(error).__name__}: {error}")
            if self.audit is not None and controlled:
                self.audit.record(kind, target, points, wrote=False, answered=False)
            raise
        finally:
            if ticket is not None and self.watch is not None:
                self.watch.finish(ticket)
        self._note(kind, args, repr(result))
        if self.audit is not None and controlled:
            self.audit.record(kind, target, points, wrote=_wrote(kind, result), answered=True)
        return result

    def _note(self, kind: str, args: tuple[Any, ...], outcome: str) -> None:
        if self.transcript is not None:
            self.transcript.append((f"{kind}({', '.join(map(repr, args))})", outcome))

    async def create(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        args = (id, partition_key, body)
        doc = await self._call(
            "create", (partition_key, id), args, self.inner.create(id, partition_key, body)
        )
        return self._doc(f"create({id})", doc, id, partition_key)

    async def get(self, id: str, partition_key: str) -> Doc | None:
        doc = await self._call(
            "get", (partition_key, id), (id, partition_key), self.inner.get(id, partition_key)
        )
        return None if doc is None else self._doc(f"get({id})", doc, id, partition_key)

    async def replace(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        args = (id, partition_key, body)
        doc = await self._call(
            "replace", (partition_key, id), args, self.inner.replace(id, partition_key, body)
        )
        return self._doc(f"replace({id})", doc, id, partition_key)

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        op = f"update_if_match({id})"
        result = await self._call(
            "update_if_match",
            (partition_key, id),
            (id, partition_key, expected, patch),
            self.inner.update_if_match(id, partition_key, expected, patch),
        )
        if isinstance(result, Updated):
            self._doc(op, result.doc, id, partition_key)
        elif not isinstance(result, Conflict | NotFound):
            raise _bad(op, "something that is not Updated, Conflict or NotFound", result)
        return result  # type: ignore[no-any-return]

    async def delete(self, id: str, partition_key: str) -> bool:
        done = await self._call(
            "delete", (partition_key, id), (id, partition_key), self.inner.delete(id, partition_key)
        )
        if not isinstance(done, bool):
            raise _bad(f"delete({id})", "something that is not a bool", done)
        return done

    async def list_partition(self, partition_key: str) -> list[Doc]:
        op = f"list_partition({partition_key})"
        docs = await self._call(
            "list_partition",
            (partition_key, None),
            (partition_key,),
            self.inner.list_partition(partition_key),
        )
        if not isinstance(docs, list):
            raise _bad(op, "something that is not a list", docs)
        for doc in docs:
            if not isinstance(doc, Doc) or doc.partition_key != partition_key:
                raise _bad(op, "a list holding something other than this partition's Docs", doc)
        return docs


def _wrote(kind: str, result: object) -> bool:
    """Whether an operation that answered ``result`` changed the store."""
    if kind in ("create", "replace"):
        return True
    if kind == "update_if_match":
        return isinstance(result, Updated)
    return kind == "delete" and result is True
