"""The determinism check: a wrapper that runs every schedule of another strategy twice.

Shuttle's ``UncontrolledNondeterminismCheckScheduler`` is the model: the first run of each
schedule asks the wrapped strategy and records every choice and what the run offered at it;
the second run replays the same choices and must be offered the same things at every step and
end with the same results.  Anything else means something outside the scheduler (a clock, a
random source, thread timing) decides what the store or the actors do, and a printed schedule
would not reproduce the run.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

from ..._findings import Finding
from ._protocol import Scheduler

if TYPE_CHECKING:
    from .._stepper import Execution

__all__ = ["DeterminismCheck", "NondeterminismError"]


class NondeterminismError(Finding):
    """The same schedule ran twice and did not do the same thing."""


class DeterminismCheck:
    """Wraps ``inner``: every schedule it proposes runs twice; the repeat must match.

    The repeat is declared (``repeating``: true from the end of an original until the end of its
    repeat) so that the explorer neither counts nor checks it.  Data and fault choices are
    replayed too.
    """

    sees_every_step = True
    uniform: Callable[[], float] | None = None
    #: Repeats replay choices, so the inner search is not told effects (it reduces less).
    observe_effect: Callable[[int, bool], None] | None = None

    def __init__(self, inner: Scheduler) -> None:
        self.inner = inner
        self.name = inner.name
        self.seed = inner.seed
        self._repeat = False
        self._schedules = 0
        self._offered: list[tuple[tuple[int, ...], tuple[Any, ...]]] = []
        self._chosen: list[int] = []
        self._data: list[int] = []
        self._data_pos = 0
        self._first: Execution | None = None

    @property
    def complete(self) -> bool:
        return self.inner.complete

    @property
    def bound(self) -> str:
        return self.inner.bound

    @property
    def pruned(self) -> int:
        return self.inner.pruned

    @property
    def repeating(self) -> bool:
        return self._repeat

    def unreduced(self) -> Scheduler | None:
        return self.inner.unreduced()

    def new_execution(self) -> bool:
        if self._repeat:
            # The original just ran: repeat it before asking the inner strategy for more.
            self._data_pos = 0
            return True
        self._offered, self._chosen, self._data = [], [], []
        return self.inner.new_execution()

    def _fail(self, what: str) -> NondeterminismError:
        return NondeterminismError(
            f"schedule #{self._schedules} is not deterministic: {what}. Something outside the "
            "scheduler (a clock, a random source, thread timing) decides what the store or "
            "the actors do, so a printed schedule would not reproduce the run."
        )

    def next_actor(self, enabled: Sequence[int], pending: Sequence[Any], step: int) -> int:
        offered = (tuple(enabled), tuple(pending))
        if not self._repeat:
            if len(enabled) == 1 and not self.inner.sees_every_step:
                choice = enabled[0]
            else:
                choice = self.inner.next_actor(enabled, pending, step)
            self._offered.append(offered)
            self._chosen.append(choice)
            return choice
        if step >= len(self._chosen):
            raise self._fail(f"the repeat goes on to step {step + 1}, the original stopped")
        if offered != self._offered[step]:
            was_enabled, was_pending = self._offered[step]
            raise self._fail(
                f"step {step + 1}: the first run offered actors {list(was_enabled)} about to do "
                f"{list(was_pending)}, the repeat {list(enabled)} about to do {list(pending)}"
            )
        return self._chosen[step]

    def next_int(self, bound: int, ordinary: int = 1) -> int:
        if not self._repeat:
            value = self.inner.next_int(bound, ordinary)
            self._data.append(value)
            return value
        if self._data_pos >= len(self._data) or self._data[self._data_pos] >= bound:
            raise self._fail("the repeat asks for a data choice the original did not make")
        value = self._data[self._data_pos]
        self._data_pos += 1
        return value

    def end_execution(self, execution: Execution) -> None:
        if not self._repeat:
            self._schedules += 1
            self.inner.end_execution(execution)
            self._first = execution
            self._repeat = True
            return
        first, self._first, self._repeat = self._first, None, False
        assert first is not None
        if first.schedule != execution.schedule:
            raise self._fail(
                f"the runs took {len(first.schedule)} and {len(execution.schedule)} steps"
            )
        if first.data != execution.data:
            raise self._fail("the runs drew different data choices")
        if repr(first.results) != repr(execution.results):
            raise self._fail("same steps, but the actors returned different results")
