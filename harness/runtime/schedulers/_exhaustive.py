"""Exhaustive: depth-first enumeration of every interleaving and every data or fault choice,
with sleep sets, source-set DPOR and a fault budget."""

from __future__ import annotations

from collections.abc import Hashable
from collections.abc import Sequence
from typing import Any

import attrs

from ._dpor import reversals
from ._protocol import PruneExecution
from ._protocol import ScheduleDiverged
from ._protocol import Scheduler
from ._protocol import SchedulerBase
from ._protocol import Shard
from ._protocol import independent
from ._symmetry import interchangeable

__all__ = ["ExhaustiveScheduler"]


@attrs.define(eq=False)
class _Node:
    """One branching step of the current execution: which actor runs."""

    enabled: tuple[int, ...]
    pending: tuple[Any, ...]
    #: Sleeping actors, each with its pending operation as it behaved when explored.
    sleep: dict[int, Any]
    chosen: int
    previous: int | None
    preemptions: int
    #: Exceptional data choices (faults) made up to and including this decision.
    faults: int
    explored: list[int] = attrs.field(factory=list)
    #: At a shard's split: the other shards' alternatives (never taken here), and the full
    #: order of alternatives (what an unsharded search explores before each one).
    skip: frozenset[int] = frozenset()
    order: tuple[int, ...] = ()
    #: Measured effects of the alternatives run here: False when the step changed nothing.
    effects: dict[int, bool] = attrs.field(factory=dict)
    #: DPOR: the actors this node must explore (explored ones included); None explores every
    #: candidate (no DPOR, or a node where DPOR keeps the full set, see ``_backtrack_set``).
    backtrack: set[int] | None = None

    def label(self, t: int) -> Any:
        """``t``'s pending operation as it behaved here: a write-labelled step measured to
        have changed nothing counts as a read of its document.  Not at a shard's split, where
        the other shards' alternatives are never run here (the parts must prune alike)."""
        point = self.pending[t]
        if point[3] and not self.order and self.effects.get(t) is False:
            return (point[0], point[1], point[2], False)
        return point

    def explored_before(self) -> set[int]:
        """The alternatives an unsharded search has explored before ``chosen``."""
        if not self.order:
            return set(self.explored)
        return set(self.order[: self.order.index(self.chosen)])


@attrs.define(eq=False)
class _Choice:
    """One data or fault choice of the current execution: which value ``choose`` returns."""

    alternatives: tuple[int, ...]
    chosen: int
    ordinary: int
    faults: int
    explored: list[int] = attrs.field(factory=list)


