"""trio under control: trio's own run loop, with its run queue gated by the scheduler.

A controlled run is one ``trio.run`` with a ``MockClock`` (virtual time).  Its first act
replaces the runner's run queue with :class:`_GatedRunQueue`: trio takes a batch with
``list(runq)`` and runs every task of it; the gated queue answers with *one* task.  Tasks that
trio or a library runs for itself (the init task, the ``run_sync_soon`` task, this control's
main task) go first, without a decision; then, once the I/O in flight has arrived, the
scheduler picks one of the actors' tasks.  The runner's I/O manager is wrapped
(:class:`_ControlledIO`) so that it waits for the I/O in flight (a task in ``wait_readable``
or ``wait_writable``, a ``to_thread.run_sync`` job) before a decision, jumps the clock to the
next deadline when nothing can move, and reports a deadlock when there is none.

These are trio internals (``GLOBAL_RUN_CONTEXT.runner``, ``runq``, ``io_manager``,
``deadlines``, ``Task._abort_func``), used read-only but for the two replacements; tested
against the pinned trio.
"""

from __future__ import annotations

from asyncio import events
from collections import deque
from collections.abc import Callable
from collections.abc import Generator
from math import inf
from typing import Any
from typing import TypeVar

import trio
import trio.testing
from trio._core._run import GLOBAL_RUN_CONTEXT
from trio._core._traps import CancelShieldedCheckpoint

from stores import CONTROLLED
from stores import Control
from stores import Point
from stores import outside_loop

from ._aio_shared import MAX_STEPS
from ._aio_shared import TRIO_STEP
from ._aio_shared import UNSTARTED
from ._aio_shared import Deadlock
from ._aio_shared import Deadlocked
from ._aio_shared import Guard
from ._aio_shared import Handover
from ._aio_shared import IOStalled
from ._aio_shared import MixedRuntimes
from ._aio_shared import RuntimeMisuse
from ._aio_shared import RunTooLong
from ._aio_shared import Waiting
from ._aio_shared import coroutine_frames
from ._aio_shared import innermost
from ._aio_shared import misplaced
from ._aio_shared import resume
from .schedulers import UnsupportedChoice

__all__ = ["TrioControl", "run_trio"]

T = TypeVar("T")
Task = trio.lowlevel.Task


class _GatedRunQueue(deque[Task]):
    """trio's run queue, but ``list(runq)`` is the batch the control allows (one task)."""

    def __init__(self, control: TrioControl) -> None:
        super().__init__()
        self.control = control
        self.batch: list[Task] = []

    def __iter__(self) -> Any:
        self.batch = self.control.batch(list(deque.__iter__(self)))
        return iter(self.batch)

    def clear(self) -> None:
        for task in self.batch:
            self.remove(task)
        self.batch = []


class _ControlledIO:
    """The runner's I/O manager, with ``get_events`` decided by the control."""

    def __init__(self, real: Any, control: TrioControl) -> None:
        self.real = real
        self.control = control

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def get_events(self, timeout: float) -> Any:
        return self.control.get_events(self.real, timeout)


