"""The ``Model`` protocol: a sequential specification the linearizability checker replays."""

from __future__ import annotations

from collections.abc import Hashable
from collections.abc import Sequence
from typing import Any
from typing import Protocol
from typing import TypeVar

__all__ = ["HasInput", "Model", "OpT"]

StateT = TypeVar("StateT", bound=Hashable)
InputT_contra = TypeVar("InputT_contra", contravariant=True)
OutputT_contra = TypeVar("OutputT_contra", contravariant=True)
OpT = TypeVar("OpT", bound="HasInput")


class HasInput(Protocol):
    """What ``Model.partition`` may look at in a history entry: its input.

    ``models`` must not import ``harness``, so it cannot name ``harness.Operation``; any object
    with an ``input`` attribute (``harness.Operation`` has one) can be partitioned.
    """

    @property
    def input(self) -> Any: ...


class Model(Protocol[StateT, InputT_contra, OutputT_contra]):
    """A sequential specification, Porcupine style: a pure ``init`` / ``step`` pair plus hooks.

    Who calls it: ``harness.check_operations`` (the linearizability checker).  It splits a
    history with :meth:`partition`, then searches for an order of each part's operations, one
    consistent with real time, in which every operation is legal when :meth:`step` replays it
    from :meth:`init`.  :meth:`describe_operation` and :meth:`describe_state` are only called
    to explain a violation to a person.

    ``init() -> State``
        The state before any operation.
    ``step(state, input, output) -> (legal, next_state)``
        Whether an operation with this ``input`` may have returned ``output`` when applied to
        ``state``, and the state after it.  ``next_state`` is ignored when ``legal`` is false.
        ``output`` is ``None`` when the operation's outcome is unknown (a timeout, a crash):
        the model must then say whether *some* output would be legal and give the state after
        the operation took effect -- the checker itself covers the case where it never took
        effect.  Real outputs are therefore never ``None``: give them a value class
        (``EtcdValue(value=None)`` for "the register is nil").
    ``partition(operations) -> list[list[op]]``
        P-compositionality: split a history into sub-histories that can be checked
        independently (for example one per key, because keys never interact).  Every operation
        must land in exactly one part, and the order of operations within a part must be kept.
        The default (inherit from ``Model`` explicitly to get it) is one part holding
        everything.  A partition that is wrong (two interacting keys split apart) makes the
        checker accept histories it should reject, so only split what the specification says
        is independent.
    ``describe_operation(input, output) -> str``
        A short human rendering such as ``"cas(1, 3) -> ok"``; ``output`` may be ``None``
        (unknown outcome).
    ``describe_state(state) -> str``
        A short human rendering of a state, such as ``"4"`` or ``"nil"``.

    Two optional hooks, looked up by name (a model without them is checked all the same):

    ``pinned_state(input, output) -> () | (state,)``
        ``(state,)`` when the operation is legal in ``state`` and in no other, and changes
        nothing there: a read that saw the whole state (``KvModel``'s get, a register read).
        The checker then decides its legality by comparing interned states, without calling
        :meth:`step`, and may place it as soon as it is legal (a legal read that changes
        nothing can always go first).  ``()`` for every other operation.  A wrong answer
        makes the verdict wrong, so say ``()`` when unsure.
    ``reachability(inputs) -> (state, target) -> bool``
        Given every input of a partition, a function telling whether applying some of them
        (each at most once, in some order) to ``state`` could give ``target``.  The checker
        asks it about a pinned read that is not legal yet: ``False`` means the read can never
        be placed, which ends that branch of the search.  Answer ``True`` when unsure: only a
        wrong ``False`` is harmful.

    Invariants the checker relies on (break one and the verdict is meaningless):

    * **Pure.** ``step`` and ``init`` depend only on their arguments: no I/O, no clock, no
      randomness, no mutation of ``state``, ``input`` or ``output``, no hidden counters.  The
      checker memoizes ``step(state, input, output)`` per operation and state, and may call it
      any number of times in any order, or not at all.
    * **Hashable states with value equality.** States are used as dictionary keys (Lowe's
      memoization of ``(linearized set, state)``); two states that behave the same should
      compare equal, or the search repeats work.  Prefer ints, strings, tuples or frozen
      attrs values; never a dict or a list.
    * **Deterministic.** One ``(state, input, output)`` gives one next state.  A
      nondeterministic specification must be determinised by the model (for example by making
      the state the set of possible states).
    * **Cheap.** ``step`` is called once per distinct ``(operation, state)`` pair; keep it
      free of logging and validation that belongs in the history parser.
    """

    def init(self) -> StateT:
        """The initial state."""
        ...

    def step(
        self, state: StateT, input: InputT_contra, output: OutputT_contra | None
    ) -> tuple[bool, StateT]:
        """Whether ``input`` may return ``output`` from ``state`` (``None``: unknown), and the next state."""
        ...

    def partition(self, operations: Sequence[OpT]) -> list[list[OpT]]:
        """Independent sub-histories; the default is one holding every operation."""
        return [list(operations)] if operations else []

    def describe_operation(self, input: InputT_contra, output: OutputT_contra | None) -> str:
        """A short human rendering of one operation; the default is ``repr``-based."""
        if output is None:
            return f"{input!r} -> ?"
        return f"{input!r} -> {output!r}"

    def describe_state(self, state: StateT) -> str:
        """A short human rendering of a state; the default is ``repr``."""
        return repr(state)
