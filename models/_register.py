"""Register models: the store's per-document compare-and-set register, and Porcupine's two.

* :class:`CasRegisterModel` -- one register per document key, as the store contract describes
  it: ``get`` returns the value and version (``Doc.rev``), ``put`` writes unconditionally,
  ``cas`` writes only if the version still matches.  Versions strictly increase; the model
  does not predict them (the contract promises only "strictly greater"), it checks them.
* :class:`EtcdRegisterModel` -- the single register of Porcupine's Jepsen etcd histories.
* :class:`KvModel` -- the string map of Porcupine's kv histories (get / put / append).

Inputs and outputs are frozen attrs values; an unknown outcome is an output of ``None``
(see :class:`models.Model`).  States are ints, strings or tuples so that the checker can hash
them cheaply.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Final

import attrs

from ._protocol import Model, OpT

__all__ = [
    "VALUE_TYPES",
    "CasRegisterModel",
    "EtcdCas",
    "EtcdCasResult",
    "EtcdRead",
    "EtcdRegisterModel",
    "EtcdValue",
    "EtcdWrite",
    "EtcdWritten",
    "KvAppend",
    "KvDone",
    "KvGet",
    "KvModel",
    "KvPut",
    "KvValue",
    "RegCas",
    "RegCasResult",
    "RegGet",
    "RegPut",
    "RegValue",
    "RegWritten",
    "RegisterState",
]


def _partition_by_key(operations: Sequence[OpT]) -> list[list[OpT]]:
    # Keys never interact in these models, so each key's sub-history is checked on its own
    # (P-compositionality); dict order keeps the parts in order of first appearance.
    parts: dict[object, list[OpT]] = {}
    for op in operations:
        parts.setdefault(op.input.key, []).append(op)
    return list(parts.values())


# --------------------------------------------------------------------------------------------
# The store's compare-and-set register


@attrs.frozen(kw_only=True)
class RegGet:
    """Read document ``key``; returns :class:`RegValue`."""

    key: str


@attrs.frozen(kw_only=True)
class RegPut:
    """Write ``value`` to document ``key`` unconditionally (create or replace); returns :class:`RegWritten`."""

    key: str
    value: Hashable


@attrs.frozen(kw_only=True)
class RegCas:
    """Write ``value`` to ``key`` only if its version is ``expected_version``; returns :class:`RegCasResult`."""

    key: str
    expected_version: int
    value: Hashable


@attrs.frozen(kw_only=True)
class RegValue:
    """What a get saw: the document's value and version; ``version == 0`` means "no document"."""

    value: Hashable
    version: int


@attrs.frozen(kw_only=True)
class RegWritten:
    """A put succeeded and the document now has ``version``."""

    version: int


@attrs.frozen(kw_only=True)
class RegCasResult:
    """A cas compared equal and wrote (``ok``, new ``version``), or did not (conflict / not found)."""

    ok: bool
    version: int | None = None


class _AnyValue:
    """The register's value is not known (an unknown-outcome cas may or may not have written)."""

    _instance: _AnyValue | None = None

    def __new__(cls) -> _AnyValue:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "?"


_ANY: Final = _AnyValue()

#: ``(value, version, exact)``.  ``exact`` true: the document's version is ``version`` (0: no
#: document).  ``exact`` false: an unknown-outcome write may have happened, so the version is
#: only known to be *greater than* ``version``, and ``value`` may be ``?`` (unknown).
RegisterState = tuple[Hashable, int, bool]

RegInput = RegGet | RegPut | RegCas
RegOutput = RegValue | RegWritten | RegCasResult


