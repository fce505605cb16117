"""Exhaustive: depth-first enumeration of every interleaving, with sleep-set reduction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from ._protocol import PruneExecution
from ._protocol import Scheduler
from ._protocol import SchedulerBase
from ._protocol import UnsupportedChoice
from ._protocol import independent

__all__ = ["ExhaustiveScheduler"]


@attrs.define(eq=False)
class _Node:
    """One branching step of the current execution."""

    enabled: tuple[int, ...]
    pending: tuple[Any, ...]
    sleep: frozenset[int]
    chosen: int
    previous: int | None
    preemptions: int
    explored: list[int] = attrs.field(factory=list)


class ExhaustiveScheduler(SchedulerBase):
    """Stateless depth-first search over all schedules, one execution per leaf.

    Reduction (Godefroid's sleep sets): operations on different documents, or two reads,
    commute, so after exploring actor ``t`` first at some step, the sibling branch that runs
    ``u`` first need not run ``t`` next while ``t``'s operation is independent of everything
    run since -- ``t`` sleeps.  A branch in which every enabled actor sleeps is pruned: each of
    its schedules is equivalent (same results, same final state) to one already explored.
    Sleep sets never lose a reachable state or result, so "exhaustive" stays exhaustive.

    ``preemption_bound`` (optional) skips schedules that switch away from an actor that could
    have continued more than that many times (CHESS-style bounding); with a bound the search
    is no longer complete, and ``complete`` says so.

    ``reduction=False`` enumerates naively; the explorer uses it to report how many schedules
    the reduction saved (``explored`` vs the naive count).
    """

    name = "exhaustive"
    sees_every_step = True

    def __init__(self, *, preemption_bound: int | None = None, reduction: bool = True) -> None:
        self.preemption_bound = preemption_bound
        self.reduction = reduction
        self._stack: list[_Node] = []
        self._depth = 0
        self._started = False
        self.executions = 0
        self._pruned = 0

    @property
    def complete(self) -> bool:
        return self.preemption_bound is None

    @property
    def pruned(self) -> int:
        return self._pruned

    def unreduced(self) -> Scheduler | None:
        if not self.reduction:
            return None
        return ExhaustiveScheduler(preemption_bound=self.preemption_bound, reduction=False)

    def new_execution(self) -> bool:
        if self._started and not self._backtrack():
            return False
        self._started = True
        self._depth = 0
        self.executions += 1
        return True

    def _candidates(self, node: _Node) -> list[int]:
        out = []
        for t in node.enabled:
            if t in node.sleep or t in node.explored:
                continue
            if self.preemption_bound is not None:
                pre = node.preemptions + self._is_preemption(node.previous, t, node.enabled)
                if pre > self.preemption_bound:
                    continue
            out.append(t)
        return out

    @staticmethod
    def _is_preemption(previous: int | None, t: int, enabled: Sequence[int]) -> int:
        return int(previous is not None and previous != t and previous in enabled)

    def _backtrack(self) -> bool:
        while self._stack:
            node = self._stack[-1]
            node.explored.append(node.chosen)
            rest = self._candidates(node)
            if rest:
                node.chosen = rest[0]
                return True
            self._stack.pop()
        return False

    def next_actor(self, enabled: Sequence[int], pending: Sequence[Any], step: int) -> int:
        depth = self._depth
        self._depth += 1
        if depth < len(self._stack):
            return self._stack[depth].chosen  # replaying the prefix of the branch
        if self._stack:
            parent = self._stack[-1]
            ran = parent.pending[parent.chosen]
            inherited = parent.sleep | set(parent.explored) if self.reduction else frozenset()
            sleep = frozenset(
                u for u in inherited if u in enabled and independent(parent.pending[u], ran)
            )
            previous: int | None = parent.chosen
            preemptions = parent.preemptions + self._is_preemption(
                parent.previous, parent.chosen, parent.enabled
            )
        else:
            sleep, previous, preemptions = frozenset(), None, 0
        node = _Node(
            enabled=tuple(enabled),
            pending=tuple(pending),
            sleep=sleep,
            chosen=-1,
            previous=previous,
            preemptions=preemptions,
        )
        candidates = self._candidates(node)
        if not candidates:
            self._pruned += 1
            raise PruneExecution
        node.chosen = candidates[0]
        self._stack.append(node)
        return node.chosen

    def next_int(self, bound: int) -> int:
        raise UnsupportedChoice(
            "exhaustive search enumerates schedules only; data and fault choices need the "
            "random, pct or hypothesis strategy."
        )
