"""asyncio under control: every handle a task runs is one step, chosen by the scheduler.

The actors become ``asyncio.Task`` objects on this thread's :class:`ControlledLoop`.  Before
each decision the control *settles* the loop: it runs every ready callback that is not a task
step (I/O callbacks, future callbacks, ``call_soon`` work) in FIFO order, fires the timers due
at the current virtual time, and waits for the I/O in flight (executor jobs, replies awaited
on sockets) to arrive.  Then the tasks with a ready step are the enabled actors; the scheduler
picks one and the control runs that one step (``Task.__step`` / ``__wakeup``: the task's code
up to its next ``await`` that gives the loop back).

When no task can move: jump virtual time to the next timer; else wait briefly for sockets
that may speak unasked; else it is a deadlock, reported as data (``Handover.deadlock``).

A task spawned during the run gets the next index after the actors (``Handover.owners`` names
the actor it came from).  ``pending[i]`` is the store point the task is parked on, or
``ASYNCIO_STEP`` (dependent on everything) when it waits for something else.
"""

from __future__ import annotations

import asyncio
import threading
from asyncio import events
from collections.abc import Callable
from collections.abc import Coroutine
from collections.abc import Generator
from typing import Any
from typing import TypeVar

from stores import CONTROLLED
from stores import Control
from stores import Point
from stores import outside_loop

from ._aio_loop import ControlledLoop
from ._aio_loop import controlled_loop
from ._aio_shared import ASYNCIO_STEP
from ._aio_shared import MAX_STEPS
from ._aio_shared import UNSTARTED
from ._aio_shared import Deadlock
from ._aio_shared import Deadlocked
from ._aio_shared import Guard
from ._aio_shared import Handover
from ._aio_shared import IOStalled
from ._aio_shared import Limits
from ._aio_shared import MixedRuntimes
from ._aio_shared import RuntimeMisuse
from ._aio_shared import RunTooLong
from ._aio_shared import Waiting
from ._aio_shared import coroutine_frames
from ._aio_shared import innermost
from ._aio_shared import misplaced
from ._aio_shared import resume
from .schedulers import UnsupportedChoice

__all__ = ["AioControl", "Labelled", "run_asyncio", "wake_asyncio"]

T = TypeVar("T")


class _Yield(tuple[Any]):
    """Awaiting it yields its one element (see ``stores._points._YieldOnce``)."""

    __slots__ = ()
    __await__ = tuple.__iter__


class Labelled(tuple[str, str, str | None, bool]):
    """A store point met while the stepper still runs alone, after asyncio work appeared:
    not a plain tuple, so the stepper hands the run over; the control keeps its label."""

    __slots__ = ()


_SLEEP0 = _Yield((None,))  # a bare yield: asyncio's sleep(0)
_STEP_NAMES = frozenset({"task_wakeup", "__step", "__wakeup"})


def _task_of(handle: asyncio.Handle) -> asyncio.Task[Any] | None:
    """The task whose step ``handle`` is, or None for any other callback."""
    callback = handle._callback  # type: ignore[attr-defined]
    task = getattr(callback, "__self__", None)
    if not isinstance(task, asyncio.Task):
        return None
    if type(callback).__name__ == "TaskStepMethWrapper" or (
        getattr(callback, "__name__", "") in _STEP_NAMES
    ):
        return task
    return None


