"""Random walk: at every step, a uniformly random enabled actor."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from ._protocol import SchedulerBase
from ._protocol import Shard

__all__ = ["RandomScheduler"]


class RandomScheduler(SchedulerBase):
    """Uniform choice among enabled actors, from one ``random.Random`` per schedule.

    Schedule ``i`` draws from a source seeded by ``(seed, i)``, so that a shard can run its
    own schedules and skip the others' (see :class:`Shard`).  Finds races whose window is
    wide (like two claimers both reading before either writes) quickly; for deep bugs that
    need several specific preemptions, prefer PCT.
    """

    name = "random"

    def __init__(self, seed: int, *, shard: Shard | None = None) -> None:
        self.seed = seed
        self.shard = shard or Shard(0, 1)
        self._next = self.shard.index
        self._rng = random.Random(seed)
        self._random = self._rng.random
        # The runtime may pick inline with the same draw (the hot path of exploration).
        self.uniform = self._random

    def new_execution(self) -> bool:
        # Reseeding in place keeps ``uniform`` (a bound method of the same source) valid.
        self._rng.seed(hash((self.seed, self._next)))
        self._next += self.shard.count
        return True

    def next_actor(self, enabled: Sequence[int], pending: Sequence[Any], step: int) -> int:
        return enabled[int(self._random() * len(enabled))]

    def next_int(self, bound: int, ordinary: int = 1) -> int:
        return int(self._random() * bound)
