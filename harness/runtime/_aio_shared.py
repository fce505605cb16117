"""What the asyncio control (``_aio``) and the trio control (``_trio``) share with the stepper.

The stepper hands a run over (:class:`Handover`) when an actor awaits something that is not a
store point; the controls report a :class:`Deadlock` as data and raise the typed errors below
for bad input.  :class:`Guard` names an actor that blocks the thread: ``time.sleep`` and a
blocking ``socket.connect`` are refused as they happen, any other stall is measured per step.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
import types
from collections.abc import Callable
from collections.abc import Coroutine
from collections.abc import Generator
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from typing import TypeVar

import attrs
import trio

from stores import Point

from .._findings import Finding
from .._findings import Violation
from .schedulers import Scheduler

__all__ = [
    "ASYNCIO_STEP",
    "TRIO_STEP",
    "UNSTARTED",
    "BlockingActor",
    "Deadlock",
    "Deadlocked",
    "Guard",
    "Handover",
    "IOStalled",
    "Limits",
    "MixedRuntimes",
    "NeedsRuntime",
    "RuntimeMisuse",
    "Waiting",
    "framework_of",
    "innermost",
    "misplaced",
    "resume",
]


class RuntimeMisuse(TypeError):
    """An actor awaited or did something the controlled runtime cannot schedule."""


class BlockingActor(RuntimeMisuse):
    """An actor blocked the thread inside a step (``time.sleep``, a blocking socket, a long
    computation): every other actor, and the scheduler, stood still meanwhile."""


class MixedRuntimes(RuntimeMisuse):
    """asyncio and trio awaited in one run: one event loop drives a run, so pick one."""


class NeedsRuntime(RuntimeMisuse):
    """An actor needs asyncio's or trio's machinery before its first await, so the stepper
    could not tell which loop it needs: name it (``runtime=`` or ``use_runtime``)."""


class IOStalled(RuntimeMisuse):
    """Real I/O the runtime was waiting for did not complete within ``Limits.io_timeout``."""


class _AnyPartition(str):
    """The partition of a step that is not a store point: equal to every partition, so
    ``independent`` treats the step as dependent on everything (it may touch anything)."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str)

    def __ne__(self, other: object) -> bool:
        return not isinstance(other, str)

    __hash__ = str.__hash__


_ANY = _AnyPartition("*")
#: ``pending[i]`` of a task whose next step is not a store point: conservatively dependent.
ASYNCIO_STEP: Point = ("asyncio", _ANY, None, True)
TRIO_STEP: Point = ("trio", _ANY, None, True)


@attrs.frozen(kw_only=True)
class Limits:
    """Wall-clock bounds of a controlled async run (they never decide a schedule).

    ``blocking_step``: a step that runs longer than this (run_io's inline I/O excluded) is a
    :class:`BlockingActor`.  ``io_timeout``: how long to wait for real I/O (a thread, a reply
    on a socket) before :class:`IOStalled`.  ``idle_grace``: when no actor can move and no
    reply is awaited but sockets are open, how long to wait for one to speak before calling
    the state a deadlock.
    """

    blocking_step: float = 5.0
    io_timeout: float = 30.0
    idle_grace: float = 0.5


@attrs.frozen(kw_only=True)
class Waiting:
    """One task of a deadlock: what it waits on, and where."""

    task: int
    #: The actor the task belongs to (itself, or the actor that spawned it).
    actor: int
    awaits: str
    where: str


@attrs.frozen(kw_only=True)
class Deadlock:
    """Every live task waits on something that no task, timer or I/O will provide."""

    #: Steps taken before the runtime found it (the schedule up to here is its trace).
    step: int
    waiting: tuple[Waiting, ...]

    def sentence(self, names: tuple[str, ...] = ()) -> str:
        def who(w: Waiting) -> str:
            name = names[w.actor] if w.actor < len(names) else f"actor {w.actor}"
            task = "" if w.task == w.actor else f" (its task {w.task})"
            return f"{name}{task} waits on {w.awaits} at {w.where}"

        return (
            f"deadlock after step {self.step}: every task waits on something no task, timer "
            f"or I/O will provide: {'; '.join(who(w) for w in self.waiting)}"
        )

    def violation(self, names: tuple[str, ...] = ()) -> Violation:
        return Violation(kind="deadlock", subject=None, sentence=self.sentence(names))


#: Steps one run may take before it is a livelock (a retry loop that cannot win, a busy loop):
#: far above any scenario's need (a 64-claimer race takes a few hundred; the runtime benchmark's
#: one long run 200,000), and a bound instead of a hang (a second or a few).
MAX_STEPS = 1_000_000