class CasRegisterModel(Model[RegisterState, RegInput, RegOutput]):
    """One compare-and-set register per document key, modelling the store contract.

    The state is one document's register (``partition`` splits a history by key, and documents
    never interact).  Initially there is no document: ``(None, 0, exact)``.

    Versions play the role of ``Doc.rev``: every successful write makes the version strictly
    greater; the model checks that and learns the reported number rather than predicting it.
    After an unknown-outcome write the model forgets what it cannot know (the new version, and
    after an unknown cas perhaps the value) and relearns it from the next successful read or
    write.  Forgetting only makes the model more permissive, so it never reports a violation
    that is not one; the price is that a few violations right after a timeout can be missed.
    """

    def init(self) -> RegisterState:
        return (None, 0, True)

    def step(
        self, state: RegisterState, input: RegInput, output: RegOutput | None
    ) -> tuple[bool, RegisterState]:
        value, version, exact = state
        if isinstance(input, RegGet):
            if output is None:
                return True, state
            if not isinstance(output, RegValue):
                return False, state
            if exact:
                return output.value == value and output.version == version, state
            same = value is _ANY or output.value == value
            return same and output.version > version, (output.value, output.version, True)
        if isinstance(input, RegPut):
            if output is None:
                return True, (input.value, version, False)
            if not isinstance(output, RegWritten):
                return False, state
            return output.version > version, (input.value, output.version, True)
        # RegCas: the only conditional write.
        matches = input.expected_version == version if exact else input.expected_version > version
        if output is None:
            if exact:
                return True, ((input.value, version, False) if matches else state)
            # It may or may not have matched: keep the version bound, forget the value.
            return True, ((_ANY, version, False) if matches else state)
        if not isinstance(output, RegCasResult):
            return False, state
        if not output.ok:
            # A conflict or not-found writes nothing; from an inexact state it is always possible.
            return (not matches) if exact else True, state
        new_version = output.version
        if not matches or new_version is None or new_version <= input.expected_version:
            return False, state
        return True, (input.value, new_version, True)

    def partition(self, operations: Sequence[OpT]) -> list[list[OpT]]:
        return _partition_by_key(operations)

    def describe_operation(self, input: RegInput, output: RegOutput | None) -> str:
        if isinstance(input, RegGet):
            call = f"get({input.key!r})"
            if isinstance(output, RegValue):
                shown = (
                    "no document" if output.version == 0 else f"{output.value!r}@v{output.version}"
                )
                return f"{call} -> {shown}"
        elif isinstance(input, RegPut):
            call = f"put({input.key!r}, {input.value!r})"
            if isinstance(output, RegWritten):
                return f"{call} -> v{output.version}"
        else:
            call = f"cas({input.key!r}, v{input.expected_version} -> {input.value!r})"
            if isinstance(output, RegCasResult):
                return f"{call} -> " + (f"ok v{output.version}" if output.ok else "conflict")
        return f"{call} -> ?" if output is None else f"{call} -> {output!r}"

    def describe_state(self, state: RegisterState) -> str:
        value, version, exact = state
        if exact:
            return "no document" if version == 0 else f"{value!r}@v{version}"
        return f"{value!r}@v>{version}"


# --------------------------------------------------------------------------------------------
# Porcupine's Jepsen etcd register


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

    read must return the current value, write sets it, cas(a, b) succeeds exactly when the value
    is a and then sets b.  An unknown outcome is always legal; an unknown cas still takes effect
    only if it compared equal.
    """

    def init(self) -> int | None:
        return None

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


# --------------------------------------------------------------------------------------------
# Porcupine's kv store


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

    def partition(self, operations: Sequence[OpT]) -> list[list[OpT]]:
        return _partition_by_key(operations)

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


#: Every input and output class above, for history codecs (``harness.read_jsonl``).
VALUE_TYPES: Final[tuple[type, ...]] = (
    RegGet,
    RegPut,
    RegCas,
    RegValue,
    RegWritten,
    RegCasResult,
    EtcdRead,
    EtcdWrite,
    EtcdCas,
    EtcdValue,
    EtcdWritten,
    EtcdCasResult,
    KvGet,
    KvPut,
    KvAppend,
    KvValue,
    KvDone,
)
