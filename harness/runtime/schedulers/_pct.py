"""PCT: probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi, Nagarakatte,
ASPLOS 2010)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

from ._protocol import SchedulerBase
from ._protocol import Shard

if TYPE_CHECKING:
    from .._stepper import Execution

__all__ = ["PctScheduler"]


class PctScheduler(SchedulerBase):
    """Priority-based scheduling with ``depth - 1`` random priority change points.

    Each execution gives the ``n`` actors distinct random priorities ``depth .. depth + n - 1``
    and picks ``depth - 1`` change points uniformly among the first ``k`` steps; the scheduler
    always runs the enabled actor of highest priority, and at the ``j``-th change point lowers
    the running actor's priority to ``depth - j`` (below every initial priority).

    Guarantee (the paper's Theorem 9): a bug of depth ``d`` -- one that needs ``d`` ordering
    constraints to show -- is found in each execution with probability at least
    ``1 / (n * k**(d - 1))``.  The claim race is depth 2 (the second claimer must read before
    the first writes), so with 2 actors and k = 8 steps each execution finds it with probability
    at least 1/16, and 50 executions miss it with probability at most (15/16)**50 < 4%; in
    practice priority inversion at the right step is far likelier than the bound.

    ``k`` is not known before the first run: it starts at ``initial_steps`` and then tracks the
    longest execution seen (measured in ``end_execution``), as Shuttle's PCT does.
    """

    name = "pct"

    def __init__(
        self, seed: int, *, depth: int = 3, initial_steps: int = 8, shard: Shard | None = None
    ) -> None:
        if depth < 1:
            raise ValueError(f"PCT depth must be >= 1, got {depth!r}.")
        self.seed = seed
        self.shard = shard or Shard(0, 1)
        self._next = self.shard.index
        self.depth = depth
        self.max_steps = initial_steps
        self._rng = random.Random(seed)
        self._priorities: dict[int, int] = {}
        self._change_points: dict[int, int] = {}
        self._next_low = 0

    def new_execution(self) -> bool:
        # One source per schedule, seeded by (seed, i): a shard runs its own schedules only.
        self._rng.seed(hash((self.seed, self._next)))
        self._next += self.shard.count
        self._priorities = {}
        points = self._rng.sample(range(1, self.max_steps + 1), min(self.depth - 1, self.max_steps))
        # Change point j (1-based) lowers the running actor to priority depth - j.
        self._change_points = {step: self.depth - j for j, step in enumerate(sorted(points), 1)}
        return True

    def end_execution(self, execution: Execution) -> None:
        self.max_steps = max(self.max_steps, len(execution.schedule))

    def _priority(self, actor: int) -> int:
        prio = self._priorities.get(actor)
        if prio is None:
            # A fresh random rank above every change-point priority, distinct per actor.
            prio = self.depth + self._rng.randrange(1 << 30)
            self._priorities[actor] = prio
        return prio

    def next_actor(self, enabled: Sequence[int], pending: Sequence[Any], step: int) -> int:
        best = max(enabled, key=self._priority)
        low = self._change_points.get(step)
        if low is not None:
            self._priorities[best] = low
            best = max(enabled, key=self._priority)
        return best

    def next_int(self, bound: int, ordinary: int = 1) -> int:
        return self._rng.randrange(bound)