class RunTooLong(Finding):
    """A run took more than :data:`MAX_STEPS` steps without every actor finishing."""

    def __init__(self, steps: int, detail: str = "") -> None:
        super().__init__(
            f"livelock: the run took more than {steps:,} steps without every actor finishing "
            "(a retry loop that can never win, or a loop that only yields, in the code under "
            f"test){detail}"
        )
        self.steps = steps


class Deadlocked(Finding):
    """A deadlock, raised where no schedule carries it (``drive``); the actor result of a
    deadlocked actor is ``ActorError(Deadlocked(...))``."""

    def __init__(self, deadlock: Deadlock) -> None:
        super().__init__(deadlock.sentence())
        self.deadlock = deadlock


@attrs.define(eq=False)
class Handover:
    """A run in progress, handed from the stepper to an event-loop control."""

    scheduler: Scheduler
    coros: list[Coroutine[Any, Any, Any]]
    #: Per actor: what it last yielded (a Point, or the foreign value), None once it finished.
    pending: list[Any]
    #: Per actor: its result once finished.
    results: list[Any]
    #: Actors that have not finished, ascending.
    live: list[int]
    schedule: list[int]
    points: list[Point]
    data: list[int]
    limits: Limits = attrs.field(factory=Limits)
    #: Actors not yet started (an explicit runtime primes them inside the loop).
    unstarted: bool = False
    #: Set by the control: the parent actor of each spawned task (index n + k).
    owners: list[int] = attrs.field(factory=list)
    deadlock: Deadlock | None = None
    pruned: bool = False


T = TypeVar("T")
#: ``first`` of an actor that has not run yet.
UNSTARTED: Any = object()


@types.coroutine
def resume(
    coro: Coroutine[Any, Any, T],
    first: Any,
    loop: str,
    bare: object,
    label: Callable[[Point], None],
    wrong: Callable[[object], BaseException],
) -> Generator[Any, Any, T]:
    """Drive an actor's coroutine inside a task of ``loop`` ("asyncio" or "trio"), starting
    from what it last yielded to the stepper (``first``).  A store point met there becomes
    ``bare`` (the loop's plain reschedule: a bare yield, trio's checkpoint trap) with its
    label; anything of another loop is ``wrong``.  asyncio sends ``None`` back; trio sends an
    outcome, unwrapped for a translated point (its coroutine awaits a plain tuple)."""
    value = first
    if value is UNSTARTED:
        try:
            value = coro.send(None)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
    while True:
        translated = isinstance(value, tuple)
        if translated:
            label((value[0], value[1], value[2], value[3]))
            value = bare
        elif framework_of(value) != loop:
            coro.close()
            raise wrong(value)
        try:
            sent = yield value
            if translated and sent is not None:
                sent = sent.unwrap()
        except BaseException as error:
            try:
                value = coro.throw(error)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            continue
        try:
            value = coro.send(sent)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]


def misplaced(value: object, loop: str, who: str) -> RuntimeMisuse:
    """The error for an actor that awaited ``value`` in a run driven by ``loop``."""
    kind = framework_of(value)
    other = "trio" if loop == "asyncio" else "asyncio"
    return (MixedRuntimes if kind == other else RuntimeMisuse)(
        f"{who} awaited {value!r} in {'an' if loop == 'asyncio' else 'a'} {loop} run: "
        f"{f'{loop} and {other} cannot share a run' if kind else f'not {loop}'}; await store "
        f"operations and {loop} only (or run {other} code on its own)."
    )


def framework_of(value: object) -> str | None:
    """Which event loop a yielded value belongs to: "asyncio", "trio", or None."""
    if value is None or getattr(value, "_asyncio_future_blocking", None) is not None:
        return "asyncio"
    kind = value if isinstance(value, type) else type(value)
    if getattr(kind, "__module__", "").startswith("trio."):
        return "trio"
    return None


_OWN = (
    os.path.dirname(__file__),
    os.path.dirname(os.__file__),  # the standard library: asyncio, selectors, threading
    os.path.dirname(os.path.dirname(trio.__file__ or "")),  # site-packages
)


_RESUMERS = frozenset({"resume"})
#: Frames of trio's that only pass a yield on (the controls' own are skipped by file).
_PLUMBING = frozenset({"_real_async_yield", "wait_task_rescheduled"})


def _frames(coro: Any) -> Iterator[types.FrameType]:
    """The frames of a suspended coroutine chain, outermost first."""
    while coro is not None:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is not None:
            yield frame
        inner = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
        if inner is None and frame is not None and frame.f_code.co_name in _RESUMERS:
            inner = frame.f_locals.get("coro")  # the controls drive the actor by hand
        coro = inner


