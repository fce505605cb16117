"""Knossos's models, by the names Jepsen users type: ``cas-register``, ``mutex``, ``multi-register``.

Each follows ``knossos.model`` (Knossos, the checker behind Jepsen's ``linearizable`` checker):

``cas-register``
    One register, initially ``initial`` (Knossos: ``(cas-register)`` starts at ``nil``,
    ``(cas-register 0)`` at 0).  ``read`` must see the current value, except that a read of
    ``nil`` matches any value (Knossos cannot tell "read nil" from "did not learn the value");
    ``write`` sets it; ``cas [old new]`` sets ``new`` and is legal only if the value is ``old``.
    A compare-and-set that did not compare equal is a ``:fail`` in Jepsen (it did not take
    effect), so a cas that returned is one that compared equal.
``mutex``
    One lock, initially free: ``acquire`` is legal only when free, ``release`` only when held.
``multi-register``
    Registers named by keys, initially ``initial`` (a key not in it holds ``nil``).  One
    operation, a transaction, reads and writes several keys atomically: a tuple of micro-ops
    ``(f, key, value)`` with ``f`` ``"read"`` or ``"write"``, applied in order; a read of
    ``nil`` matches any value.  Keys that never share a transaction are independent, so
    ``partition`` splits a history into the connected groups of keys.

Values are any hashable value (ints, strings, tuples...) compared with Python's ``==``, so
``1``, ``1.0`` and ``True`` are one value (only a history that mixes numbers and booleans in
one register can tell).  An unknown outcome (``output=None``) may have taken effect: its
reads learn nothing, its writes apply.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Hashable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import Literal

import attrs

from ._protocol import Model
from ._protocol import OpT


@attrs.frozen(kw_only=True)
class RegisterRead:
    """Read the register; answered by :class:`RegisterValue`."""


@attrs.frozen(kw_only=True)
class RegisterWrite:
    """Set the register to ``value``; answered by :class:`RegisterDone`."""

    value: Hashable


@attrs.frozen(kw_only=True)
class RegisterCas:
    """Set the register to ``new`` if it holds ``expected``; answered by :class:`RegisterDone`."""

    expected: Hashable
    new: Hashable


@attrs.frozen(kw_only=True)
class RegisterValue:
    """What a read saw; ``None`` (Jepsen's ``nil``) matches any value, as in Knossos."""

    value: Hashable


@attrs.frozen(kw_only=True)
class RegisterDone:
    """A write returned, or a compare-and-set compared equal and wrote."""


RegisterInput = RegisterRead | RegisterWrite | RegisterCas
RegisterOutput = RegisterValue | RegisterDone


class KnossosCasRegisterModel(Model[Hashable, RegisterInput, RegisterOutput]):
    """Knossos's ``cas-register``: read / write / cas on one register, starting at ``initial``.

    The state is the register's value (``None`` is ``nil``).  See the module docstring.
    """

    def __init__(self, initial: Hashable = None) -> None:
        self.initial = initial

    def init(self) -> Hashable:
        return self.initial

    def step(
        self, state: Hashable, input: RegisterInput, output: RegisterOutput | None
    ) -> tuple[bool, Hashable]:
        if isinstance(input, RegisterRead):
            if output is None or not isinstance(output, RegisterValue):
                return output is None, state
            return output.value is None or output.value == state, state
        if isinstance(input, RegisterWrite):
            return output is None or isinstance(output, RegisterDone), input.value
        legal = state == input.expected and (output is None or isinstance(output, RegisterDone))
        return legal, input.new

    def pinned_state(
        self, input: RegisterInput, output: RegisterOutput | None
    ) -> tuple[()] | tuple[Hashable]:
        """A read that saw a value is legal in that state alone (the hook ``Model`` describes)."""
        if isinstance(input, RegisterRead) and isinstance(output, RegisterValue):
            if output.value is not None:
                return (output.value,)
        return ()

    def reachability(self, inputs: Sequence[RegisterInput]) -> Callable[[Hashable, Hashable], bool]:
        """Whether a state may lead to another, given a partition's inputs (see ``Model``)."""
        written = {i.value for i in inputs if isinstance(i, RegisterWrite)}
        written |= {i.new for i in inputs if isinstance(i, RegisterCas)}
        return lambda state, target: state == target or target in written

    def describe_operation(self, input: RegisterInput, output: RegisterOutput | None) -> str:
        if isinstance(input, RegisterRead):
            call = "read()"
            if isinstance(output, RegisterValue):
                return f"{call} -> {_show(output.value)}"
        elif isinstance(input, RegisterWrite):
            call = f"write({_show(input.value)})"
            if isinstance(output, RegisterDone):
                return call
        else:
            call = f"cas({_show(input.expected)}->{_show(input.new)})"
            if isinstance(output, RegisterDone):
                return f"{call} -> ok"
        return f"{call} -> ?" if output is None else f"{call} -> {output!r}"

    def describe_state(self, state: Hashable) -> str:
        return _show(state)


@attrs.frozen(kw_only=True)
class MutexAcquire:
    """Take the lock; answered by :class:`MutexDone`."""


@attrs.frozen(kw_only=True)
class MutexRelease:
    """Give the lock back; answered by :class:`MutexDone`."""


@attrs.frozen(kw_only=True)
class MutexDone:
    """An acquire or a release returned."""


MutexInput = MutexAcquire | MutexRelease


class MutexModel(Model[bool, MutexInput, MutexDone]):
    """Knossos's ``mutex``: the state is whether the lock is held, initially ``initial`` (free)."""

    def __init__(self, initial: bool = False) -> None:
        self.initial = initial

    def init(self) -> bool:
        return self.initial

    def step(self, state: bool, input: MutexInput, output: MutexDone | None) -> tuple[bool, bool]:
        answered = output is None or isinstance(output, MutexDone)
        if isinstance(input, MutexAcquire):
            return answered and not state, True
        return answered and state, False

    def describe_operation(self, input: MutexInput, output: MutexDone | None) -> str:
        call = "acquire()" if isinstance(input, MutexAcquire) else "release()"
        if output is None:
            return f"{call} -> ?"
        return call if isinstance(output, MutexDone) else f"{call} -> {output!r}"

    def describe_state(self, state: bool) -> str:
        return "held" if state else "free"


MicroOp = tuple[Literal["read", "write"], Hashable, Hashable]


@attrs.frozen(kw_only=True)
class MultiTxn:
    """A transaction: micro-ops ``(f, key, value)`` applied atomically, in order.

    ``f`` is ``"read"`` or ``"write"``; a read's value is ``None`` when it is not known yet (an
    invoke).  Answered by :class:`MultiTxnResult`.
    """

    ops: tuple[MicroOp, ...]


@attrs.frozen(kw_only=True)
class MultiTxnResult:
    """The transaction as it completed: the same micro-ops, with what each read saw.

    A read of ``None`` (``nil``) matches any value, as in Knossos.
    """

    ops: tuple[MicroOp, ...]


#: The registers' values, as ``(key, value)`` pairs; a key not listed holds ``None``.
MultiRegisterState = frozenset[tuple[Hashable, Hashable]]


class MultiRegisterModel(Model[MultiRegisterState, MultiTxn, MultiTxnResult]):
    """Knossos's ``multi-register``: registers by key, read and written by transactions.

    ``initial`` maps keys to their first values (Knossos: ``(multi-register {:x 0 :y 0})``).
    A transaction that returned is replayed from its result (its reads carry what they saw),
    one whose outcome is unknown from its invoke (its reads learn nothing, its writes apply).
    """

    def __init__(self, initial: Mapping[Hashable, Hashable] | None = None) -> None:
        self.initial: MultiRegisterState = frozenset(
            (k, v) for k, v in (initial or {}).items() if v is not None
        )

    def init(self) -> MultiRegisterState:
        return self.initial

    def step(
        self, state: MultiRegisterState, input: MultiTxn, output: MultiTxnResult | None
    ) -> tuple[bool, MultiRegisterState]:
        values = dict(state)
        for f, key, value in input.ops if output is None else output.ops:
            if f == "write":
                values[key] = value
            elif value is not None and values.get(key) != value:
                return False, state
        return True, frozenset((k, v) for k, v in values.items() if v is not None)

    def partition(self, operations: Sequence[OpT]) -> list[list[OpT]]:
        # Union-find over keys: two keys one transaction touches are in one part.
        parent: dict[Hashable, Hashable] = {}

        def root(key: Hashable) -> Hashable:
            parent.setdefault(key, key)
            while parent[key] != key:
                parent[key] = parent[parent[key]]
                key = parent[key]
            return key

        for op in operations:
            keys = [key for _, key, _ in op.input.ops]
            for key in keys[1:]:
                parent[root(key)] = root(keys[0])
            if keys:
                root(keys[0])
        parts: dict[Any, list[OpT]] = {}
        for op in operations:
            ops = op.input.ops
            # A transaction of no micro-ops changes nothing: one part holds them all.
            parts.setdefault(root(ops[0][1]) if ops else _NO_KEY, []).append(op)
        return list(parts.values())

    def describe_operation(self, input: MultiTxn, output: MultiTxnResult | None) -> str:
        shown = input.ops if output is None else output.ops
        body = " ".join(
            f"{'r' if f == 'read' else 'w'}({_show(k)}, {_show(v)})" for f, k, v in shown
        )
        return f"txn[{body}]" + (" -> ?" if output is None else "")

    def describe_state(self, state: MultiRegisterState) -> str:
        items = sorted(state, key=lambda kv: repr(kv[0]))
        return "{" + ", ".join(f"{_show(k)}: {_show(v)}" for k, v in items) + "}"


_NO_KEY = object()


def _show(value: object) -> str:
    return "nil" if value is None else repr(value) if isinstance(value, str) else str(value)
