"""Random walk: at every step, a uniformly random enabled actor."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from ._protocol import SchedulerBase

__all__ = ["RandomScheduler"]


class RandomScheduler(SchedulerBase):
    """Uniform choice among enabled actors, from one ``random.Random(seed)``.

    Finds races whose window is wide (like two claimers both reading before either writes)
    quickly; for deep bugs that need several specific preemptions, prefer PCT.
    """

    name = "random"

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._rng = random.Random(seed)
        self._random = self._rng.random
        # The runtime may pick inline with the same draw (the hot path of exploration).
        self.uniform = self._random

    def next_actor(self, enabled: Sequence[int], pending: Sequence[Any], step: int) -> int:
        return enabled[int(self._random() * len(enabled))]

    def next_int(self, bound: int, ordinary: int = 1) -> int:
        return int(self._random() * bound)
