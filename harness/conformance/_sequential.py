"""The sequential contract and the token checks, as cases (see ``_cases``).

``CONTRACT`` covers every documented behaviour one call at a time; ``TOKENS`` covers what
backends really get wrong about etags and revs: a token that matches again after delete and
re-create (ABA), checked for the etag and for the rev separately; an unconditional replace, or
a write that changes nothing, that keeps a token.
"""

from __future__ import annotations

from stores import Conflict
from stores import Doc
from stores import DocumentExists
from stores import DocumentNotFound
from stores import Expected
from stores import NotFound
from stores import Store
from stores import StoreMisuse
from stores import Updated

from ._cases import Case
from ._cases import expect
from ._cases import expect_raises
from ._labels import plain

__all__ = ["CONTRACT", "TOKENS"]


async def _create_and_get(s: Store) -> int:
    doc = await s.create("a", "p", {"x": 1})
    expect(plain(doc.body) == {"x": 1}, f"create returned body {plain(doc.body)}, wrote {{'x': 1}}")
    expect(await s.get("a", "p") == doc, "get after create did not return the created Doc")
    expect(await s.get("a", "other") is None, "get in another partition found the document")
    expect(await s.get("zz", "p") is None, "get of a missing id did not return None")
    await expect_raises(
        DocumentExists,
        s.create("a", "p", {"x": 2}),
        "a second create of the same id did not raise DocumentExists",
    )
    now = await s.get("a", "p")
    expect(now is not None and plain(now.body) == {"x": 1}, "a second create overwrote it")
    return 6


async def _compare_and_set(s: Store) -> int:
    doc = await s.create("a", "p", {"x": 1, "keep": True})
    result = await s.update_if_match("a", "p", Expected(etag=doc.etag, rev=doc.rev), {"x": 3})
    expect(isinstance(result, Updated), f"update_if_match with current tokens gave {result!r}")
    assert isinstance(result, Updated)
    body = plain(result.doc.body)
    expect(
        body == {"x": 3, "keep": True}, f"patch {{'x': 3}} on {{'x': 1, 'keep': True}} gave {body}"
    )
    expect(result.doc.rev > doc.rev, "a write did not increase rev")
    expect(result.doc.etag != doc.etag, "a write did not change the etag")
    now = await s.get("a", "p")
    expect(now == result.doc, f"get after update returned {now!r}, not the written Doc")
    assert now is not None
    for name, expected in (
        ("rev", Expected(rev=doc.rev)),
        ("etag", Expected(etag=doc.etag)),
        ("both", Expected(etag=doc.etag, rev=doc.rev)),
        ("mixed", Expected(etag=now.etag, rev=doc.rev)),
    ):
        stale = await s.update_if_match("a", "p", expected, {"x": 99})
        expect(
            isinstance(stale, Conflict),
            f"update_if_match with a stale {name} token gave {stale!r}, expected Conflict",
        )
        expect(await s.get("a", "p") == now, f"a stale {name} update_if_match wrote anyway")
    for name in ("rev", "etag"):
        expected = Expected(rev=now.rev) if name == "rev" else Expected(etag=now.etag)
        single = await s.update_if_match("a", "p", expected, {"y": name})
        expect(isinstance(single, Updated), f"{name}-only match gave {single!r}, expected Updated")
        now = await s.get("a", "p")
        assert now is not None
    return 15


async def _not_found(s: Store) -> int:
    missing = await s.update_if_match("nope", "p", Expected(rev=1), {"x": 1})
    expect(isinstance(missing, NotFound), f"update_if_match of a missing id gave {missing!r}")
    expect(await s.get("nope", "p") is None, "update_if_match of a missing id created it")
    await expect_raises(
        DocumentNotFound,
        s.replace("nope", "p", {"x": 1}),
        "replace of a missing id did not raise DocumentNotFound",
    )
    expect(await s.delete("nope", "p") is False, "delete of a missing document did not say False")
    return 4


async def _delete(s: Store) -> int:
    before = await s.create("a", "p", {"x": 1})
    expect(await s.delete("a", "p") is True, "delete of an existing document did not return True")
    expect(await s.get("a", "p") is None, "get after delete still found the document")
    expect(await s.delete("a", "p") is False, "a second delete did not return False")
    again = await s.create("a", "p", {"x": 2})
    expect(plain(again.body) == {"x": 2}, f"re-create after delete gave {plain(again.body)}")
    expect(again.rev > before.rev, f"rev restarted after delete: {before.rev} then {again.rev}")
    return 5


async def _replace(s: Store) -> int:
    doc = await s.create("a", "p", {"x": 1, "y": 2})
    replaced = await s.replace("a", "p", {"z": 1})
    expect(plain(replaced.body) == {"z": 1}, "replace did not replace the whole body")
    expect(replaced.rev > doc.rev, "replace did not increase rev")
    expect(await s.get("a", "p") == replaced, "get after replace did not return the written Doc")
    return 3