class TrioControl(Control):
    """The trio control of one run (also ``stores.CONTROLLED`` while it lasts), and its
    instrument (task spawns and steps)."""

    def __init__(self, state: Handover) -> None:
        self.state = state
        self.limits = state.limits
        self.actors = len(state.coros)
        self.tasks: list[Task | None] = [None] * self.actors
        self.index: dict[Task, int] = {}
        self.live: set[Task] = set()
        self.labels: dict[int, Point] = {}
        self.unprimed = set(state.live)
        self.spawning: int | None = None
        self.guard = Guard(self.limits, self.describe)
        self.error: BaseException | None = None
        self.tearing_down = False
        self.clock = trio.testing.MockClock()
        self.runner: Any = None
        self.scope: trio.CancelScope | None = None

    # -- store points --------------------------------------------------------------------

    def checkpoint(self, point: Point) -> Any:
        stepping = self.guard.stepping
        if stepping is not None and stepping >= 0:
            self.labels[stepping] = point
        return trio.lowlevel.checkpoint()

    def run_io(self, fn: Callable[[], T], point: Point) -> Generator[Any, Any, T]:
        yield from self.checkpoint(point).__await__()
        with self.guard.io():
            return outside_loop(fn)

    # -- naming ----------------------------------------------------------------------------

    def describe(self, task: int) -> str:
        if task < self.actors:
            return f"actor {task}"
        owner = self.state.owners[task - self.actors]
        return f"task {task} (spawned by actor {owner})"

    def owner(self, task: int) -> int:
        return task if task < self.actors else self.state.owners[task - self.actors]

    # -- the instrument ----------------------------------------------------------------------

    def task_spawned(self, task: Task) -> None:
        if self.spawning is not None:
            index = self.spawning
            self.tasks[index] = task
        else:
            nursery = task.parent_nursery
            parent = None if nursery is None else self.index.get(nursery.parent_task)
            if parent is None:
                return  # trio's or a library's own task
            index = len(self.tasks)
            self.tasks.append(task)
            self.state.owners.append(self.owner(parent))
        self.index[task] = index
        self.live.add(task)

    def task_exited(self, task: Task) -> None:
        self.live.discard(task)

    def before_task_step(self, task: Task) -> None:
        index = self.index.get(task)
        if index is not None:
            self.labels.pop(index, None)
            self.guard.enter(index)

    def after_task_step(self, task: Task) -> None:
        if self.guard.stepping is not None:
            try:
                self.guard.leave()
            except RuntimeMisuse as error:
                self.fail(error)

    # -- decisions -------------------------------------------------------------------------

    def batch(self, runnable: list[Task]) -> list[Task]:
        if self.tearing_down or not runnable:
            return runnable
        for task in runnable:
            if task not in self.index:
                return [task]
        unprimed = [t for t in runnable if self.index[t] in self.unprimed]
        if unprimed:  # an actor's first step, as in the stepper: no decision, lowest first
            first = min(unprimed, key=self.index.__getitem__)
            self.unprimed.discard(self.index[first])
            return [first]
        if self.in_flight():
            return []
        state = self.state
        scheduler = state.scheduler
        enabled = sorted(self.index[t] for t in runnable)
        try:
            if len(state.schedule) >= MAX_STEPS:
                raise RunTooLong(MAX_STEPS)
            if len(enabled) == 1 and not scheduler.sees_every_step:
                i = enabled[0]
            else:
                pending = [self.labels.get(t, TRIO_STEP) for t in range(enabled[-1] + 1)]
                walk = scheduler.uniform
                if walk is not None:
                    i = enabled[int(walk() * len(enabled))]
                else:
                    i = scheduler.next_actor(enabled, pending, len(state.schedule))
        except BaseException as error:  # not into trio's loop: after the run
            self.fail(error)
            return []
        state.schedule.append(i)
        state.points.append(self.labels.get(i, TRIO_STEP))
        chosen = self.tasks[i]
        assert chosen is not None
        return [chosen]

    def in_flight(self) -> bool:
        """A task of the run waits on a socket or on a thread."""
        for waiters in self.runner.io_manager.real._registered.values():
            if waiters.read_task in self.index or waiters.write_task in self.index:
                return True
        for task in self.live:
            abort = task._abort_func
            if abort is not None and getattr(abort, "__module__", "") == "trio._threads":
                return True
        return False

    def get_events(self, real: Any, timeout: float) -> Any:
        if self.tearing_down:
            return real.get_events(min(timeout, self.limits.io_timeout))
        if self.in_flight():
            events = real.get_events(self.limits.io_timeout)
            if not events:
                self.fail(
                    IOStalled(
                        f"waited {self.limits.io_timeout} s for real I/O that did not complete "
                        "(a task in wait_readable/wait_writable, or a to_thread job): a server "
                        "must run outside the actors' trio run, and every request get a reply."
                    )
                )
            return events
        if len(self.runner.runq):
            return []  # decide without looking at I/O that nobody waits for
        if not self.live:
            return real.get_events(timeout)  # the run is ending: trio's own shutdown
        deadline = self.runner.deadlines.next_deadline()
        if deadline != inf:
            now = self.clock.current_time()
            if deadline > now:
                self.clock.jump(deadline - now)
            return []
        self.deadlock()
        return []

    def deadlock(self) -> None:
        waiting = []
        for task in sorted(self.live, key=self.index.__getitem__):
            index = self.index[task]
            awaits, where = innermost(coroutine_frames(task.coro))
            waiting.append(Waiting(task=index, actor=self.owner(index), awaits=awaits, where=where))
        self.state.deadlock = Deadlock(step=len(self.state.schedule), waiting=tuple(waiting))
        self.teardown()

    def fail(self, error: BaseException) -> None:
        if self.error is None:
            self.error = error
        self.teardown()

    def teardown(self) -> None:
        if not self.tearing_down:
            self.tearing_down = True
            if self.scope is not None:
                self.scope.cancel()

    # -- the run ---------------------------------------------------------------------------

    async def main(self) -> None:
        runner = GLOBAL_RUN_CONTEXT.runner
        self.runner = runner
        gated = _GatedRunQueue(self)
        gated.extend(runner.runq)
        runner.runq = gated
        runner.io_manager = _ControlledIO(runner.io_manager, self)  # type: ignore[assignment]
        async with trio.open_nursery() as nursery:
            self.scope = nursery.cancel_scope
            for i in self.state.live:
                self.spawning = i
                nursery.start_soon(self.actor, i, name=f"claimcheck-actor-{i}")
            self.spawning = None

    async def actor(self, i: int) -> None:
        state = self.state
        first = UNSTARTED if state.unstarted else state.pending[i]
        try:
            state.results[i] = await resume(
                state.coros[i], first, "trio", CancelShieldedCheckpoint, self.label, self.wrong
            )
        except BaseException as error:
            self.ended(i, error)

    def label(self, point: Point) -> None:
        if self.guard.stepping is not None:
            self.labels[self.guard.stepping] = point

    def wrong(self, value: object) -> BaseException:
        who = self.guard.stepping
        return misplaced(value, "trio", self.describe(who) if who is not None else "an actor")

    def ended(self, i: int, error: BaseException) -> None:
        from ._stepper import ActorError

        if _only_cancelled(error) and self.tearing_down:
            if self.state.deadlock is not None:
                self.state.results[i] = ActorError(error=Deadlocked(self.state.deadlock))
            return
        mixed = _mixed(error)
        if mixed is not None:
            self.fail(MixedRuntimes(f"{self.describe(i)} {mixed}"))
        elif isinstance(error, (RuntimeMisuse, UnsupportedChoice)) or not isinstance(
            error, Exception
        ):
            self.fail(error)
        else:
            self.state.results[i] = ActorError(error=error)


def _only_cancelled(error: BaseException) -> bool:
    if isinstance(error, BaseExceptionGroup):
        return error.subgroup(lambda e: not isinstance(e, trio.Cancelled)) is None
    return isinstance(error, trio.Cancelled)


def _mixed(error: BaseException) -> str | None:
    """Why ``error`` says asyncio ran inside trio, or None."""
    text = str(error)
    if isinstance(error, TypeError) and "unrecognized yield message" in text:
        return "awaited asyncio inside trio: one run is driven by one event loop."
    if isinstance(error, RuntimeError) and text == "no running event loop":
        return "called asyncio inside trio (asyncio says: no running event loop)."
    return None


def run_trio(state: Handover) -> None:
    """Finish the run in ``state`` under trio control (updates ``state`` in place)."""
    control = TrioControl(state)
    previous = events._get_running_loop()
    events._set_running_loop(None)  # asyncio code inside trio must fail, not find a loop
    token = CONTROLLED.set(control)
    try:
        with control.guard.active():
            trio.run(control.main, clock=control.clock, instruments=[control])  # type: ignore[list-item]
    finally:
        CONTROLLED.reset(token)
        events._set_running_loop(previous)
    if control.error is not None:
        raise control.error
