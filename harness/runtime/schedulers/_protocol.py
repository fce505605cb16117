"""The ``Scheduler`` protocol: the one owner of every nondeterministic choice.

Everything the runtime and the explorer ask of a strategy is declared here; nothing outside a
strategy's module asks which strategy it is or reads its private state.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import Protocol
from typing import runtime_checkable

import attrs

if TYPE_CHECKING:
    from .._stepper import Execution


@attrs.frozen
class Shard:
    """Part ``index`` of ``count`` disjoint parts of one exploration (``--shard K/N``, 0-based
    here, 1-based on the command line).

    Random and PCT schedule ``i`` belongs to part ``i % count`` (each schedule draws from its
    own seed, so a part can skip the others' schedules); an exhaustive search gives the
    subtrees under its first branching decision to the parts in turn.  The parts together
    explore exactly what one unsharded exploration does.
    """

    index: int
    count: int

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(
                f"shard {self.index + 1}/{self.count} does not exist: K in K/N must be 1 to N."
            )

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"K/N"`` (1-based, as ``--shard`` takes it)."""
        k, sep, n = text.partition("/")
        if not (sep and k.isascii() and k.isdigit() and n.isascii() and n.isdigit()):
            raise ValueError(f"--shard {text!r} is not K/N (for example 1/4).")
        return cls(int(k) - 1, int(n))


class PruneExecution(Exception):
    """Raised by a scheduler to abandon the current execution as redundant."""


class UnsupportedChoice(NotImplementedError):
    """The scheduler cannot make this kind of choice.

    The runtime lets it propagate instead of recording it as the actor's error."""


class ScheduleDiverged(ValueError):
    """A replayed schedule asked for a choice the run does not offer (out-of-date or edited)."""


@runtime_checkable
class Scheduler(Protocol):
    """Decides, at every scheduling point, which actor moves next.

    Callers: the controlled runtime (``next_actor``, ``next_int``, ``uniform``,
    ``sees_every_step``) and the explorer (``new_execution`` before each schedule,
    ``end_execution`` after it, and the declared facts ``complete``, ``pruned``, ``repeating``,
    ``seed``, ``unreduced``).  A scheduler owns one seeded ``random.Random`` (or draws from
    Hypothesis, or follows a recorded schedule), so the same seed always yields the same
    schedules.  :class:`SchedulerBase` gives the defaults a simple strategy needs.

    ``new_execution() -> bool``
        Prepare the next schedule.  ``False`` means the strategy has nothing left to try (an
        exhaustive search that finished); random strategies always return ``True``.
    ``next_actor(enabled, pending, step) -> int``
        Return one element of ``enabled`` (actor indices, ascending, at least two; exactly one
        too when ``sees_every_step``).  ``pending[i]`` is the store operation actor ``i`` will
        perform if chosen (a ``stores.Point``); ``step`` counts steps of this execution from
        0.  May raise :class:`PruneExecution` to abandon a redundant execution.
    ``next_int(bound, ordinary=1) -> int``
        A data or fault choice in ``range(bound)``, from the same source of randomness.  The
        values below ``ordinary`` mean the same (an operation without a fault): sampling
        strategies draw uniformly from ``range(bound)`` (so ``ordinary`` sets how rare the
        others are), an exhaustive search tries one of them and each value from ``ordinary``
        up, within its fault budget.
    ``end_execution(execution) -> None``
        The schedule just run (not called for pruned ones).  PCT measures schedule lengths
        here; the determinism check compares a repeat with its original here.
    ``sees_every_step: bool``
        The runtime must call ``next_actor`` even when only one actor can move (a search that
        prunes a branch whose only runnable actor sleeps needs that).
    ``uniform: Callable[[], float] | None``
        When set, the strategy's choice is exactly ``enabled[int(uniform() * len(enabled))]``
        and the runtime may make it inline without a call (the random walk's fast path).
    ``complete: bool``
        Once ``new_execution`` returns ``False``, every schedule of the run has been covered:
        true for an unbounded exhaustive search, false for sampling strategies.
    ``pruned: int``
        Executions abandoned as redundant so far.
    ``repeating: bool``
        The next execution (or the one in progress) repeats the one before it (a determinism
        check): true from the end of an original until the end of its repeat.  The explorer
        neither counts nor checks a repeat, and runs the repeat owed for a failing schedule
        before it reports it.
    ``bound: str``
        What limits a finished search beyond the scenario itself, in words ("at most 1
        fault(s) per schedule"), or "" when nothing does: a complete search proves the
        scenario within this bound.
    ``seed: int | None``
        The seed that reproduces this scheduler's schedules, or None where there is none.
    ``unreduced() -> Scheduler | None``
        The same search without reduction, to count what reduction saved; None when the
        strategy does no reduction.
    ``observe_effect: Callable[[int, bool], None] | None``
        When set, the runtime reports ``(step, changed)`` for a write-labelled step whose
        effect a probe measured (``runtime._effects``): ``changed`` False means the step left
        its document as it was.  Steps not reported are the writes their labels say.
    """

    name: str
    sees_every_step: bool
    uniform: Callable[[], float] | None
    observe_effect: Callable[[int, bool], None] | None
    seed: int | None

    @property
    def complete(self) -> bool: ...

    @property
    def bound(self) -> str: ...

    @property
    def pruned(self) -> int: ...

    @property
    def repeating(self) -> bool: ...

    def new_execution(self) -> bool: ...

    def next_actor(self, enabled: Sequence[int], pending: Sequence[Any], step: int) -> int: ...

    def next_int(self, bound: int, ordinary: int = 1) -> int: ...

    def end_execution(self, execution: Execution) -> None: ...

    def unreduced(self) -> Scheduler | None: ...


class SchedulerBase:
    """The defaults of a sampling strategy: no forced steps, no fast path, never complete,
    nothing pruned, no repeats, no reduction.  Strategies override what they declare."""

    name = "base"
    sees_every_step = False
    uniform: Callable[[], float] | None = None
    observe_effect: Callable[[int, bool], None] | None = None
    seed: int | None = None

    @property
    def complete(self) -> bool:
        return False

    @property
    def bound(self) -> str:
        return ""

    @property
    def pruned(self) -> int:
        return 0

    @property
    def repeating(self) -> bool:
        return False

    def new_execution(self) -> bool:
        return True

    def end_execution(self, execution: Execution) -> None:
        return None

    def unreduced(self) -> Scheduler | None:
        return None


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
