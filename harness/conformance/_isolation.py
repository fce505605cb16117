"""Isolation, as cases (see ``_cases``): of bodies from their callers, of partitions from
each other.

Bodies: a store copies what it is given, so a caller that changes its mapping after the call
changes nothing stored; and whatever a caller does to a body it was given back (where Python
lets it) changes neither the store nor what any later call returns (the ``Store`` contract).

Partitions: ``(partition_key, id)`` names a document.  The same id in two partitions is two
documents, and no key encoding may merge two names: partitions that share a prefix, or pairs
like ``("a~b", "c")`` and ``("a", "b~c")`` that a store keying on ``f"{partition}~{id}"``
would store as one.
"""

from __future__ import annotations

import copy
from typing import Any

from stores import Doc
from stores import DocumentExists
from stores import Expected
from stores import Store
from stores import Updated

from ._cases import Case
from ._cases import expect
from ._cases import scribble
from ._labels import plain

__all__ = ["BODIES", "PARTITIONS"]

#: A body with something to change at every level.
_BODY: dict[str, Any] = {"a": 1, "nested": {"k": [1, 2]}, "tags": ["x"]}


def _unchanged(doc: Doc | None, want: object, what: str) -> None:
    seen = None if doc is None else plain(doc.body)
    expect(seen == want, f"{what}: the stored document's body is now {seen}, expected {want}")


def _copies(op: str) -> Case:
    """``op`` ("create" or "replace") copies the body it is given."""

    async def case(s: Store) -> int:
        if op == "replace":
            await s.create("d", "p", {"old": True})
        body = copy.deepcopy(_BODY)
        doc = await (s.create if op == "create" else s.replace)("d", "p", body)
        scribble(body)
        _unchanged(
            doc,
            _BODY,
            f"the caller changed the body it passed to {op}, and the Doc {op} returned changed "
            "with it",
        )
        _unchanged(
            await s.get("d", "p"),
            _BODY,
            f"the caller changed the body it passed to {op} (stores copy on the way in)",
        )
        return 2

    return case


async def _update_copies(s: Store) -> int:
    doc = await s.create("d", "p", {"a": 1})
    patch: dict[str, Any] = {"nested": {"k": [1]}, "tags": ["y"]}
    result = await s.update_if_match("d", "p", Expected(rev=doc.rev), patch)
    expect(isinstance(result, Updated), f"update_if_match with the current rev gave {result!r}")
    want = {"a": 1, "nested": {"k": [1]}, "tags": ["y"]}
    scribble(patch)
    _unchanged(
        await s.get("d", "p"),
        want,
        "the caller changed the patch it passed to update_if_match (stores copy on the way in)",
    )
    return 2


async def _returned_bodies(s: Store) -> int:
    created = await s.create("d", "p", copy.deepcopy(_BODY))
    changed = scribble(created.body)
    got = await s.get("d", "p")
    _unchanged(got, _BODY, "the caller changed the body create returned to it")
    assert got is not None
    changed += scribble(got.body)
    _unchanged(await s.get("d", "p"), _BODY, "the caller changed the body get returned to it")
    listed = await s.list_partition("p")
    for doc in listed:
        changed += scribble(doc.body)
    _unchanged(await s.get("d", "p"), _BODY, "the caller changed a body list_partition returned")
    result = await s.update_if_match("d", "p", Expected(rev=got.rev), {"b": 2})
    expect(isinstance(result, Updated), f"update_if_match with the current rev gave {result!r}")
    assert isinstance(result, Updated)
    changed += scribble(result.doc.body)
    _unchanged(
        await s.get("d", "p"), {**_BODY, "b": 2}, "the caller changed the body of Updated.doc"
    )
    del changed  # how much Python allowed is the store's choice; that nothing leaked is not
    return 4


