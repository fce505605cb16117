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
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Coroutine
from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any

import attrs

from stores import CONTROLLED
from stores import Point

from .schedulers import PruneExecution
from .schedulers import Scheduler
from .schedulers import UnsupportedChoice

__all__ = ["ActorError", "Execution", "RuntimeMisuse", "choose", "drive", "run_actors"]

Actor = Callable[[], Coroutine[Any, Any, Any]]


class RuntimeMisuse(TypeError):
    """An actor awaited something that is not a store operation."""


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
    """

    schedule: tuple[int, ...]
    points: tuple[Point, ...]
    results: tuple[Any, ...]
    pruned: bool = False
    #: Data and fault choices drawn during the run (``choose``), in order.
    data: tuple[int, ...] = ()


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
        f"actor {actor} awaited {value!r}, which is not a store operation; under the "
        "controlled runtime actors may only await stores.Store methods (no trio.sleep, "
        "no asyncio): move other awaits out of the actor."
    )


def run_actors(actors: Sequence[Actor], scheduler: Scheduler) -> Execution:
    """Run ``actors`` to completion, letting ``scheduler`` pick the actor of every step."""
    n = len(actors)
    coros = [actor() for actor in actors]
    pending: list[Any] = [None] * n
    results: list[Any] = [None] * n
    enabled: list[int] = []
    schedule: list[int] = []
    points: list[Point] = []
    data: list[int] = []

    def chooser(bound: int, ordinary: int) -> int:
        value = scheduler.next_int(bound, ordinary)
        data.append(value)
        return value

    token = CONTROLLED.set(True)
    chooser_token = _CHOOSER.set(chooser)
    pruned = False
    try:
        # Priming runs each actor up to its first point: local work only, no store effect.
        for i, coro in enumerate(coros):
            try:
                pending[i] = coro.send(None)
            except StopIteration as stop:
                results[i] = stop.value
                continue
            except UnsupportedChoice:
                raise
            except Exception as error:
                results[i] = ActorError(error=error)
                continue
            if type(pending[i]) is not tuple:
                raise _bad_yield(i, pending[i])
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
        while enabled:
            if len(enabled) == 1 and not every:
                i = enabled[0]
            elif walk is not None:
                i = enabled[int(walk() * len(enabled))]
            else:
                i = choose(enabled, pending, step)
            append_step(i)
            append_point(pending[i])
            step += 1
            try:
                point = coros[i].send(None)
            except StopIteration as stop:
                results[i] = stop.value
                enabled.remove(i)
                continue
            except UnsupportedChoice:
                raise
            except Exception as error:
                results[i] = ActorError(error=error)
                enabled.remove(i)
                continue
            if type(point) is not tuple:
                raise _bad_yield(i, point)
            pending[i] = point
    except PruneExecution:
        pruned = True
    finally:
        CONTROLLED.reset(token)
        _CHOOSER.reset(chooser_token)
        for coro in coros:
            coro.close()  # a no-op for finished ones; unstarted or abandoned ones need it
    execution = Execution(
        schedule=tuple(schedule),
        points=tuple(points),
        results=tuple(results),
        pruned=pruned,
        data=tuple(data),
    )
    if not pruned:
        scheduler.end_execution(execution)
    return execution


def drive(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run one coroutine to completion under control, with no scheduling choices.

    For sequential set-up and for sequential drivers (the Hypothesis state machine): each store
    operation still passes its point, but nothing else can run in between.
    """
    token = CONTROLLED.set(True)
    try:
        while True:
            try:
                value = coro.send(None)
            except StopIteration as stop:
                return stop.value
            if type(value) is not tuple:
                coro.close()
                raise _bad_yield(0, value)
    finally:
        CONTROLLED.reset(token)