class ExhaustiveScheduler(SchedulerBase):
    """Stateless depth-first search over all schedules, one execution per leaf.

    Reduction (Godefroid's sleep sets): operations on different documents, or two reads,
    commute, so after exploring actor ``t`` first at some step, the sibling branch that runs
    ``u`` first need not run ``t`` next while ``t``'s operation is independent of everything
    run since -- ``t`` sleeps.  A branch in which every enabled actor sleeps is pruned: each of
    its schedules is equivalent (same results, same final state) to one already explored.
    Sleep sets never lose a reachable state or result, so "exhaustive" stays exhaustive.

    Data and fault choices (``choose(bound, ordinary=k)``) are decisions too, explored in the
    order they are asked for: the values below ``ordinary`` are equivalent (an operation
    without a fault), so only ``0`` of them is tried; each value from ``ordinary`` up is tried
    while the schedule has made fewer than ``fault_budget`` such exceptional choices.  A finished
    search therefore covers every interleaving with at most ``fault_budget`` faults, and says
    so in :attr:`bound`.  Data choices are local to the step that makes them, so they do not
    change which operations commute: sleep sets stay sound.

    ``preemption_bound`` (optional) skips schedules that switch away from an actor that could
    have continued more than that many times (CHESS-style bounding); with a bound the search
    is no longer complete, and ``complete`` says so.

    Source-set DPOR (``dpor``, default on; see ``_dpor``) on top of the sleep sets: a node
    explores only its backtrack set, one actor at first, to which each race found in a run
    adds an initial of its reversal.  It falls back to every candidate (the sleep-set search
    alone) where its argument does not reach: under a ``preemption_bound`` (off altogether); at
    the first branching node (sharded or not, so that the parts add up); at a node where
    symmetry skipped a twin and at every node above it (races in a skipped twin's subtree are
    never seen, so only subtrees without such cuts are reduced); and, for one race, at a node
    where an initial of its reversal was not enabled (a task an event loop woke later).  Data
    and fault choices are explored exhaustively as before: a step's choice is local to it, and
    each alternative's run reports its own races.

    ``reduction=False`` enumerates naively; the explorer uses it to report how many schedules
    the reduction saved (``explored`` vs the naive count).

    ``shard`` (see :class:`Shard`): every schedule passes through the first decision that has
    two or more alternatives (all decisions before it are forced); its alternatives, in order,
    go to the parts in turn, so the parts explore disjoint subtrees whose counts add up to the
    unsharded count.
    """

    name = "exhaustive"
    sees_every_step = True

    def __init__(
        self,
        *,
        preemption_bound: int | None = None,
        reduction: bool = True,
        fault_budget: int = 1,
        shard: Shard | None = None,
        symmetry: Sequence[Hashable] | None = None,
        dpor: bool = True,
    ) -> None:
        if fault_budget < 0:
            raise ValueError(f"fault_budget must be >= 0, got {fault_budget!r}.")
        self.preemption_bound = preemption_bound
        self.reduction = reduction
        self.fault_budget = fault_budget
        self.shard = shard or Shard(0, 1)
        self.symmetry = tuple(symmetry) if symmetry is not None else None
        #: Source-set DPOR on top of the sleep sets; off under a preemption bound (see class).
        self.dpor = dpor and reduction and preemption_bound is None
        self._split_seen = False
        self._stack: list[_Node | _Choice] = []
        self._depth = 0
        self._started = False
        self.executions = 0
        self._pruned = 0
        self._asked_data = False
        #: The step nodes of the execution in progress, by step.
        self._steps: list[_Node] = []
        self.observe_effect = self._observe if reduction else None

    @property
    def complete(self) -> bool:
        return self.preemption_bound is None

    @property
    def pruned(self) -> int:
        return self._pruned

    @property
    def bound(self) -> str:
        """What a finished search covered, in words (for "proven" statements)."""
        parts = []
        if self._asked_data:
            parts.append(f"at most {self.fault_budget} fault(s) per schedule")
        if self.preemption_bound is not None:
            parts.append(f"at most {self.preemption_bound} preemption(s)")
        return ", ".join(parts)

    def unreduced(self) -> Scheduler | None:
        if not self.reduction:
            return None
        return ExhaustiveScheduler(
            preemption_bound=self.preemption_bound,
            reduction=False,
            fault_budget=self.fault_budget,
            shard=self.shard,
            symmetry=self.symmetry,
            dpor=False,
        )

    def new_execution(self) -> bool:
        if self._started and self.dpor:
            self._add_reversals()
        if self._started and not self._backtrack():
            return False
        self._started = True
        self._depth = 0
        self._steps = []
        self.executions += 1
        return True

    def _observe(self, step: int, changed: bool) -> None:
        """What step ``step`` did (see ``runtime._effects``); kept only when no data choice
        was made since its decision (then the step is one event, whatever the choices)."""
        if step < len(self._steps) and self._stack and self._stack[-1] is self._steps[step]:
            node = self._steps[step]
            node.effects[node.chosen] = changed

    def _candidates(self, node: _Node) -> list[int]:
        out = []
        for t in node.enabled:
            if t in node.sleep or t in node.explored or t in node.skip:
                continue
            if node.backtrack is not None and t not in node.backtrack:
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
            if isinstance(node, _Choice):
                rest = [v for v in node.alternatives if v not in node.explored]
            else:
                rest = self._candidates(node)
            if rest:
                node.chosen = rest[0]
                if isinstance(node, _Choice):
                    previous = self._stack[-2].faults if len(self._stack) > 1 else 0
                    node.faults = previous + (node.chosen >= node.ordinary)
                return True
            self._stack.pop()
        return False

    def _replayed(self, kind: type[_Node] | type[_Choice]) -> _Node | _Choice | None:
        """The decision at this depth of the branch being replayed, if any."""
        depth = self._depth
        self._depth += 1
        if depth >= len(self._stack):
            return None
        node = self._stack[depth]
        if not isinstance(node, kind):
            raise ScheduleDiverged(
                f"decision {depth + 1} was a {'data choice' if kind is _Choice else 'step'} "
                "in an earlier run of the same prefix: the code under test is not deterministic."
            )
        return node

    def _last_step(self) -> _Node | None:
        for node in reversed(self._stack):
            if isinstance(node, _Node):
                return node
        return None

    def next_actor(self, enabled: Sequence[int], pending: Sequence[Any], step: int) -> int:
        replayed = self._replayed(_Node)
        if replayed is not None:
            if step == len(self._steps) and isinstance(replayed, _Node):
                self._steps.append(replayed)
            return replayed.chosen  # replaying the prefix of the branch
        parent = self._last_step()
        if parent is not None:
            ran = parent.label(parent.chosen)
            inherited: dict[int, Any] = {}
            if self.reduction:
                inherited = dict(parent.sleep)
                inherited.update((u, parent.label(u)) for u in parent.explored_before())
            sleep = {
                u: point
                for u, point in inherited.items()
                if u in enabled and independent(point, ran)
            }
            previous: int | None = parent.chosen
            preemptions = parent.preemptions + self._is_preemption(
                parent.previous, parent.chosen, parent.enabled
            )
        else:
            sleep, previous, preemptions = {}, None, 0
        node = _Node(
            enabled=tuple(enabled),
            pending=tuple(pending),
            sleep=sleep,
            chosen=-1,
            previous=previous,
            preemptions=preemptions,
            faults=self._stack[-1].faults if self._stack else 0,
        )
        if self.symmetry is not None and not self._asked_data:
            node.skip = self._twins(node)
            if node.skip:
                self._widen()
        candidates = self._candidates(node)
        if not candidates:
            self._pruned += 1
            raise PruneExecution
        if len(candidates) > 1 and not self._split_seen:
            candidates = self._split(node, candidates)
        elif self.dpor and not node.skip:
            node.backtrack = {candidates[0]}
        node.chosen = candidates[0]
        self._stack.append(node)
        if step == len(self._steps):
            self._steps.append(node)
        return node.chosen

    def _widen(self) -> None:
        """Symmetry skipped a twin here: every decision above explores all its candidates
        from now on (no DPOR there; see the class)."""
        for node in self._stack:
            if isinstance(node, _Node):
                node.backtrack = None

    def _add_reversals(self) -> None:
        """Source-DPOR (see ``_dpor``): for each race of the execution just run, add an
        initial of its reversal to the backtrack set of the decision before its first step,
        unless one is there."""
        steps = self._steps
        events = [(n.chosen, n.label(n.chosen)) for n in steps]
        raw = [n.pending[n.chosen] for n in steps]
        for i, initials in reversals(events, raw, 0, lambda i: steps[i].backtrack is not None):
            node = steps[i]
            backtrack = node.backtrack
            if backtrack is None or backtrack.intersection(initials):
                continue
            if any(t not in node.enabled for t in initials):
                # Not enabled here (a task an event loop woke or spawned later): every actor.
                backtrack.update(node.enabled)
                continue
            awake = [t for t in initials if t not in node.sleep]
            if awake:
                backtrack.add(awake[0])

    def _twins(self, node: _Node) -> frozenset[int]:
        """Actors interchangeable with a lower-numbered one here (symmetry reduction, see
        :func:`interchangeable`): only the lowest of each such group is tried."""
        assert self.symmetry is not None
        events = [(n.chosen, n.label(n.chosen)) for n in self._steps]
        groups: dict[tuple[Hashable, Any], list[int]] = {}
        twins = set()
        for t in node.enabled:
            if t >= len(self.symmetry):
                continue  # a task an actor spawned (aiohttp writes each request in one)
            if self.preemption_bound is not None and t == node.previous:
                # Going on with the actor that ran last costs no preemption, switching to its
                # twin costs one: under a bound the two subtrees are no mirror images.
                continue
            kin = groups.setdefault((self.symmetry[t], node.pending[t]), [])
            if any(interchangeable(events, r, t) for r in kin):
                twins.add(t)
            else:
                kin.append(t)
        return frozenset(twins)

    def _split(self, node: _Node, candidates: list[int]) -> list[int]:
        """At the first branching decision, keep this shard's alternatives only: the others
        are marked explored, so neither this execution nor backtracking visits them."""
        self._split_seen = True
        mine = [c for i, c in enumerate(candidates) if i % self.shard.count == self.shard.index]
        node.skip |= frozenset(candidates) - set(mine)
        node.order = tuple(candidates)
        if not mine:
            raise PruneExecution  # more shards than alternatives: this one has no subtree
        return mine

    def next_int(self, bound: int, ordinary: int = 1) -> int:
        self._asked_data = True
        replayed = self._replayed(_Choice)
        if replayed is not None:
            return replayed.chosen
        faults = self._stack[-1].faults if self._stack else 0
        exceptional = range(ordinary, bound) if faults < self.fault_budget else range(0)
        alternatives = (0, *exceptional)
        if len(alternatives) > 1 and not self._split_seen:
            self._split_seen = True
            alternatives = tuple(
                a for i, a in enumerate(alternatives) if i % self.shard.count == self.shard.index
            )
            if not alternatives:
                raise PruneExecution
        first = alternatives[0]
        choice = _Choice(
            alternatives=alternatives,
            chosen=first,
            ordinary=ordinary,
            faults=faults + (first >= ordinary),
        )
        self._stack.append(choice)
        return choice.chosen
