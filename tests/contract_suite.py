"""The sequential store contract, as tests shared by every backend's test module.

A module that does ``from .contract_suite import *`` and defines a ``store`` fixture (a fresh,
empty store) runs all of these against it.  The conformance suite
(``harness.conformance``) checks the same contract for third-party backends.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness import drive
from stores import Conflict
from stores import Doc
from stores import DocumentExists
from stores import DocumentNotFound
from stores import Expected
from stores import NotFound
from stores import Store
from stores import StoreMisuse
from stores import Updated


def run(coro: Any) -> Any:
    """Drive a store coroutine under control (inline, no other actor)."""
    return drive(coro)


def test_create_then_get_returns_the_document(store: Store) -> None:
    doc = run(store.create("a", "p", {"x": 1}))
    assert (doc.id, doc.partition_key, dict(doc.body), doc.rev) == ("a", "p", {"x": 1}, 1)
    assert run(store.get("a", "p")) == doc
    assert run(store.get("a", "other")) is None
    assert run(store.get("missing", "p")) is None


def test_second_create_is_a_conflict_never_an_overwrite(store: Store) -> None:
    first = run(store.create("a", "p", {"x": 1}))
    with pytest.raises(DocumentExists, match="'a' already exists in partition 'p'"):
        run(store.create("a", "p", {"x": 2}))
    assert run(store.get("a", "p")) == first
    # The failed create consumed no token: the next write is the very next rev.
    assert run(store.replace("a", "p", {"x": 3})).rev == 2


def test_body_is_read_only_and_copied(store: Store) -> None:
    body = {"x": 1, "nested": {"y": 2}}
    doc: Doc = run(store.create("a", "p", body))
    body["x"] = 99
    body["nested"]["y"] = 99  # type: ignore[index]
    with pytest.raises(TypeError):
        doc.body["x"] = 3  # type: ignore[index]
    got = run(store.get("a", "p"))
    assert got.body["x"] == 1
    assert got.body["nested"] == {"y": 2}
    with pytest.raises(TypeError):
        got.body["x"] = 3


def test_update_if_match_on_match_writes_and_bumps_both_tokens(store: Store) -> None:
    doc = run(store.create("a", "p", {"x": 1, "y": 1}))
    result = run(store.update_if_match("a", "p", Expected(etag=doc.etag, rev=doc.rev), {"x": 2}))
    assert isinstance(result, Updated)
    assert result.ok
    assert result.reason is None
    assert dict(result.doc.body) == {"x": 2, "y": 1}
    assert result.doc.rev == doc.rev + 1
    assert result.doc.etag != doc.etag
    assert run(store.get("a", "p")) == result.doc


@pytest.mark.parametrize("which", ["rev", "etag", "both"])
def test_stale_token_is_a_conflict_and_writes_nothing(store: Store, which: str) -> None:
    old = run(store.create("a", "p", {"x": 1}))
    new = run(store.replace("a", "p", {"x": 2}))
    expected = {
        "rev": Expected(rev=old.rev),
        "etag": Expected(etag=old.etag),
        "both": Expected(etag=old.etag, rev=old.rev),
    }[which]
    result = run(store.update_if_match("a", "p", expected, {"x": 3}))
    assert isinstance(result, Conflict)
    assert not result.ok
    assert result.reason == "conflict"
    assert run(store.get("a", "p")) == new


@pytest.mark.parametrize("which", ["rev", "etag"])
def test_single_token_expectations_match(store: Store, which: str) -> None:
    doc = run(store.create("a", "p", {"x": 1}))
    expected = Expected(rev=doc.rev) if which == "rev" else Expected(etag=doc.etag)
    result = run(store.update_if_match("a", "p", expected, {"x": 2}))
    assert result.ok
    assert run(store.get("a", "p")).body["x"] == 2


def test_both_tokens_must_match(store: Store) -> None:
    doc = run(store.create("a", "p", {"x": 1}))
    other = run(store.replace("a", "p", {"x": 2}))
    for mixed in (Expected(etag=other.etag, rev=doc.rev), Expected(etag=doc.etag, rev=other.rev)):
        assert isinstance(run(store.update_if_match("a", "p", mixed, {"x": 3})), Conflict)
    assert run(store.get("a", "p")) == other


def test_missing_document_is_not_found(store: Store) -> None:
    result = run(store.update_if_match("nope", "p", Expected(rev=1), {"x": 1}))
    assert isinstance(result, NotFound)
    assert result.reason == "not_found"
    assert not result.ok
    assert run(store.get("nope", "p")) is None


def test_no_aba_after_delete_and_recreate(store: Store) -> None:
    first = run(store.create("a", "p", {"x": 1}))
    assert run(store.delete("a", "p")) is True
    assert run(store.delete("a", "p")) is False
    assert isinstance(run(store.update_if_match("a", "p", Expected(rev=1), {})), NotFound)
    second = run(store.create("a", "p", {"x": 1}))
    assert second.rev > first.rev
    assert second.etag != first.etag
    for stale in (Expected(rev=first.rev), Expected(etag=first.etag)):
        assert isinstance(run(store.update_if_match("a", "p", stale, {"x": 9})), Conflict)
    assert run(store.get("a", "p")) == second


def test_replace_of_missing_document_raises(store: Store) -> None:
    with pytest.raises(DocumentNotFound, match="'nope' not found in partition 'p'"):
        run(store.replace("nope", "p", {"x": 1}))
    assert run(store.get("nope", "p")) is None
    assert run(store.create("nope", "p", {})).rev == 1  # the failed replace took no rev


def test_list_partition_is_sorted_and_scoped(store: Store) -> None:
    for id in ("c", "a", "b", "B", "é"):
        run(store.create(id, "p", {"id_": id}))
    run(store.create("z", "q", {}))
    run(store.create("gone", "p", {}))
    run(store.delete("gone", "p"))
    listed = run(store.list_partition("p"))
    assert [d.id for d in listed] == sorted(["a", "b", "c", "B", "é"])
    assert listed == [run(store.get(d.id, "p")) for d in listed]
    assert [d.id for d in run(store.list_partition("q"))] == ["z"]
    assert run(store.list_partition("empty")) == []


def test_rev_strictly_increases_with_every_write(store: Store) -> None:
    doc = run(store.create("a", "p", {"n": 0}))
    revs, etags = [doc.rev], [doc.etag]
    for n in range(1, 6):
        if n % 2:
            doc = run(store.replace("a", "p", {"n": n}))
        else:
            doc = run(store.update_if_match("a", "p", Expected(rev=doc.rev), {"n": n})).doc
        revs.append(doc.rev)
        etags.append(doc.etag)
    assert revs == sorted(set(revs))
    assert len(set(etags)) == len(etags)


def test_json_bodies_round_trip(store: Store) -> None:
    body = {"s": "é", "i": -3, "f": 0.1, "b": False, "n": None, "l": [1, [2]], "m": {"k": [3]}}
    doc = run(store.create("a", "p", body))
    assert dict(doc.body) == body
    doc = run(store.update_if_match("a", "p", Expected(rev=1), {"n": {"deep": True}})).doc
    assert dict(run(store.get("a", "p")).body) == {**body, "n": {"deep": True}}


@pytest.mark.parametrize("patch", [None, [("x", 1)], "x=1", 3])
def test_patch_must_be_a_mapping(store: Store, patch: Any) -> None:
    doc = run(store.create("a", "p", {"x": 1}))
    with pytest.raises(StoreMisuse, match="patch must be a mapping"):
        run(store.update_if_match("a", "p", Expected(rev=doc.rev), patch))
    assert run(store.get("a", "p")) == doc


def test_patch_may_not_change_reserved_fields(store: Store) -> None:
    doc = run(store.create("a", "p", {"x": 1}))
    with pytest.raises(StoreMisuse, match="reserved field 'id'"):
        run(store.update_if_match("a", "p", Expected(rev=doc.rev), {"id": "b"}))


@pytest.mark.parametrize("bad", ["", None, 7, b"a"])
def test_ids_must_be_non_empty_strings(store: Store, bad: Any) -> None:
    with pytest.raises(StoreMisuse, match="id must be a non-empty str"):
        run(store.get(bad, "p"))
    with pytest.raises(StoreMisuse, match="partition_key must be a non-empty str"):
        run(store.create("a", bad, {}))
    with pytest.raises(StoreMisuse, match="partition_key must be a non-empty str"):
        run(store.list_partition(bad))


def test_expected_must_be_an_expected(store: Store) -> None:
    run(store.create("a", "p", {"x": 1}))
    with pytest.raises(StoreMisuse, match=r"expected must be stores\.Expected"):
        run(store.update_if_match("a", "p", {"rev": 1}, {"x": 2}))  # type: ignore[arg-type]
