"""What a step really did: whether a write-labelled store operation changed its document.

A scheduling point's label says what an operation *may* do (``writes`` is true for every
conditional write).  Partial-order reduction is much stronger when it knows what a step
*did*: a conditional write that lost its compare-and-set changed nothing, so it commutes with
reads of its document and with other writes that changed nothing, exactly as a read does.

:class:`ProbedStore` (the outermost layer of an in-process store, see :func:`probed`) measures
that from the store's state, not from the answer: after each write-labelled operation it reads
the document back through the layers below it, without a scheduling point, and compares it with
the last version it saw.  An answer can lie (a misleading 412 applied the write); the document
cannot.  The stepper installs an :class:`EffectObserver` for a scheduler that sets
``observe_effect``, and the probe reports ``(step, changed)`` to it for an operation that
spanned exactly one step of its actor.  Anything it cannot measure is reported as nothing, and
the scheduler then treats the step as the write its label says it may be.

Assumptions (documented in ``docs/architecture.md``): labels are honest (a write labelled with a
document changes nothing else), and a document never returns to an earlier version (etag, rev
and body all equal): true of every store whose compare-and-set works at all.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

from stores import CONTROLLED
from stores import Doc
from stores import Expected
from stores import Store
from stores import StoreWrapper
from stores import UpdateResult
from stores import can_fork

__all__ = ["EffectObserver", "ProbedStore", "observing", "probed"]

#: A document's version as a probe saw it; ``_UNKNOWN`` when it could not be read.
_UNKNOWN = object()


class EffectObserver:
    """Attributes a probe's measurement to the step that made it (one per controlled run).

    ``schedule`` is the run's own list of chosen actors, appended to as steps are taken: an
    operation that started when it had ``mark`` entries and ends now, during a step of actor
    ``schedule[-1]``, spanned exactly one step of that actor when the actor appears once in
    ``schedule[mark:]``.
    """

    __slots__ = ("report", "schedule")

    def __init__(self, schedule: list[int], report: Callable[[int, bool], None]) -> None:
        self.schedule = schedule
        self.report = report

    @classmethod
    def of(
        cls, report: Callable[[int, bool], None] | None, schedule: list[int]
    ) -> EffectObserver | None:
        """The observer for a scheduler that wants effects (``report`` set), else None."""
        return None if report is None else cls(schedule, report)

    def mark(self) -> int:
        return len(self.schedule)

    def end(self, mark: int, changed: bool) -> None:
        schedule = self.schedule
        if len(schedule) <= mark:
            return
        if schedule[mark:].count(schedule[-1]) != 1:
            return
        self.report(len(schedule) - 1, changed)


#: The observer of the controlled run in progress, if its scheduler wants effects.
_OBSERVER: ContextVar[EffectObserver | None] = ContextVar("claimcheck_effects", default=None)


def observing(observer: EffectObserver | None) -> Any:
    """Install ``observer`` for the run in progress; returns the token to reset with."""
    return _OBSERVER.set(observer)


def reset_observer(token: Any) -> None:
    _OBSERVER.reset(token)


def probed(store: Store) -> Store:
    """``store`` with a :class:`ProbedStore` on top, when probing is cheap and truthful: an
    in-process store (it forks) with no fault layer (whose reads would draw fault choices).
    Otherwise ``store`` itself, whose steps then count as the writes their labels say."""
    layer: Any = store
    while isinstance(layer, StoreWrapper):
        if layer.injects_faults:
            return store
        layer = layer.inner
    if not can_fork(store) or isinstance(store, ProbedStore):
        return store
    return ProbedStore(store)


class ProbedStore(StoreWrapper):
    """Reports, for each write-labelled operation, whether its document changed (see the
    module).  Reads pass straight through; a copy (``fork``) starts with no versions seen."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self._seen: dict[tuple[str, str], object] = {}

    def _peek(self, id: str, partition_key: str) -> object:
        """The document now, read through the layers below without a scheduling point (the
        stepper's points are plain tuples: the read's own point is consumed here)."""
        coro = self.inner.get(id, partition_key)
        try:
            for _ in range(4):
                if type(coro.send(None)) is not tuple:
                    return _UNKNOWN
            return _UNKNOWN
        except StopIteration as stop:
            doc: Doc | None = stop.value
            return None if doc is None else (doc.etag, doc.rev, dict(doc.body))
        except Exception:
            return _UNKNOWN
        finally:
            coro.close()

    def _start(self, id: str, partition_key: str) -> int:
        """Before the operation's point: the first version of the document is the one every
        step on it so far left (no step on it has run before its first operation starts)."""
        observer = _OBSERVER.get()
        if observer is None or CONTROLLED.get() is not True:
            return -1
        key = (partition_key, id)
        if key not in self._seen:
            self._seen[key] = self._peek(id, partition_key)
        return observer.mark()

    def _end(self, mark: int, id: str, partition_key: str) -> None:
        observer = _OBSERVER.get()
        if mark < 0 or observer is None or CONTROLLED.get() is not True:
            return
        key = (partition_key, id)
        now = self._peek(id, partition_key)
        before = self._seen.get(key, _UNKNOWN)
        self._seen[key] = now
        if now is _UNKNOWN or before is _UNKNOWN:
            return
        observer.end(mark, now != before)

    async def create(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        mark = self._start(id, partition_key)
        try:
            return await self.inner.create(id, partition_key, body)
        finally:
            self._end(mark, id, partition_key)

    async def replace(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        mark = self._start(id, partition_key)
        try:
            return await self.inner.replace(id, partition_key, body)
        finally:
            self._end(mark, id, partition_key)

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        mark = self._start(id, partition_key)
        try:
            return await self.inner.update_if_match(id, partition_key, expected, patch)
        finally:
            self._end(mark, id, partition_key)

    async def delete(self, id: str, partition_key: str) -> bool:
        mark = self._start(id, partition_key)
        try:
            return await self.inner.delete(id, partition_key)
        finally:
            self._end(mark, id, partition_key)
