"""The controlled runtime: actors are coroutines, every store operation is a scheduling point.

An actor is a zero-argument callable returning a coroutine (an ``async def`` using the
coordinator or a store).  The runtime steps the coroutines by hand with ``coro.send(None)``.
Each store operation awaits exactly one scheduling point (``stores.checkpoint``/``run_io``),
which yields a ``Point`` to the runtime; the runtime then asks the scheduler which actor moves
next, and resumes it: the chosen actor performs its pending operation and runs on, locally, to
its next point (or to its end).  So a schedule is simply the sequence of chosen actors, and
everything between two points happens atomically with respect to other actors.

Why not trio here: a hand-rolled stepper costs one ``send`` per step and no event loop, which is
what makes hundreds of thousands of schedules per second possible.  Stores with real I/O work
unchanged: under control their blocking call runs inline right after the point, so the
schedule fixes the order in which requests reach the server.

Code that awaits asyncio or trio is handed over, mid-run, to an event-loop control
(``_aio``, ``_trio``) that goes on with the same scheduler, schedule and data: the first time an
actor yields something that is not a store point (an asyncio future, a bare yield, a trio
trap), or asyncio work gets scheduled (the loop's wake-up, ``wake_asyncio``).  While the
stepper runs alone, this thread's controlled asyncio loop is the running loop, so asyncio code
finds one from its first line.  ``runtime="asyncio"``/``"trio"`` (or :func:`use_runtime`)
starts a run under a control directly, for code that needs a task or trio before its first
await.
"""

from __future__ import annotations

from asyncio import events
from collections.abc import Callable
from collections.abc import Coroutine
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from typing import Literal

import attrs

from stores import CONTROLLED
from stores import Point

from ._aio import AioControl
from ._aio import Labelled
from ._aio import run_asyncio
from ._aio import wake_asyncio
from ._aio_loop import controlled_loop
from ._aio_shared import MAX_STEPS
from ._aio_shared import Deadlock
from ._aio_shared import Deadlocked
from ._aio_shared import Handover
from ._aio_shared import Limits
from ._aio_shared import MixedRuntimes
from ._aio_shared import NeedsRuntime
from ._aio_shared import RuntimeMisuse
from ._aio_shared import RunTooLong
from ._aio_shared import framework_of
from ._effects import EffectObserver
from ._effects import observing
from ._effects import reset_observer
from .schedulers import PruneExecution
from .schedulers import Scheduler
from .schedulers import SchedulerBase
from .schedulers import UnsupportedChoice

__all__ = [
    "ActorError",
    "Execution",
    "Runtime",
    "RuntimeMisuse",
    "choose",
    "drive",
    "run_actors",
    "use_runtime",
]

Actor = Callable[[], Coroutine[Any, Any, Any]]

#: Which machinery drives a run: "auto" (the stepper, handing over to asyncio or trio when an
#: actor awaits one), or an event loop from the first step.
Runtime = Literal["auto", "asyncio", "trio"]
_RUNTIMES = ("auto", "asyncio", "trio")
_RUNTIME: ContextVar[Runtime] = ContextVar("claimcheck_runtime", default="auto")


@contextmanager
def use_runtime(runtime: Runtime) -> Iterator[None]:
    """Make ``runtime`` the default of every run started inside the block (explore, replay,
    conformance included): for code that needs an asyncio task or trio before its first
    await, which the stepper cannot detect."""
    _check_runtime(runtime)
    token = _RUNTIME.set(runtime)
    try:
        yield
    finally:
        _RUNTIME.reset(token)


def _check_runtime(runtime: object) -> None:
    if runtime not in _RUNTIMES:
        raise ValueError(
            f"runtime must be one of {', '.join(map(repr, _RUNTIMES))}, got {runtime!r} "
            f"({type(runtime).__name__})."
        )


@attrs.frozen(kw_only=True)
class ActorError:
    """An actor ended by raising; the exception is kept, not swallowed."""

    error: BaseException


