"""The store's per-document compare-and-set register, as the store contract describes it.

``get`` returns the value and version (``Doc.rev``), ``put`` writes unconditionally, ``cas``
writes only if the version still matches.  Versions strictly increase; the model does not
predict them (the contract promises only "strictly greater"), it checks them.

Inputs and outputs are frozen attrs values; an unknown outcome is an output of ``None``
(see :class:`models.Model`).  States are tuples so that the checker can hash them cheaply.
"""

from __future__ import annotations

from collections.abc import Hashable
from collections.abc import Sequence
from typing import Final

import attrs

from ._partition import partition_by_key
from ._protocol import Model
from ._protocol import OpT


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


class DocRegisterModel(Model[RegisterState, RegInput, RegOutput]):
    """One versioned compare-and-set register per document key, modelling the store contract.

    Named ``doc-register`` on the command line (it was ``cas-register`` before that name went
    to Knossos's register, :class:`models.KnossosCasRegisterModel`).

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
        return partition_by_key(operations)

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


#: The former name of :class:`DocRegisterModel`, kept for callers written before the rename.
CasRegisterModel = DocRegisterModel