def innermost(frames: list[types.FrameType]) -> tuple[str, str]:
    """What a suspended task awaits (the innermost function) and where (the innermost frame
    outside the runtime, the standard library and installed packages)."""
    frames = [
        f
        for f in frames
        if f.f_code.co_name not in _PLUMBING and not f.f_code.co_filename.startswith(_OWN[0])
    ]
    if not frames:
        return "?", "?"
    awaits = frames[-1].f_code.co_qualname
    where = "?"
    for frame in reversed(frames):
        path = frame.f_code.co_filename
        if not path.startswith(_OWN):
            shown = os.path.relpath(path)
            shown = path if shown.startswith("..") else shown
            where = f"{shown}:{frame.f_lineno} in {frame.f_code.co_qualname}"
            break
    return awaits, where


def coroutine_frames(coro: Any) -> list[types.FrameType]:
    return list(_frames(coro))


_REAL_SLEEP = time.sleep
_GUARDS: dict[int, Guard] = {}
_GUARD_LOCK = threading.Lock()
_audit_installed = False


def _guarded_sleep(seconds: float) -> None:
    guard = _GUARDS.get(threading.get_ident())
    if guard is not None and seconds > 0:
        guard.refuse(f"time.sleep({seconds!r})")
    _REAL_SLEEP(seconds)


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event != "socket.connect":
        return
    guard = _GUARDS.get(threading.get_ident())
    if guard is not None and isinstance(args[0], socket.socket) and args[0].gettimeout() != 0.0:
        guard.refuse(f"a blocking socket.connect({args[1]!r})")


class _Refused(OSError):
    """A blocking call refused inside a step (what the actor sees)."""


class Guard:
    """Names an actor that blocks the thread during its step.

    Active only while a task steps in this thread, outside ``run_io`` (whose inline call is
    the store's I/O by design).  ``time.sleep`` is replaced for the duration of the run (other
    threads see the real one) and blocking connects are caught by an audit hook: both are
    refused inside the actor (an ``OSError``, so clean-up paths run) and remembered: the run
    raises :class:`BlockingActor` after the step, even if the actor swallowed the refusal.  Anything else that stalls a step is caught by its length.
    """

    def __init__(self, limits: Limits, describe: Callable[[int], str]) -> None:
        self.limits = limits
        self.describe = describe
        self.stepping: int | None = None
        self.refused: BlockingActor | None = None
        self._io = 0.0
        self._in_io = False
        self._started = 0.0

    def refuse(self, what: str) -> None:
        if self.stepping is None or self._in_io:
            return
        error = BlockingActor(
            f"{self.describe(self.stepping)} called {what} inside a step: a blocking call stops "
            "every actor and the scheduler with it. Await instead (asyncio.sleep / trio.sleep "
            "run on virtual time; asyncio.to_thread / trio.to_thread.run_sync for blocking "
            "calls; asyncio or trio sockets for network I/O)."
        )
        self.refused = self.refused or error
        # Inside the actor it reads as a refused system call, so that library clean-up paths
        # (close the socket that failed to connect) run; the run fails with ``error`` after.
        raise _Refused(str(error))

    @contextmanager
    def active(self) -> Iterator[None]:
        global _audit_installed
        ident = threading.get_ident()
        with _GUARD_LOCK:
            if not _audit_installed:
                sys.addaudithook(_audit)  # permanent (hooks cannot be removed): it is cheap
                _audit_installed = True
            _GUARDS[ident] = self
            time.sleep = _guarded_sleep  # type: ignore[assignment]
        try:
            yield
        finally:
            with _GUARD_LOCK:
                del _GUARDS[ident]
                if not _GUARDS:
                    time.sleep = _REAL_SLEEP

    def enter(self, task: int) -> None:
        self.stepping = task
        self._io = 0.0
        self._started = time.perf_counter()

    def leave(self) -> None:
        task, self.stepping = self.stepping, None
        if self.refused is not None:
            raise self.refused
        took = time.perf_counter() - self._started - self._io
        if task is not None and took > self.limits.blocking_step:
            raise BlockingActor(
                f"{self.describe(task)} ran for {took:.1f} s in one step without giving the "
                f"loop back (limit {self.limits.blocking_step} s): a blocking call (a socket "
                "outside to_thread, a lock of the threading module) or a long computation. "
                "Await it instead, or move it to asyncio.to_thread / trio.to_thread.run_sync."
            )

    @contextmanager
    def io(self) -> Iterator[None]:
        """run_io's inline call: blocking allowed, its time not counted."""
        start = time.perf_counter()
        self._in_io = True
        try:
            yield
        finally:
            self._in_io = False
            self._io += time.perf_counter() - start