@attrs.frozen(kw_only=True)
class Execution:
    """One schedule as it ran.

    ``schedule[s]`` is the actor resumed at step ``s``; ``points[s]`` the store operation that
    actor performed then.  ``results[i]`` is actor ``i``'s return value, or an ``ActorError``.
    ``pruned`` is true when the scheduler abandoned the run as redundant (exhaustive search).

    Under an event loop, a step is one task step: ``points[s]`` is a store point or
    ``("asyncio" | "trio", "*", None, True)`` (dependent on everything), and indices from
    ``len(results)`` on are tasks the actors spawned (``owners[k]`` is the actor task
    ``len(results) + k`` came from, -1 if unknown).
    """

    schedule: tuple[int, ...]
    points: tuple[Point, ...]
    results: tuple[Any, ...]
    pruned: bool = False
    #: Data and fault choices drawn during the run (``choose``), in order.
    data: tuple[int, ...] = ()
    #: Set when the run ended with every task waiting on something no one will provide.
    deadlock: Deadlock | None = None
    owners: tuple[int, ...] = ()


#: The data-choice function of the run in progress (see :func:`choose`).
_CHOOSER: ContextVar[Callable[[int, int], int] | None] = ContextVar(
    "claimcheck_chooser", default=None
)


def choose(bound: int, ordinary: int = 1) -> int | None:
    """A data or fault choice in ``range(bound)`` from the scheduler of the controlled run in
    progress (recorded, so a schedule token replays it), or ``None`` outside a controlled run.

    Values below ``ordinary`` are equivalent ordinary outcomes (no fault): an exhaustive search
    tries only ``0`` of them, and every other value within its fault budget.
    """
    if not 1 <= ordinary <= bound:
        raise ValueError(
            f"choose(bound={bound}, ordinary={ordinary}): need 1 <= ordinary <= bound."
        )
    chooser = _CHOOSER.get()
    return None if chooser is None else chooser(bound, ordinary)


def _bad_yield(actor: int, value: object) -> RuntimeMisuse:
    return RuntimeMisuse(
        f"actor {actor} awaited {value!r}, which is not a store operation, nor asyncio, nor "
        "trio; under the controlled runtime actors may await store operations and asyncio or "
        "trio (one of them per run): move other awaits out of the actor."
    )


def _needs_runtime(actor: int, error: Exception) -> None:
    """Raise :class:`NeedsRuntime` if ``error`` says asyncio or trio was used outside one."""
    if not isinstance(error, RuntimeError):
        return
    text = str(error)
    if text == "must be called from async context":
        kind = "trio"
    elif "inside a task" in text or "cannot determine the parent task" in text:
        kind = "asyncio"
    else:
        return
    raise NeedsRuntime(
        f"actor {actor} used {kind} before its first await ({type(error).__name__}: {text}), "
        f"so the runtime could not tell it needs {kind}: run it with runtime={kind!r} "
        f"(run_actors(..., runtime={kind!r}), drive(..., runtime={kind!r}), or "
        f"`with harness.runtime.use_runtime({kind!r}):` around explore, replay or conformance)."
    ) from error


def _kind(state: Handover) -> str:
    """Which event loop the actors in ``state`` await; raise on a mix or on anything else."""
    kinds: dict[str, int] = {}
    if isinstance(CONTROLLED.get(), AioControl):
        kinds["asyncio"] = -1
    for i in state.live:
        value = state.pending[i]
        if type(value) is tuple:
            continue
        kind = "asyncio" if isinstance(value, Labelled) else framework_of(value)
        if kind is None:
            raise _bad_yield(i, value)
        kinds.setdefault(kind, i)
    if len(kinds) > 1:
        who = {k: "an asyncio task" if i < 0 else f"actor {i}" for k, i in kinds.items()}
        raise MixedRuntimes(
            f"{who['asyncio']} awaits asyncio and {who['trio']} trio: one run is driven by one "
            "event loop; write the actors and the store against one of them."
        )
    return next(iter(kinds), "asyncio")


def _continue(state: Handover, kind: str) -> None:
    if kind == "trio":
        from ._trio import run_trio

        run_trio(state)
    else:
        run_asyncio(state)


