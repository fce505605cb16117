"""Porcupine's kv model: a string per key, get / put / append.

Inputs and outputs are frozen attrs values; an unknown outcome is an output of ``None``
(see :class:`models.Model`).  The state is one key's string.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence

import attrs

from ._partition import partition_by_key
from ._protocol import Model
from ._protocol import OpT


@attrs.frozen(kw_only=True)
class KvGet:
    """Read ``key``; returns :class:`KvValue`."""

    key: str


@attrs.frozen(kw_only=True)
class KvPut:
    """Set ``key`` to ``value``; returns :class:`KvDone`."""

    key: str
    value: str


@attrs.frozen(kw_only=True)
class KvAppend:
    """Append ``value`` to ``key``'s string; returns :class:`KvDone`."""

    key: str
    value: str


@attrs.frozen(kw_only=True)
class KvValue:
    """A get's result: the key's whole string."""

    value: str


@attrs.frozen(kw_only=True)
class KvDone:
    """A put or append returned."""


KvInput = KvGet | KvPut | KvAppend
KvOutput = KvValue | KvDone


class KvModel(Model[str, KvInput, KvOutput]):
    """Porcupine's kv model: a string per key, initially ``""``; get / put / append.

    The state is one key's string (``partition`` splits by key).
    """

    def init(self) -> str:
        return ""

    def step(self, state: str, input: KvInput, output: KvOutput | None) -> tuple[bool, str]:
        if isinstance(input, KvGet):
            return output is None or (isinstance(output, KvValue) and output.value == state), state
        legal = output is None or isinstance(output, KvDone)
        if isinstance(input, KvPut):
            return legal, input.value
        return legal, state + input.value

    def pinned_state(self, input: KvInput, output: KvOutput | None) -> tuple[()] | tuple[str]:
        """A get is legal in the state it saw alone (the hook ``Model`` describes)."""
        if isinstance(input, KvGet) and isinstance(output, KvValue):
            return (output.value,)
        return ()

    def reachability(self, inputs: Sequence[KvInput]) -> Callable[[str, str], bool]:
        """Whether a state may lead to another, given a partition's inputs (see ``Model``).

        Appends only add to the end, so the target must start with the state, or with the
        value of a put (a put resets the string).
        """
        puts = tuple({i.value for i in inputs if isinstance(i, KvPut)})
        if not puts:
            return lambda state, target: target.startswith(state)
        # str.startswith takes a tuple of prefixes: one C call for every put.
        return lambda state, target: target.startswith(state) or target.startswith(puts)

    def partition(self, operations: Sequence[OpT]) -> list[list[OpT]]:
        return partition_by_key(operations)

    def describe_operation(self, input: KvInput, output: KvOutput | None) -> str:
        if isinstance(input, KvGet):
            call = f"get({input.key!r})"
            if isinstance(output, KvValue):
                return f"{call} -> {output.value!r}"
        elif isinstance(input, KvPut):
            call = f"put({input.key!r}, {input.value!r})"
            if isinstance(output, KvDone):
                return call
        else:
            call = f"append({input.key!r}, {input.value!r})"
            if isinstance(output, KvDone):
                return call
        return f"{call} -> ?" if output is None else f"{call} -> {output!r}"

    def describe_state(self, state: str) -> str:
        return repr(state)