class AioControl(Control):
    """The asyncio control of one run (also ``stores.CONTROLLED`` while it lasts)."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.loop: ControlledLoop = controlled_loop()
        self.tasks: list[asyncio.Task[Any]] = []
        self.index: dict[asyncio.Task[Any], int] = {}
        self.labels: dict[int, Point] = {}
        self.owners: list[int] = []
        self.actors = 0
        self.guard = Guard(self.limits, self.describe)

    # -- what store points do under this control ---------------------------------------------

    def checkpoint(self, point: Point) -> Any:
        stepping = self.guard.stepping
        if stepping is not None and stepping >= 0:
            self.labels[stepping] = point
            return _SLEEP0
        return _Yield((Labelled(point),))

    def run_io(self, fn: Callable[[], T], point: Point) -> Generator[Any, Any, T]:
        yield from self.checkpoint(point).__await__()
        with self.guard.io():
            return outside_loop(fn)

    # -- naming ----------------------------------------------------------------------------

    def describe(self, task: int) -> str:
        if task < 0:
            return "a callback (not a task step)"
        if task < self.actors:
            return f"actor {task}"
        owner = self.owners[task - self.actors]
        return f"task {task} (spawned by actor {owner})" if owner >= 0 else f"task {task}"

    def owner(self, task: int) -> int:
        return task if task < self.actors else self.owners[task - self.actors]

    def _adopt(self, task: asyncio.Task[Any], owner: int) -> int:
        index = len(self.tasks)
        self.tasks.append(task)
        self.index[task] = index
        if index >= self.actors:
            self.owners.append(owner)
        return index

    def _adopt_spawned(self, by: int | None) -> None:
        """Number the tasks spawned since the last call, for the actor ``by`` stepped (None:
        under the stepper, found by the actor coroutine that created them)."""
        loop = self.loop
        if loop.spawned:
            coros = enumerate(self.state.coros)
            frames = {getattr(c, "cr_frame", None): i for i, c in coros}
            frames.pop(None, None)  # finished actors
            for task in loop.spawned:
                frame = loop.spawned_from.pop(task, None)
                owner = frames.get(frame, -1) if by is None or by < 0 else self.owner(by)
                if task not in self.index:
                    self._adopt(task, owner)
            loop.spawned.clear()

    # -- one run -----------------------------------------------------------------------------

    def run(self, state: Handover) -> None:
        loop = self.loop
        n = len(state.coros)
        self.actors = n
        self.state = state
        self.tasks, self.index, self.owners = [], {}, state.owners
        loop.on_schedule = None
        previous = events._get_running_loop()
        events._set_running_loop(loop)
        loop._thread_id = threading.get_ident()
        token = CONTROLLED.set(self)
        try:
            with self.guard.active():
                # Placeholders keep indices 0..n-1 for the actors, finished ones included.
                self.tasks = [None] * n  # type: ignore[list-item]
                for i in state.live:
                    first = UNSTARTED if state.unstarted else state.pending[i]
                    task = asyncio.Task(_actor(self, state.coros[i], first), loop=loop)
                    self.tasks[i] = task
                    self.index[task] = i
                self._adopt_spawned(None)  # spawned while the stepper ran alone
                for i in state.live:  # priming: no decisions, as in the stepper
                    self._prime(i)
                self._decide()
        finally:
            try:
                self._teardown()
            finally:
                CONTROLLED.reset(token)
                loop._thread_id = None
                events._set_running_loop(previous)

    def _prime(self, i: int) -> None:
        self._settle()
        runnable = self._runnable()
        if i in runnable:
            self._step(i, runnable[i])

    def _decide(self) -> None:
        state = self.state
        scheduler = state.scheduler
        every = scheduler.sees_every_step
        walk = scheduler.uniform
        while True:
            self._settle()
            if all(self.tasks[i].done() for i in state.live):
                return
            runnable = self._runnable()
            if not runnable:
                if self.loop.advance() or self.loop.wait_idle(self.limits.idle_grace):
                    continue
                self._deadlock()
                return
            enabled = sorted(runnable)
            if len(enabled) == 1 and not every:
                i = enabled[0]
                pending: list[Point] = []
            else:
                pending = [self.labels.get(t, ASYNCIO_STEP) for t in range(enabled[-1] + 1)]
                if walk is not None:
                    i = enabled[int(walk() * len(enabled))]
                else:
                    i = scheduler.next_actor(enabled, pending, len(state.schedule))
            if len(state.schedule) >= MAX_STEPS:
                raise RunTooLong(MAX_STEPS)
            state.schedule.append(i)
            state.points.append(pending[i] if pending else self.labels.get(i, ASYNCIO_STEP))
            self._step(i, runnable[i])

    def _runnable(self) -> dict[int, asyncio.Handle]:
        found: dict[int, asyncio.Handle] = {}
        for handle in self.loop._ready:
            if handle._cancelled:
                continue
            task = _task_of(handle)
            if task is None:
                continue
            index = self.index.get(task)
            if index is None:  # made with asyncio.Task(...), not through the loop's factory
                index = self._adopt(task, -1)
            found.setdefault(index, handle)
        return found

    def _step(self, i: int, handle: asyncio.Handle) -> None:
        self.loop._ready.remove(handle)
        self.labels.pop(i, None)
        self.guard.enter(i)
        try:
            handle._run()
        finally:
            self.guard.leave()
        self._adopt_spawned(i)
        self._check(self.tasks[i], i)

    def _settle(self) -> None:
        """Run every ready callback that is not a task step, fire due timers, and wait for
        the I/O in flight, until only task steps are left to choose from."""
        loop = self.loop
        while True:
            loop.fire_due()
            ready = loop._ready
            if any(_task_of(h) is None for h in ready):
                handles = list(ready)
                ready.clear()
                ready.extend(h for h in handles if not h._cancelled and _task_of(h) is not None)
                for handle in handles:
                    if not handle._cancelled and _task_of(handle) is None:
                        self.guard.enter(-1)
                        try:
                            handle._run()
                        finally:
                            self.guard.leave()
                        self._adopt_spawned(None)
                continue
            got = loop.wait_in_flight(self.limits.io_timeout)
            if got is None:
                return
            if got is False:
                raise IOStalled(
                    f"waited {self.limits.io_timeout} s for real I/O that did not complete "
                    "(a reply on a socket written to, a connect, or a to_thread job). The "
                    "runtime waits for I/O before every decision so that a schedule replays: "
                    "a server must run outside the actors' event loop (another thread or "
                    "process), and every request must get its reply."
                )

    def _check(self, task: asyncio.Task[Any], i: int) -> None:
        if not task.done():
            return
        if task.cancelled():
            if i < self.actors:
                self.state.results[i] = _actor_error(asyncio.CancelledError())
            return
        error = task.exception()
        mixed = _mixed(error)
        if mixed is not None:
            raise MixedRuntimes(f"{self.describe(i)} {mixed}")
        if isinstance(error, (RuntimeMisuse, UnsupportedChoice)) or (
            error is not None and not isinstance(error, Exception)
        ):
            raise error
        if i < self.actors:
            self.state.results[i] = task.result() if error is None else _actor_error(error)

    def _deadlock(self) -> None:
        waiting = []
        for index, task in enumerate(self.tasks):
            if task is None or task.done():
                continue
            awaits, where = innermost(coroutine_frames(task.get_coro()))
            waiting.append(Waiting(task=index, actor=self.owner(index), awaits=awaits, where=where))
        deadlock = Deadlock(step=len(self.state.schedule), waiting=tuple(waiting))
        self.state.deadlock = deadlock
        for i in self.state.live:
            if not self.tasks[i].done():
                self.state.results[i] = _actor_error(Deadlocked(deadlock))

    def _teardown(self) -> None:
        """Cancel what is left and let it unwind (no decisions), then clear the loop."""
        loop = self.loop
        left = [t for t in self.tasks if t is not None and not t.done()]
        left += [t for t in loop.spawned if not t.done()]
        for task in left:
            task.cancel()
        for _ in range(10_000):
            loop.fire_due()
            ready = loop._ready
            if ready:
                for handle in [ready.popleft() for _ in range(len(ready))]:
                    if not handle._cancelled:
                        handle._run()
                continue
            if not loop.in_flight() or not loop.wait_in_flight(self.limits.io_timeout):
                break
        for task in [*self.tasks, *left]:
            if task is not None and task.done() and not task.cancelled():
                task.exception()  # retrieved: its error, if any, was the run's
        loop.spawned.clear()
        loop.spawned_from.clear()
        loop.reset()


def _actor_error(error: BaseException) -> Any:
    from ._stepper import ActorError

    return ActorError(error=error)


def _mixed(error: BaseException | None) -> str | None:
    """Why ``error`` says trio ran inside asyncio, or None."""
    if error is None:
        return None
    text = str(error)
    if isinstance(error, RuntimeError) and "Task got bad yield" in text and "trio" in text:
        return f"awaited trio inside asyncio ({text}): one run is driven by one event loop."
    if isinstance(error, RuntimeError) and text == "must be called from async context":
        return "called trio inside asyncio (trio says: must be called from async context)."
    return None


async def _actor(control: AioControl, coro: Coroutine[Any, Any, T], first: Any) -> T:
    def label(point: Point) -> None:
        stepping = control.guard.stepping
        if stepping is not None and stepping >= 0:
            control.labels[stepping] = point

    def wrong(value: object) -> BaseException:
        who = control.guard.stepping
        return misplaced(value, "asyncio", control.describe(who) if who is not None else "an actor")

    return await resume(coro, first, "asyncio", None, label, wrong)


def wake_asyncio() -> None:
    """The stepper's wake-up: asyncio work was scheduled while it ran alone, so the next
    store point hands the run over to the asyncio control."""
    if not isinstance(CONTROLLED.get(), AioControl):
        CONTROLLED.set(AioControl())


def run_asyncio(state: Handover) -> None:
    """Finish the run in ``state`` under asyncio control (updates ``state`` in place)."""
    control = CONTROLLED.get()
    if not isinstance(control, AioControl):
        control = AioControl(state.limits)
    else:
        control.limits = control.guard.limits = state.limits
    control.run(state)