def _recorder(scheduler: Scheduler, data: list[int]) -> Callable[[int, int], int]:
    """The data-choice function of a run: asks ``scheduler``, records in ``data``."""

    def chooser(bound: int, ordinary: int) -> int:
        value = scheduler.next_int(bound, ordinary)
        data.append(value)
        return value

    return chooser


def _execution(state: Handover, pruned: bool) -> Execution:
    return Execution(
        schedule=tuple(state.schedule),
        points=tuple(state.points),
        results=tuple(state.results),
        pruned=pruned,
        data=tuple(state.data),
        deadlock=state.deadlock,
        owners=tuple(state.owners),
    )


def run_actors(
    actors: Sequence[Actor],
    scheduler: Scheduler,
    *,
    runtime: Runtime | None = None,
    limits: Limits | None = None,
) -> Execution:
    """Run ``actors`` to completion, letting ``scheduler`` pick the actor of every step.

    ``runtime`` (default: :func:`use_runtime`'s, else "auto") and ``limits`` (the wall-clock
    bounds of event-loop runs) matter only to actors that await asyncio or trio.
    """
    if runtime is None:
        runtime = _RUNTIME.get()
    if runtime != "auto":
        _check_runtime(runtime)
        return _run_in_loop(actors, scheduler, runtime, limits or Limits())
    n = len(actors)
    coros = [actor() for actor in actors]
    pending: list[Any] = [None] * n
    results: list[Any] = [None] * n
    enabled: list[int] = []
    schedule: list[int] = []
    points: list[Point] = []
    data: list[int] = []
    chooser = _recorder(scheduler, data)

    # asyncio code finds this thread's controlled loop running from its first line; its first
    loop = controlled_loop()  # callback wakes the stepper up (see _aio.wake_asyncio)
    previous = events._get_running_loop()
    events._set_running_loop(loop)
    loop.on_schedule = wake_asyncio
    token, chooser_token = CONTROLLED.set(True), _CHOOSER.set(chooser)
    effects = observing(EffectObserver.of(scheduler.observe_effect, schedule))  # see _effects
    pruned = False
    state: Handover | None = None
    try:
        # Priming runs each actor up to its first point: local work only, no store effect.
        foreign = False
        for i, coro in enumerate(coros):
            try:
                pending[i] = coro.send(None)
            except StopIteration as stop:
                results[i] = stop.value
                continue
            except UnsupportedChoice:
                raise
            except Exception as error:
                _needs_runtime(i, error)
                results[i] = ActorError(error=error)
                continue
            if type(pending[i]) is not tuple:
                foreign = True
            enabled.append(i)
        choose = scheduler.next_actor
        # Exhaustive search must see forced steps too, to prune a branch whose only runnable
        # actor sleeps; the other strategies skip the call when there is no choice to make.
        every = scheduler.sees_every_step
        append_step = schedule.append
        append_point = points.append
        step = 0
        # The random walk is the hot strategy: inline its choice (same draws, same order).
        walk = scheduler.uniform
        if not foreign:
            while enabled:
                if len(enabled) == 1 and not every:
                    i = enabled[0]
                elif walk is not None:
                    i = enabled[int(walk() * len(enabled))]
                else:
                    i = choose(enabled, pending, step)
                append_step(i)
                append_point(pending[i])
                if (step := step + 1) > MAX_STEPS:  # a livelock: a finding, not a hang
                    raise RunTooLong(MAX_STEPS)
                try:
                    point = coros[i].send(None)
                except StopIteration as stop:
                    results[i] = stop.value
                    enabled.remove(i)
                    continue
                except UnsupportedChoice:
                    raise
                except Exception as error:
                    _needs_runtime(i, error)
                    results[i] = ActorError(error=error)
                    enabled.remove(i)
                    continue
                pending[i] = point
                if type(point) is not tuple:
                    foreign = True
                    break
        if foreign or CONTROLLED.get() is not True:  # asyncio or trio: an event loop goes on
            state = Handover(scheduler, coros, pending, results, enabled, schedule, points, data)
            state.limits = limits or state.limits
            _continue(state, _kind(state))
    except PruneExecution:
        pruned = True
    finally:
        loop.on_schedule = None
        events._set_running_loop(previous)
        CONTROLLED.reset(token)
        _CHOOSER.reset(chooser_token)
        reset_observer(effects)
        for coro in coros:  # a no-op for finished ones; unstarted or abandoned ones need it
            coro.close()
    execution = (
        Execution(
            schedule=tuple(schedule),
            points=tuple(points),
            results=tuple(results),
            pruned=pruned,
            data=tuple(data),
        )
        if state is None
        else _execution(state, pruned)
    )
    if not pruned:
        scheduler.end_execution(execution)
    return execution


