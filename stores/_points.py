"""Scheduling points: the one place where a store operation yields control.

Every store operation awaits exactly one scheduling point before it takes effect, as real
I/O would.  Who receives that yield depends on who drives the coroutine:

* under ``trio`` (true concurrency) the point is ``trio.lowlevel.checkpoint()``, so tasks in a
  nursery really interleave at every store call;
* under claimcheck's controlled runtime (``harness.Runtime``) the point is yielded to the
  runtime as a :data:`Point` tuple, and the runtime's scheduler decides which actor moves next;
* when that runtime drives asyncio or trio code (``harness/runtime/_aio.py``, ``_trio.py``),
  ``CONTROLLED`` holds a :class:`Control` and the point is whatever that loop needs: one
  scheduling decision, still labelled with the operation.

Backends that do blocking I/O use :func:`run_io`: under control the call runs inline, right after
the scheduling point, so the schedule alone fixes the order in which requests reach the server;
under trio the call runs in a worker thread.

Why a context variable and not an argument: the same store object is used by trio tests, by the
controlled runtime and by Hypothesis state machines, and the caller -- not the store -- knows which
driver is in charge.
"""

from __future__ import annotations

import types
from asyncio.events import _get_running_loop
from asyncio.events import _set_running_loop
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Generator
from contextvars import ContextVar
from typing import Any
from typing import TypeVar
from typing import cast

import trio

__all__ = ["CONTROLLED", "Control", "Point", "checkpoint", "outside_loop", "run_io"]

T = TypeVar("T")

#: A scheduling point as the controlled runtime sees it:
#: ``(operation, partition_key, id_or_None, writes)``.  ``id`` is ``None`` for an operation that
#: reads a whole partition.  The runtime uses ``partition_key``/``id``/``writes`` to decide which
#: pending operations commute (partial-order reduction).  So a label must be honest: the
#: operation's own partition and document (or ``None``), the same every time, and ``writes``
#: true wherever it may change anything before its next point.  A label that hides a write lets
#: an exhaustive search skip real races and still call itself complete; the conformance check
#: ``scheduling labels`` refuses such a store.
Point = tuple[str, str, str | None, bool]

#: Set (to any non-None value) by the controlled runtime while it steps actors: ``True`` (or any
#: marker) for the hand-rolled stepper, a :class:`Control` while it drives an event loop.
CONTROLLED: ContextVar[object | None] = ContextVar("claimcheck_controlled", default=None)


class Control:
    """A controlled event loop (asyncio or trio) that store points must go through.

    Subclassed by the runtime only.  ``checkpoint`` returns what a store awaits for its one
    scheduling point; ``run_io`` is a generator: one point, then ``fn()`` inline (blocking
    there is allowed: it is the store's I/O, ordered by the schedule).
    """

    def checkpoint(self, point: Point) -> Awaitable[None]:
        raise NotImplementedError

    def run_io(self, fn: Callable[[], T], point: Point) -> Generator[Any, Any, T]:
        raise NotImplementedError


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
    control = _controlled()
    # ``is True`` first: the stepper's own marker, on the path of every step.
    if control is True:
        return cast(Awaitable[None], _YieldOnce(((op, partition_key, id, writes),)))
    if control is None:
        return trio.lowlevel.checkpoint()
    if isinstance(control, Control):
        return control.checkpoint((op, partition_key, id, writes))
    return cast(Awaitable[None], _YieldOnce(((op, partition_key, id, writes),)))


@types.coroutine
def run_io(
    fn: Callable[[], T], op: str, partition_key: str, id: str | None, writes: bool
) -> Generator[Any, Any, T]:
    """Run a blocking call as one store operation (one scheduling point, then the call)."""
    control = CONTROLLED.get()
    if isinstance(control, Control):
        return (yield from control.run_io(fn, (op, partition_key, id, writes)))
    if control is not None:
        yield (op, partition_key, id, writes)
        return outside_loop(fn)
    result: T = yield from trio.to_thread.run_sync(fn, limiter=_limiter()).__await__()
    return result


def outside_loop(fn: Callable[[], T]) -> T:
    """Call ``fn`` with no asyncio loop running: the controlled runtime makes its own loop
    the running one, and a blocking call (``asyncio.run`` inside ``run_io``, say) must not
    see it."""
    loop = _get_running_loop()
    if loop is None:
        return fn()
    _set_running_loop(None)
    try:
        return fn()
    finally:
        _set_running_loop(loop)


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
