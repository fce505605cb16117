"""Scheduling points: the one place where a store operation yields control.

Every store operation awaits exactly one scheduling point before it takes effect, as real
I/O would.  Who receives that yield depends on who drives the coroutine:

* under ``trio`` (true concurrency) the point is ``trio.lowlevel.checkpoint()``, so tasks in a
  nursery really interleave at every store call;
* under claimcheck's controlled runtime (``harness.Runtime``) the point is yielded to the
  runtime as a :data:`Point` tuple, and the runtime's scheduler decides which actor moves next.

Backends that do blocking I/O use :func:`run_io`: under control the call runs inline, right after
the scheduling point, so the schedule alone fixes the order in which requests reach the server;
under trio the call runs in a worker thread.

Why a context variable and not an argument: the same store object is used by trio tests, by the
controlled runtime and by Hypothesis state machines, and the caller -- not the store -- knows which
driver is in charge.
"""

from __future__ import annotations

import types
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Generator
from contextvars import ContextVar
from typing import Any
from typing import TypeVar
from typing import cast

import trio

__all__ = ["CONTROLLED", "Point", "checkpoint", "run_io"]

T = TypeVar("T")

#: A scheduling point as the controlled runtime sees it:
#: ``(operation, partition_key, id_or_None, writes)``.  ``id`` is ``None`` for an operation that
#: reads a whole partition.  The runtime uses ``partition_key``/``id``/``writes`` to decide which
#: pending operations commute (partial-order reduction).
Point = tuple[str, str, str | None, bool]

#: Set (to any non-None value) by the controlled runtime while it steps actors.
CONTROLLED: ContextVar[object | None] = ContextVar("claimcheck_controlled", default=None)

# A trio CapacityLimiter belongs to one trio.run; a RunVar gives each run its own.
_io_limiter: trio.lowlevel.RunVar[trio.CapacityLimiter] = trio.lowlevel.RunVar("claimcheck_io")


class _YieldOnce(tuple[Point]):
    """Awaiting it yields its one element to whoever drives the coroutine, then returns None.

    ``__await__`` is ``tuple.__iter__`` itself, so the await runs in C: this is on the path of
    every step of every controlled schedule (about 10% faster than a generator).
    """

    __slots__ = ()
    __await__ = tuple.__iter__


_controlled = CONTROLLED.get


def checkpoint(op: str, partition_key: str, id: str | None, writes: bool) -> Awaitable[None]:
    """Yield control once, to the controlled runtime or to trio."""
    if _controlled() is not None:
        return cast(Awaitable[None], _YieldOnce(((op, partition_key, id, writes),)))
    return trio.lowlevel.checkpoint()


@types.coroutine
def run_io(
    fn: Callable[[], T], op: str, partition_key: str, id: str | None, writes: bool
) -> Generator[Any, Any, T]:
    """Run a blocking call as one store operation (one scheduling point, then the call)."""
    if CONTROLLED.get() is not None:
        yield (op, partition_key, id, writes)
        return fn()
    result: T = yield from trio.to_thread.run_sync(fn, limiter=_limiter()).__await__()
    return result


def _limiter() -> trio.CapacityLimiter:
    try:
        return _io_limiter.get()
    except LookupError:
        # Sized to match the HTTP pool of I/O backends (see the Cosmos store): more threads
        # than pooled connections makes urllib3 discard and re-open connections.
        limiter = trio.CapacityLimiter(IO_THREADS)
        _io_limiter.set(limiter)
        return limiter


#: Worker threads (and pooled HTTP connections) used for blocking store I/O under trio.
IO_THREADS = 16