def _run_in_loop(
    actors: Sequence[Actor], scheduler: Scheduler, runtime: str, limits: Limits
) -> Execution:
    """``run_actors`` under an event loop from the first step (``runtime`` named)."""
    n = len(actors)
    data: list[int] = []
    chooser = _recorder(scheduler, data)

    coros = [actor() for actor in actors]
    state = Handover(
        scheduler=scheduler,
        coros=coros,
        pending=[None] * n,
        results=[None] * n,
        live=list(range(n)),
        schedule=[],
        points=[],
        data=data,
        limits=limits,
        unstarted=True,
    )
    chooser_token = _CHOOSER.set(chooser)
    pruned = False
    try:
        _continue(state, runtime)
    except PruneExecution:
        pruned = True
    finally:
        _CHOOSER.reset(chooser_token)
        for coro in coros:
            coro.close()
    execution = _execution(state, pruned)
    if not pruned:
        scheduler.end_execution(execution)
    return execution


class _Sequential(SchedulerBase):
    """``drive``'s scheduler under an event loop: always the lowest enabled task."""

    name = "sequential"

    def next_actor(self, enabled: Sequence[int], pending: Sequence[Any], step: int) -> int:
        return enabled[0]

    def next_int(self, bound: int, ordinary: int = 1) -> int:
        return 0


def drive(
    coro: Coroutine[Any, Any, Any],
    *,
    runtime: Runtime | None = None,
    limits: Limits | None = None,
) -> Any:
    """Run one coroutine to completion under control, with no scheduling choices.

    For sequential set-up and for sequential drivers (the Hypothesis state machine): each store
    operation still passes its point, but nothing else can run in between.  A coroutine that
    awaits asyncio or trio goes on under that loop (tasks it spawns run lowest index first); a
    deadlock raises :class:`Deadlocked`.
    """
    if runtime is None:
        runtime = _RUNTIME.get()
    if runtime != "auto":
        _check_runtime(runtime)
        state = _drive_state(coro, limits, unstarted=True)
        try:
            _continue(state, runtime)
        finally:
            coro.close()
        return _driven(state)
    loop = controlled_loop()
    previous = events._get_running_loop()
    events._set_running_loop(loop)
    loop.on_schedule = wake_asyncio
    token = CONTROLLED.set(True)
    try:
        while True:
            try:
                value = coro.send(None)
            except StopIteration as stop:
                if CONTROLLED.get() is True:
                    return stop.value
                # asyncio work was scheduled and is left: let the control clear it away.
                state = _drive_state(coro, limits, unstarted=False)
                state.results[0], state.live = stop.value, []
                break
            except Exception as error:
                _needs_runtime(0, error)
                raise
            if type(value) is not tuple:
                state = _drive_state(coro, limits, unstarted=False)
                state.pending[0] = value
                break
        _continue(state, _kind(state))
    finally:
        loop.on_schedule = None
        events._set_running_loop(previous)
        CONTROLLED.reset(token)
        coro.close()
    return _driven(state)


def _drive_state(
    coro: Coroutine[Any, Any, Any], limits: Limits | None, unstarted: bool
) -> Handover:
    return Handover(
        scheduler=_Sequential(),
        coros=[coro],
        pending=[None],
        results=[None],
        live=[0],
        schedule=[],
        points=[],
        data=[],
        limits=limits or Limits(),
        unstarted=unstarted,
    )


def _driven(state: Handover) -> Any:
    if state.deadlock is not None:
        raise Deadlocked(state.deadlock)
    result = state.results[0]
    if isinstance(result, ActorError):
        raise result.error
    return result
