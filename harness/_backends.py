"""Named store backends, as the CLI, the scenarios and the pytest plugin refer to them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import attrs

from stores import MemoryStore, ReadCheckWriteStore, Store

__all__ = ["Backend", "UnknownBackend", "backend_names", "get_backend", "identity"]

Wrap = Callable[[Store], Store]


def identity(store: Store) -> Store:
    return store


class UnknownBackend(LookupError):
    """A store name that claimcheck does not know."""


@attrs.frozen(kw_only=True)
class Backend:
    """How to get fresh stores of one kind.

    ``open()`` is a context manager that brings up whatever the backend needs (nothing for
    memory; a server for Cosmos) and yields a factory: ``factory(wrap)`` returns a fresh, empty
    store whose innermost (real) store has been passed through ``wrap`` -- the harness uses
    ``wrap`` to trace every real store operation, including the two halves of the control's
    read-check-write.  ``control`` is true for stores that must FAIL the checks.
    """

    name: str
    control: bool
    description: str
    open: Callable[[], AbstractContextManager[Callable[[Wrap], Store]]]


@contextmanager
def _memory() -> Iterator[Callable[[Wrap], Store]]:
    yield lambda wrap: wrap(MemoryStore())


@contextmanager
def _rcw_memory() -> Iterator[Callable[[Wrap], Store]]:
    yield lambda wrap: ReadCheckWriteStore(wrap(MemoryStore()))


_BACKENDS: dict[str, Backend] = {}


def register(backend: Backend) -> None:
    _BACKENDS[backend.name] = backend


register(Backend(name="memory", control=False, description="in-process MemoryStore", open=_memory))
register(
    Backend(
        name="rcw-memory",
        control=True,
        description="ReadCheckWriteStore(MemoryStore()): the pre-fix CAS, must fail",
        open=_rcw_memory,
    )
)


def backend_names() -> list[str]:
    return list(_BACKENDS)


def get_backend(name: str) -> Backend:
    try:
        return _BACKENDS[name]
    except KeyError:
        raise UnknownBackend(
            f"unknown store {name!r}; choose one of: {', '.join(_BACKENDS)}."
        ) from None
