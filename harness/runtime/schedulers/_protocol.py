"""The ``Scheduler`` protocol: the one owner of every nondeterministic choice."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

__all__ = ["PruneExecution", "ScheduleDiverged", "Scheduler", "independent"]


class PruneExecution(Exception):
    """Raised by a scheduler to abandon the current execution as redundant."""


class UnsupportedChoice(NotImplementedError):
    """The scheduler cannot make this kind of choice (exhaustive search and data choices).

    The runtime lets it propagate instead of recording it as the actor's error."""


class ScheduleDiverged(ValueError):
    """A replayed schedule asked for a choice the run does not offer (out-of-date or edited)."""


@runtime_checkable
class Scheduler(Protocol):
    """Decides, at every scheduling point, which actor moves next.

    Callers: the controlled runtime (``next_actor``, once per step with two or more enabled
    actors) and the explorer (``new_execution`` before each schedule).  A scheduler owns one
    seeded ``random.Random`` (or draws from Hypothesis, or follows a recorded schedule), so the
    same seed always yields the same schedules.

    ``new_execution() -> bool``
        Prepare the next schedule.  ``False`` means the strategy has nothing left to try (an
        exhaustive search that finished); random strategies always return ``True``.
    ``next_actor(enabled, pending, step) -> int``
        Return one element of ``enabled`` (actor indices, ascending, at least two).
        ``pending[i]`` is the store operation actor ``i`` will perform if chosen (a
        ``stores.Point``); ``step`` counts steps of this execution from 0.  May raise
        :class:`PruneExecution` to abandon a redundant execution.
    ``next_int(bound) -> int``
        A data or fault choice in ``range(bound)``, from the same source of randomness.
    """

    name: str

    def new_execution(self) -> bool: ...

    def next_actor(self, enabled: Sequence[int], pending: Sequence[Any], step: int) -> int: ...

    def next_int(self, bound: int) -> int: ...


def independent(p: Any, q: Any) -> bool:
    """Do two store operations commute?  Different documents, or both reads.

    A point is ``(op, partition_key, id_or_None, writes)``; ``id`` None reads a whole partition
    and so conflicts with every write in it.
    """
    if p[1] != q[1]:
        return True
    if p[2] is not None and q[2] is not None and p[2] != q[2]:
        return True
    return not (p[3] or q[3])