async def _listing(s: Store) -> int:
    for id in ("c", "a", "b"):
        await s.create(id, "p", {"named": id})
    await s.create("q", "other", {})
    ids = [d.id for d in await s.list_partition("p")]
    expect(ids == ["a", "b", "c"], f"list_partition gave {ids}, expected ['a', 'b', 'c']")
    ids = [d.id for d in await s.list_partition("other")]
    expect(ids == ["q"], f"list_partition of another partition gave {ids}, expected ['q']")
    empty = await s.list_partition("empty")
    expect(empty == [], f"list_partition of an empty partition gave {empty!r}")
    return 3


async def _misuse(s: Store) -> int:
    await s.create("a", "p", {})
    await expect_raises(
        StoreMisuse,
        s.update_if_match("a", "p", Expected(rev=1), None),  # type: ignore[arg-type]
        "update_if_match with patch None was accepted; it must raise StoreMisuse",
    )
    await expect_raises(
        StoreMisuse, s.get("", "p"), "get with an empty id was accepted; it must raise StoreMisuse"
    )
    return 2


CONTRACT: tuple[tuple[str, Case], ...] = (
    ("create and get", _create_and_get),
    ("compare-and-set", _compare_and_set),
    ("not found", _not_found),
    ("delete", _delete),
    ("replace", _replace),
    ("listing", _listing),
    ("misuse", _misuse),
)


# -- tokens ----------------------------------------------------------------------------------


async def _refused(s: Store, old: Doc, token: str) -> None:
    """A compare-and-set with ``old``'s ``token`` ("etag" or "rev") must conflict."""
    expected = Expected(etag=old.etag) if token == "etag" else Expected(rev=old.rev)
    before = await s.get(old.id, old.partition_key)
    result = await s.update_if_match(old.id, old.partition_key, expected, {"stale": True})
    expect(
        isinstance(result, Conflict),
        f"update_if_match with a {token} from an earlier version ({expected!r}) gave "
        f"{result!r}; it must conflict, or a stale writer overwrites the new document",
    )
    expect(await s.get(old.id, old.partition_key) == before, f"the stale-{token} write applied")


def _aba(token: str) -> Case:
    async def case(s: Store) -> int:
        # The same body every time: a token derived from the body (or restarted per
        # incarnation) comes back, and a pre-delete token matches the new document.
        history = [await s.create("d", "p", {"v": 1})]
        for cycle in range(3):
            history.append(
                _updated(await s.update_if_match("d", "p", Expected(rev=history[-1].rev), {"v": 2}))
            )
            expect(await s.delete("d", "p") is True, "delete of an existing document failed")
            doc = await s.create("d", "p", {"v": 1})
            for old in history:
                where = f"after delete and re-create (cycle {cycle + 1}) the new document has"
                if token == "etag":
                    expect(
                        doc.etag != old.etag,
                        f"{where} etag {doc.etag!r}, which an earlier version had: an etag "
                        "must never be reused (ABA)",
                    )
                else:
                    expect(
                        doc.rev > old.rev,
                        f"{where} rev {doc.rev}, not above an earlier version's {old.rev}: "
                        "rev must keep increasing per id across delete and re-create (ABA)",
                    )
                await _refused(s, old, token)
            history.append(doc)
        return 3 * (1 + 3 * len(history))

    return case


def _updated(result: object) -> Doc:
    expect(isinstance(result, Updated), f"update_if_match with current tokens gave {result!r}")
    assert isinstance(result, Updated)
    return result.doc


async def _replace_tokens(s: Store) -> int:
    doc = await s.create("d", "p", {"v": 1})
    replaced = await s.replace("d", "p", {"v": 1})  # the same body: the tokens must change still
    expect(replaced.etag != doc.etag, "replace kept the etag; every write must change it")
    expect(replaced.rev > doc.rev, "replace did not increase rev; every write must")
    for token in ("etag", "rev"):
        await _refused(s, doc, token)
    expect(await s.get("d", "p") == replaced, "get after replace did not return the written Doc")
    return 5


async def _unchanged_body_tokens(s: Store) -> int:
    doc = await s.create("d", "p", {"v": 1})
    same = _updated(await s.update_if_match("d", "p", Expected(rev=doc.rev), {"v": 1}))
    expect(same.etag != doc.etag, "a write that changed no field kept the etag")
    expect(same.rev > doc.rev, "a write that changed no field kept the rev")
    for token in ("etag", "rev"):
        await _refused(s, doc, token)
    return 4


TOKENS: tuple[tuple[str, Case], ...] = (
    ("etag after delete and re-create", _aba("etag")),
    ("rev after delete and re-create", _aba("rev")),
    ("replace changes both tokens", _replace_tokens),
    ("a write that changes nothing changes both tokens", _unchanged_body_tokens),
)
