"""The event loop of controlled asyncio runs: virtual time, and I/O that settles on demand.

:class:`ControlledLoop` is a real ``SelectorEventLoop`` that never runs itself: the asyncio
control (``_aio``) runs its ready handles one at a time.  What the loop adds:

* virtual time: ``time()`` only moves when the control jumps it to the next timer;
* I/O that is *in flight* and can be waited for before a decision: executor jobs
  (``to_thread``, ``run_in_executor``, ``getaddrinfo``), sockets with a registered writer (a
  connect or a write in progress) and sockets written to since they last received data (a
  request awaiting its reply);
* a wake-up for the stepper: while the stepper drives actors without a loop, the first
  callback or task scheduled on this loop calls ``on_schedule`` (asyncio work appeared).

One loop per thread, kept across runs, so that a client library's connections and locks,
bound to the loop on first use, stay usable from one schedule to the next.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import heapq
import inspect
import select
import selectors
import socket
import sys
import threading
import types
from asyncio import selector_events
from asyncio import sslproto
from collections import deque
from collections.abc import Callable
from contextvars import Context
from typing import TYPE_CHECKING
from typing import Any

__all__ = ["ControlledLoop", "controlled_loop"]


class _TrackedTransport(selector_events._SelectorSocketTransport):  # type: ignore[misc,name-defined]
    """A socket transport whose writes mark the socket as awaiting a reply."""

    _loop: ControlledLoop

    def write(self, data: Any) -> None:
        if data:
            self._loop.expect_reply(self._sock_fd)
        super().write(data)


class ControlledLoop(asyncio.SelectorEventLoop):
    """See the module docstring.  The control owns the ready queue; nothing here decides."""

    if TYPE_CHECKING:  # the base loop's private parts this loop and the control use
        _ready: deque[asyncio.Handle]
        _scheduled: list[asyncio.TimerHandle]
        _timer_cancelled_count: int
        _thread_id: int | None
        _selector: selectors.BaseSelector
        _ssock: socket.socket
        _default_executor: concurrent.futures.Executor | None

        def _check_closed(self) -> None: ...
        def _write_to_self(self) -> None: ...
        def _read_from_self(self) -> None: ...
        def _add_callback(self, handle: asyncio.Handle) -> None: ...
        def _ensure_fd_no_transport(self, fd: Any) -> None: ...

    def __init__(self) -> None:
        super().__init__()
        self._now = 0.0
        self._expect: set[int] = set()
        self._jobs = 0
        self._jobs_lock = threading.Lock()
        #: Called (once, then cleared) when work is scheduled while the stepper runs alone.
        self.on_schedule: Callable[[], None] | None = None
        #: Tasks created on this loop, in order; the control numbers and empties it.
        self.spawned: list[asyncio.Task[Any]] = []
        #: The outermost coroutine frame that created each (the actor, under the stepper).
        self.spawned_from: dict[asyncio.Task[Any], types.FrameType | None] = {}
        self.set_task_factory(self._make_task)

    # -- virtual time ------------------------------------------------------------------------

    def time(self) -> float:
        return self._now

    def reset(self) -> None:
        """Start a run: time 0, no timers left over from the previous one."""
        for handle in self._scheduled:
            handle._scheduled = False  # type: ignore[attr-defined]
            handle.cancel()
        self._scheduled.clear()
        self._timer_cancelled_count = 0
        self._now = 0.0

    def fire_due(self) -> None:
        """Move the timers due at the current virtual time to the ready queue."""
        scheduled = self._scheduled
        while scheduled and (scheduled[0].cancelled() or scheduled[0].when() <= self._now):
            handle = heapq.heappop(scheduled)
            handle._scheduled = False  # type: ignore[attr-defined]
            if handle.cancelled():
                self._timer_cancelled_count = max(0, self._timer_cancelled_count - 1)
            else:
                self._ready.append(handle)

    def advance(self) -> bool:
        """Jump virtual time to the next timer and fire it; False when there is none."""
        self.fire_due()
        if not self._scheduled:
            return False
        self._now = max(self._now, self._scheduled[0].when())
        self.fire_due()
        return True

    # -- scheduling hooks ----------------------------------------------------------------------

    def _woken(self) -> None:
        wake, self.on_schedule = self.on_schedule, None
        if wake is not None:
            wake()

    def call_soon(  # type: ignore[override]
        self, callback: Callable[..., object], *args: Any, context: Context | None = None
    ) -> asyncio.Handle:
        if self.on_schedule is not None:
            self._woken()
        return super().call_soon(callback, *args, context=context)

    def call_at(  # type: ignore[override]
        self,
        when: float,
        callback: Callable[..., object],
        *args: Any,
        context: Context | None = None,
    ) -> asyncio.TimerHandle:
        if self.on_schedule is not None:
            self._woken()
        return super().call_at(when, callback, *args, context=context)

    def _make_task(
        self, loop: asyncio.AbstractEventLoop, coro: Any, context: Context | None = None
    ) -> asyncio.Task[Any]:
        if self.on_schedule is not None:
            # Before the task copies the context: it must see the asyncio control.
            self._woken()
        task: asyncio.Task[Any] = asyncio.Task(coro, loop=self, context=context)
        self.spawned.append(task)
        self.spawned_from[task] = _outermost_coroutine()
        return task

    # -- I/O in flight -------------------------------------------------------------------------

    def expect_reply(self, fd: int) -> None:
        self._expect.add(fd)

    def run_in_executor(  # type: ignore[override]
        self, executor: Any, func: Callable[..., Any], *args: Any
    ) -> asyncio.Future[Any]:
        self._check_closed()
        if executor is None:
            executor = self._default_executor
            if executor is None:
                executor = concurrent.futures.ThreadPoolExecutor(thread_name_prefix="asyncio")
                self._default_executor = executor
        job = executor.submit(func, *args)
        future = asyncio.wrap_future(job, loop=self)
        with self._jobs_lock:
            self._jobs += 1
        # Added after wrap_future's own callback, so it runs once the result is on its way
        # to the ready queue: when _jobs drops, the handle that delivers it is queued.
        job.add_done_callback(self._job_done)
        return future

    def _job_done(self, _: object) -> None:
        with self._jobs_lock:
            self._jobs -= 1
        self._write_to_self()

    def _make_socket_transport(
        self,
        sock: Any,
        protocol: Any,
        waiter: Any = None,
        *,
        extra: Any = None,
        server: Any = None,
    ) -> Any:
        self._ensure_fd_no_transport(sock)
        return _TrackedTransport(self, sock, protocol, waiter, extra, server)

    def _make_ssl_transport(
        self,
        rawsock: Any,
        protocol: Any,
        sslcontext: Any,
        waiter: Any = None,
        *,
        server_side: bool = False,
        server_hostname: Any = None,
        extra: Any = None,
        server: Any = None,
        ssl_handshake_timeout: Any = None,
        ssl_shutdown_timeout: Any = None,
    ) -> Any:
        ssl_protocol = sslproto.SSLProtocol(
            self,
            protocol,
            sslcontext,
            waiter,
            server_side,
            server_hostname,
            ssl_handshake_timeout=ssl_handshake_timeout,
            ssl_shutdown_timeout=ssl_shutdown_timeout,
        )
        _TrackedTransport(self, rawsock, ssl_protocol, extra=extra, server=server)
        return ssl_protocol._app_transport

    async def sock_sendall(self, sock: Any, data: Any) -> None:
        self.expect_reply(sock.fileno())
        await super().sock_sendall(sock, data)

    async def sock_sendto(self, sock: Any, data: Any, address: Any) -> int:
        self.expect_reply(sock.fileno())
        return await super().sock_sendto(sock, data, address)

    def _inflight(self) -> tuple[list[int], list[int]]:
        """Sockets awaiting a reply (with a reader to take it), sockets with a writer."""
        readers: list[int] = []
        writers: list[int] = []
        for key in self._selector.get_map().values():
            fd = key.fd
            reader, writer = key.data
            if writer is not None:
                writers.append(fd)
            if fd in self._expect and reader is not None:
                readers.append(fd)
        self._expect.intersection_update(readers)
        return readers, writers

    def in_flight(self) -> bool:
        readers, writers = self._inflight()
        return bool(self._jobs or readers or writers)

    def wait_in_flight(self, timeout: float) -> bool | None:
        """Wait for in-flight I/O and queue what it delivers.  None: nothing was in flight;
        False: nothing arrived within ``timeout`` seconds; True: something was queued."""
        readers, writers = self._inflight()
        if not (self._jobs or readers or writers):
            return None
        return self._poll(readers, writers, timeout, wake=True)

    def wait_idle(self, timeout: float) -> bool:
        """Wait for any registered socket (a server that speaks unasked)."""
        readers: list[int] = []
        writers: list[int] = []
        for key in self._selector.get_map().values():
            fd = key.fd
            if fd == self._ssock.fileno():
                continue
            reader, writer = key.data
            if reader is not None:
                readers.append(fd)
            if writer is not None:
                writers.append(fd)
        if not (readers or writers):
            return False
        return self._poll(readers, writers, timeout, wake=False)

    def _poll(self, readers: list[int], writers: list[int], timeout: float, wake: bool) -> bool:
        poller = select.poll()
        for fd in readers:
            poller.register(fd, select.POLLIN)
        for fd in writers:
            poller.register(fd, select.POLLOUT | (select.POLLIN if fd in readers else 0))
        if wake:
            poller.register(self._ssock.fileno(), select.POLLIN)
        events = poller.poll(timeout * 1000)
        if not events:
            return False
        keys = self._selector.get_map()
        for fd, flags in events:
            if fd == self._ssock.fileno():
                self._read_from_self()
                continue
            key = keys.get(fd)
            if key is None:
                continue
            reader, writer = key.data
            if flags & ~select.POLLOUT and reader is not None and fd in readers:
                self._expect.discard(fd)
                self._add_callback(reader)
            if flags & ~select.POLLIN and writer is not None:
                self._add_callback(writer)
        return True


def _outermost_coroutine() -> types.FrameType | None:
    outermost = None
    frame: types.FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_flags & inspect.CO_COROUTINE:
            outermost = frame
        frame = frame.f_back
    return outermost


_LOOPS = threading.local()
_ALL: list[ControlledLoop] = []


def controlled_loop() -> ControlledLoop:
    """This thread's controlled loop (made on first use, closed at exit)."""
    try:
        return _LOOPS.loop  # type: ignore[no-any-return]
    except AttributeError:
        loop = _LOOPS.loop = ControlledLoop()
        _ALL.append(loop)
        return loop


@atexit.register
def _close_all() -> None:
    for loop in _ALL:
        if not loop.is_closed():
            loop._thread_id = None
            loop.close()
