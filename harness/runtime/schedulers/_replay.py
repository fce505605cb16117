"""Replay of a recorded schedule."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._protocol import ScheduleDiverged
from ._protocol import SchedulerBase

__all__ = ["ReplayScheduler"]

_FIX = "the schedule was recorded for other code or another scenario; record a fresh one."


class ReplayScheduler(SchedulerBase):
    """Follows a recorded run: ``steps[s]`` is the actor resumed at step ``s``; ``data`` are
    the data and fault choices, in the order they were asked for.

    A choice the run does not offer raises :class:`ScheduleDiverged` naming the step.
    """

    name = "replay"

    def __init__(self, steps: Sequence[int], data: Sequence[int] = ()) -> None:
        self.steps = tuple(steps)
        self.data = tuple(data)
        self._data_pos = 0

    def new_execution(self) -> bool:
        self._data_pos = 0
        return True

    def next_actor(self, enabled: Sequence[int], pending: Sequence[Any], step: int) -> int:
        if step >= len(self.steps):
            raise ScheduleDiverged(
                f"the schedule has {len(self.steps)} steps but the run goes on to step "
                f"{step + 1}; {_FIX}"
            )
        choice = self.steps[step]
        if choice not in enabled:
            raise ScheduleDiverged(
                f"step {step + 1} of the schedule resumes actor {choice}, but only actors "
                f"{list(enabled)} can move then; {_FIX}"
            )
        return choice

    def next_int(self, bound: int, ordinary: int = 1) -> int:
        if self._data_pos >= len(self.data):
            raise ScheduleDiverged(
                f"the schedule has {len(self.data)} data choices but the run asks for "
                f"choice {self._data_pos + 1}; {_FIX}"
            )
        choice = self.data[self._data_pos]
        self._data_pos += 1
        if not 0 <= choice < bound:
            raise ScheduleDiverged(
                f"data choice {self._data_pos} is {choice}, not in range({bound})."
            )
        return choice

    def check_complete(self, steps_taken: Sequence[int]) -> None:
        """Raise unless the run took exactly the recorded steps and used every data choice."""
        if tuple(steps_taken) == self.steps and self._data_pos != len(self.data):
            raise ScheduleDiverged(
                f"the schedule has {len(self.data)} data choices but the run used "
                f"{self._data_pos}; {_FIX}"
            )
        if tuple(steps_taken) != self.steps:
            for s, (a, b) in enumerate(zip(steps_taken, self.steps, strict=False)):
                if a != b:
                    raise ScheduleDiverged(
                        f"step {s + 1}: the run resumed actor {a}, the schedule says {b}; {_FIX}"
                    )
            raise ScheduleDiverged(
                f"the run took {len(steps_taken)} steps, the schedule has {len(self.steps)}; {_FIX}"
            )
