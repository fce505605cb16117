"""One way to wrap a store: :class:`StoreWrapper`, and the ``fork`` capability.

Every layer the harness and the tests put around a store (faults, namespaces, traces, clocks,
validation, the read-check-write control, the conformance zoo's harmless wrappers) subclasses
:class:`StoreWrapper` and overrides only the operations it changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from typing import ClassVar
from typing import Protocol
from typing import Self
from typing import TypeGuard
from typing import runtime_checkable

from ._contract import Doc
from ._contract import Expected
from ._contract import Store
from ._contract import UpdateResult

__all__ = ["ForkableStore", "StoreWrapper", "can_fork"]


@runtime_checkable
class ForkableStore(Store, Protocol):
    """A :class:`Store` that can copy itself: the optional ``fork`` capability.

    ``fork() -> Self`` returns an independent store holding the same documents and the same
    token counters: writes to either are not seen by the other, and the same writes on both give
    the same documents.  Caller: the harness, which runs a scenario's set-up once and starts
    every schedule from a fork of the result.  ``MemoryStore`` and ``SqliteStore`` fork; a
    :class:`StoreWrapper` forks when its class allows it and its inner store forks.

    Ask :func:`can_fork` rather than looking for the method: a wrapper always has ``fork`` but
    can only honour it over a store that forks.
    """

    def fork(self) -> Self: ...


def can_fork(store: Store) -> TypeGuard[ForkableStore]:
    """Whether ``store.fork()`` will give an independent copy (see :class:`ForkableStore`)."""
    if isinstance(store, StoreWrapper):
        return store.can_fork
    kind = type(store)
    known = _FORKS.get(kind)
    if known is None:
        # Memoised per class: a runtime protocol check costs microseconds, and a wrapper asks
        # on every fork, i.e. once per explored schedule.
        known = _FORKS[kind] = isinstance(store, ForkableStore)
    return known


_FORKS: dict[type, bool] = {}


class StoreWrapper:
    """A :class:`Store` that delegates every operation, unchanged, to the store ``inner``.

    Subclassed by every store layer: ``FaultyStore`` and ``NamespacedStore``
    (``harness.backends``), ``TracingStore`` and the batch clock's counting store
    (``harness.explore``), the conformance suite's validator, ``ReadCheckWriteStore`` (the
    control) and the wrappers of ``tests.zoo``.

    To write a layer: subclass, keep ``inner`` as given to ``__init__``, and override only the
    operations you change; each override calls ``self.inner`` (adding no scheduling point of
    its own unless that is the point of the layer).  The others are delegated as they are.

    Forking: ``fork()`` forks ``inner`` and re-wraps the copy with :meth:`_rewrap`, whose
    default is ``type(self)(inner)``.  Override ``_rewrap`` if ``__init__`` takes more than
    ``inner`` (and decide which state the copy keeps); set ``forkable = False`` if a copy of
    this layer would mean nothing or would hide the inner store's own behaviour.
    """

    #: Whether this layer may be forked at all (it then forks when ``inner`` does).
    forkable: ClassVar[bool] = True
    #: Whether this layer makes operations fail or lose their answers on purpose: the harness
    #: reads the final state of a run past such a layer (its faults are under test only while
    #: the actors run).
    injects_faults: ClassVar[bool] = False

    def __init__(self, inner: Store) -> None:
        self.inner = inner

    @property
    def can_fork(self) -> bool:
        """Whether :meth:`fork` will work: this class allows it and ``inner`` can fork."""
        return self.forkable and can_fork(self.inner)

    def fork(self) -> Self:
        """This layer over an independent copy of ``inner`` (see :class:`ForkableStore`).

        Raises ``NotImplementedError`` unless :attr:`can_fork`: ask that first.
        """
        inner = self.inner
        if not self.forkable or not can_fork(inner):
            why = (
                f"{type(self).__name__} declares forkable = False"
                if not self.forkable
                else f"its inner store {type(inner).__name__} cannot fork"
            )
            raise NotImplementedError(
                f"{type(self).__name__}.fork(): {why}; ask stores.can_fork(store) before forking."
            )
        return self._rewrap(inner.fork())

    def _rewrap(self, inner: Store) -> Self:
        """A layer configured like this one around ``inner`` (the fork of ``self.inner``)."""
        return type(self)(inner)

    async def create(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        return await self.inner.create(id, partition_key, body)

    async def get(self, id: str, partition_key: str) -> Doc | None:
        return await self.inner.get(id, partition_key)

    async def replace(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        return await self.inner.replace(id, partition_key, body)

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        return await self.inner.update_if_match(id, partition_key, expected, patch)

    async def delete(self, id: str, partition_key: str) -> bool:
        return await self.inner.delete(id, partition_key)

    async def list_partition(self, partition_key: str) -> list[Doc]:
        return await self.inner.list_partition(partition_key)
