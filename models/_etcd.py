"""Porcupine's Jepsen etcd model: one register, read / write / compare-and-set.

Inputs and outputs are frozen attrs values; an unknown outcome is an output of ``None``
(see :class:`models.Model`).  The state is the register's int, or ``None`` (Jepsen's ``nil``).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence

import attrs

from ._protocol import Model


@attrs.frozen(kw_only=True)
class EtcdRead:
    """Read the register; returns :class:`EtcdValue`."""


@attrs.frozen(kw_only=True)
class EtcdWrite:
    """Set the register to ``value``; returns :class:`EtcdWritten`."""

    value: int


@attrs.frozen(kw_only=True)
class EtcdCas:
    """If the register holds ``expected``, set it to ``new``; returns :class:`EtcdCasResult`."""

    expected: int
    new: int


@attrs.frozen(kw_only=True)
class EtcdValue:
    """A read's result; ``None`` means the register was never written (Jepsen's ``nil``)."""

    value: int | None


@attrs.frozen(kw_only=True)
class EtcdWritten:
    """A write returned."""


@attrs.frozen(kw_only=True)
class EtcdCasResult:
    """Whether the compare-and-set compared equal (and so wrote)."""

    ok: bool


EtcdInput = EtcdRead | EtcdWrite | EtcdCas
EtcdOutput = EtcdValue | EtcdWritten | EtcdCasResult


class EtcdRegisterModel(Model[int | None, EtcdInput, EtcdOutput]):
    """The single etcd register of Porcupine's Jepsen histories; the state is its value or ``None`` (nil).

    It starts at ``initial`` (nil unless given).
    read must return the current value, write sets it, cas(a, b) succeeds exactly when the value
    is a and then sets b.  An unknown outcome is always legal; an unknown cas still takes effect
    only if it compared equal.
    """

    def __init__(self, initial: int | None = None) -> None:
        self.initial = initial

    def init(self) -> int | None:
        return self.initial

    def step(
        self, state: int | None, input: EtcdInput, output: EtcdOutput | None
    ) -> tuple[bool, int | None]:
        if isinstance(input, EtcdRead):
            return output is None or (
                isinstance(output, EtcdValue) and output.value == state
            ), state
        if isinstance(input, EtcdWrite):
            return output is None or isinstance(output, EtcdWritten), input.value
        matches = state == input.expected
        next_state = input.new if matches else state
        if output is None:
            return True, next_state
        return isinstance(output, EtcdCasResult) and output.ok == matches, next_state

    def pinned_state(
        self, input: EtcdInput, output: EtcdOutput | None
    ) -> tuple[()] | tuple[int | None]:
        """A read is legal in the state it saw alone (the hook ``Model`` describes)."""
        if isinstance(input, EtcdRead) and isinstance(output, EtcdValue):
            return (output.value,)
        return ()

    def reachability(self, inputs: Sequence[EtcdInput]) -> Callable[[int | None, int | None], bool]:
        """Whether a state may lead to another, given a partition's inputs (see ``Model``)."""
        written = {i.value for i in inputs if isinstance(i, EtcdWrite)}
        written |= {i.new for i in inputs if isinstance(i, EtcdCas)}
        return lambda state, target: state == target or target in written

    def describe_operation(self, input: EtcdInput, output: EtcdOutput | None) -> str:
        if isinstance(input, EtcdRead):
            call = "read()"
            if isinstance(output, EtcdValue):
                return f"{call} -> {'nil' if output.value is None else output.value}"
        elif isinstance(input, EtcdWrite):
            call = f"write({input.value})"
            if isinstance(output, EtcdWritten):
                return call
        else:
            call = f"cas({input.expected}->{input.new})"
            if isinstance(output, EtcdCasResult):
                return f"{call} -> {'ok' if output.ok else 'fail'}"
        return f"{call} -> ?" if output is None else f"{call} -> {output!r}"

    def describe_state(self, state: int | None) -> str:
        return "nil" if state is None else str(state)