BODIES: tuple[tuple[str, Case], ...] = (
    ("create copies the body", _copies("create")),
    ("replace copies the body", _copies("replace")),
    ("update_if_match copies the patch", _update_copies),
    ("returned bodies never alias the store", _returned_bodies),
)


# -- partitions ------------------------------------------------------------------------------

#: Pairs of documents that one careless encoding or another stores under one key.
MERGEABLE = (
    (("a~b", "c"), ("a", "b~c")),
    (("ab", "c"), ("a", "bc")),
    (("a:b", "c"), ("a", "b:c")),
    (("a|b", "c"), ("a", "b|c")),
    (("a.b", "c"), ("a", "b.c")),
    (("a b", "c"), ("a", "b c")),
    (("a-b", "c"), ("a", "b-c")),
    (("a_b", "c"), ("a", "b_c")),
)

#: Partitions whose names share a prefix, or differ only in case.
PREFIXES = ("p", "p1", "pp", "p~", "P", "p~x")


def _tag(pk: str, id: str) -> dict[str, str]:
    """The body that says which document it is.  Not in fields named ``id`` or ``pk``: a
    backend may reserve the names it stores its keys under (Cosmos does), and this check is
    about keys, not field names."""
    return {"in_partition": pk, "named": id}


async def _documents(s: Store, names: list[tuple[str, str]]) -> int:
    """Create one document per ``(partition, id)``, then check each is its own document: its
    own body by get and in its own partition's list only, written and deleted alone."""
    for n, (pk, id) in enumerate(names):
        try:
            await s.create(id, pk, _tag(pk, id))
        except DocumentExists:
            raise AssertionError(
                f"create({id!r}, {pk!r}) raised DocumentExists, but the only documents are "
                f"{names[:n]} (partition, id): the store keys two documents as one"
            ) from None
    for pk, id in names:
        _unchanged(await s.get(id, pk), _tag(pk, id), f"get({id!r}, {pk!r})")
    partitions = sorted({pk for pk, _ in names})
    for pk in partitions:
        listed = [(d.id, plain(d.body)) for d in await s.list_partition(pk)]
        want = sorted((id, _tag(p, id)) for p, id in names if p == pk)
        expect(
            listed == want,
            f"list_partition({pk!r}) gave {listed}, expected exactly {want}: a partition lists "
            "its own documents and nothing of any other partition",
        )
    first_pk, first_id = names[0]
    doc = await s.get(first_id, first_pk)
    assert doc is not None
    result = await s.update_if_match(first_id, first_pk, Expected(rev=doc.rev), {"w": 1})
    expect(
        isinstance(result, Updated), f"update_if_match({first_id!r}, {first_pk!r}) gave {result!r}"
    )
    expect(
        await s.delete(first_id, first_pk) is True,
        f"delete({first_id!r}, {first_pk!r}) found nothing",
    )
    expect(
        await s.get(first_id, first_pk) is None,
        f"get({first_id!r}, {first_pk!r}) after delete found it",
    )
    for pk, id in names[1:]:
        _unchanged(
            await s.get(id, pk),
            _tag(pk, id),
            f"after writing and deleting ({first_pk!r}, {first_id!r}), get({id!r}, {pk!r})",
        )
    return 2 * len(names) + len(partitions) + 3


async def _same_id(s: Store) -> int:
    return await _documents(s, [("p", "x"), ("q", "x")])


async def _prefixes(s: Store) -> int:
    return await _documents(s, [(pk, "x") for pk in PREFIXES])


def _mergeable(pair: tuple[tuple[str, str], tuple[str, str]]) -> Case:
    async def case(s: Store) -> int:
        return await _documents(s, list(pair))

    return case


PARTITIONS: tuple[tuple[str, Case], ...] = (
    ("the same id in two partitions", _same_id),
    ("partitions whose names share a prefix", _prefixes),
    *((f"{pair[0]} and {pair[1]} are two documents", _mergeable(pair)) for pair in MERGEABLE),
)
