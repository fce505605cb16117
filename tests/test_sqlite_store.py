"""The store contract on SqliteStore: sequential behaviour, true concurrency from threads, and
controlled schedules (each on a fresh database file under ``tmp_path``)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import trio

from harness import drive, explore
from stores import (
    Conflict,
    Doc,
    DocumentExists,
    DocumentNotFound,
    Expected,
    NotFound,
    ReadCheckWriteStore,
    Store,
    StoreMisuse,
    StoreUnavailable,
    Updated,
    UpdateResult,
)
from stores._sqlite import SqliteStore, SqliteUnavailable, fresh_sqlite_stores

MakeStore = Callable[[], SqliteStore]


@pytest.fixture
def make_store(tmp_path: Path) -> Iterator[MakeStore]:
    """``make()`` -> a new, empty SqliteStore on its own file; all are closed at teardown."""
    with fresh_sqlite_stores(tmp_path) as make:
        yield make


# Sequentially, the control behaves like the real thing: its bug needs concurrency.
@pytest.fixture(params=["sqlite", "rcw-sqlite"])
def store(request: pytest.FixtureRequest, make_store: MakeStore) -> Store:
    real = make_store()
    return real if request.param == "sqlite" else ReadCheckWriteStore(real)


def run(coro: Any) -> Any:
    """Drive a store coroutine under control: inline, on this thread's connection."""
    return drive(coro)


# -- sequential contract -------------------------------------------------------------------


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


def test_the_same_operations_give_the_same_documents(make_store: MakeStore) -> None:
    def script(store: Store) -> list[Doc]:
        run(store.create("a", "p", {"x": 1}))
        run(store.create("b", "p", {"x": 1}))
        run(store.update_if_match("a", "p", Expected(rev=1), {"x": 2}))
        run(store.delete("b", "p"))
        run(store.create("b", "p", {"x": 3}))
        docs: list[Doc] = run(store.list_partition("p"))
        return docs

    assert script(make_store()) == script(make_store())


# -- misuse -------------------------------------------------------------------------------


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


def test_body_must_be_a_mapping_with_str_keys_and_json_values(store: Store) -> None:
    with pytest.raises(StoreMisuse, match="body must be a mapping"):
        run(store.create("a", "p", [1, 2]))  # type: ignore[arg-type]
    with pytest.raises(StoreMisuse, match="body keys must be str"):
        run(store.create("a", "p", {1: 2}))  # type: ignore[dict-item]
    with pytest.raises(StoreMisuse, match="body must hold only JSON values"):
        run(store.create("a", "p", {"x": {1, 2}}))
    assert run(store.get("a", "p")) is None


def test_a_non_json_patch_is_refused_before_the_point(make_store: MakeStore) -> None:
    store = make_store()
    doc = run(store.create("a", "p", {"x": 1}))
    coro = store.update_if_match("a", "p", Expected(rev=1), {"x": object()})
    with pytest.raises(StoreMisuse, match="patch must hold only JSON values"):
        coro.send(None)  # raised before the first yield: no scheduling point taken
    assert run(store.get("a", "p")) == doc


@pytest.mark.parametrize("path", ["", ":memory:", "file::memory:", 3])
def test_path_must_name_a_file(path: Any) -> None:
    with pytest.raises(StoreMisuse, match="path must"):
        SqliteStore(path)


def test_unusable_files_raise_sqlite_unavailable(tmp_path: Path) -> None:
    with pytest.raises(SqliteUnavailable, match=r"could not open: .*writable local disk"):
        SqliteStore(tmp_path / "missing-dir" / "x.db")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(SqliteUnavailable, match=r"junk\.db.*not a database"):
        SqliteStore(junk)
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("PRAGMA user_version = 77")
    conn.close()
    with pytest.raises(SqliteUnavailable, match="another schema"):
        SqliteStore(other)


def test_a_held_write_lock_times_out_as_sqlite_unavailable(make_store: MakeStore) -> None:
    store = make_store()
    holder = sqlite3.connect(store.path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        # Opening a file that already has the schema needs no write lock; writing does.
        with SqliteStore(store.path, busy_timeout=0.05) as slow:
            assert run(slow.get("a", "p")) is None
            with pytest.raises(SqliteUnavailable, match="held the write lock") as raised:
                run(slow.create("a", "p", {}))
            assert isinstance(raised.value, StoreUnavailable)  # and so not applied
        holder.execute("ROLLBACK")
    finally:
        holder.close()
    assert run(store.create("a", "p", {})).rev == 1


def test_close_closes_and_a_closed_store_refuses(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "s.db") as store:
        run(store.create("a", "p", {}))
    store.close()  # idempotent
    with pytest.raises(StoreMisuse, match="is closed"):
        run(store.get("a", "p"))
    with SqliteStore(tmp_path / "s.db") as again:  # the file persists
        assert run(again.get("a", "p")) is not None


def test_fork_is_an_independent_copy_deleted_on_close(make_store: MakeStore) -> None:
    store = make_store()
    doc = run(store.create("a", "p", {"x": 1}))
    with store.fork() as twin:
        assert Path(twin.path).parent == Path(store.path).parent
        assert run(twin.get("a", "p")) == doc
        moved = run(twin.update_if_match("a", "p", Expected(rev=1), {"x": 2}))
        assert moved.doc.etag != doc.etag
        assert run(store.get("a", "p")) == doc  # the original did not change
        # Tokens continue from the copy: the same writes give the same documents.
        assert run(store.update_if_match("a", "p", Expected(rev=1), {"x": 2})) == moved
    assert not Path(twin.path).exists()
    assert Path(store.path).exists()


def test_temporary_store_removes_its_directory() -> None:
    store = SqliteStore.temporary()
    directory = Path(store.path).parent
    run(store.create("a", "p", {}))
    assert directory.exists()
    store.close()
    assert not directory.exists()


# -- the same contract under trio: every operation in a worker thread ------------------------


def test_contract_under_trio_worker_threads(make_store: MakeStore) -> None:
    store = make_store()
    main = threading.get_ident()

    async def main_task() -> None:
        doc = await store.create("a", "p", {"x": 1})
        assert await store.get("a", "p") == doc
        with pytest.raises(DocumentExists):
            await store.create("a", "p", {})
        stale = await store.update_if_match("a", "p", Expected(rev=9), {"x": 2})
        assert isinstance(stale, Conflict)
        done = await store.update_if_match("a", "p", Expected(etag=doc.etag), {"x": 2})
        assert isinstance(done, Updated)
        assert done.doc.rev == 2
        assert await store.list_partition("p") == [done.doc]
        assert await store.delete("a", "p")
        with pytest.raises(DocumentNotFound):
            await store.replace("a", "p", {})
        again = await store.create("a", "p", {})
        assert again.rev == 3

    trio.run(main_task)
    # The operations ran on worker threads, each with its own connection.
    assert any(thread.ident != main for thread, _ in store._connections)


# -- true concurrency -----------------------------------------------------------------------

RACERS = 12
TRIALS = 5


def race_under_trio(store: Store, id: str) -> list[UpdateResult]:
    """RACERS trio tasks read one document, wait until all have read, then all try the same
    compare-and-set; each store operation runs in a worker thread."""

    async def main() -> list[UpdateResult]:
        await store.create(id, "p", {"owner": None})
        results: list[UpdateResult] = []
        all_read = trio.Event()
        reads = 0

        async def racer(n: int) -> None:
            nonlocal reads
            doc = await store.get(id, "p")
            assert doc is not None
            reads += 1
            if reads == RACERS:
                all_read.set()
            await all_read.wait()
            expected = Expected(etag=doc.etag, rev=doc.rev)
            results.append(await store.update_if_match(id, "p", expected, {"owner": n}))

        async with trio.open_nursery() as nursery:
            for n in range(RACERS):
                nursery.start_soon(racer, n)
        return results

    return trio.run(main)


def test_racing_compare_and_set_from_threads_exactly_one_wins(make_store: MakeStore) -> None:
    store = make_store()
    for trial in range(TRIALS):
        results = race_under_trio(store, f"doc{trial}")
        winners = [r for r in results if isinstance(r, Updated)]
        assert len(winners) == 1, (trial, results)
        assert sum(isinstance(r, Conflict) for r in results) == RACERS - 1
        final = drive(store.get(f"doc{trial}", "p"))
        assert final == winners[0].doc
        assert final.rev == 2


def test_racing_compare_and_set_several_win_on_the_control(make_store: MakeStore) -> None:
    store = ReadCheckWriteStore(make_store())
    wins = [sum(r.ok for r in race_under_trio(store, f"doc{trial}")) for trial in range(TRIALS)]
    assert max(wins) > 1, f"the control never lost an update in {TRIALS} trials: {wins}"


def test_racing_compare_and_set_from_raw_threads(make_store: MakeStore) -> None:
    # Each thread drives its coroutines inline (drive()), so each uses its own connection.
    store = make_store()
    doc = run(store.create("a", "p", {"owner": None}))
    barrier = threading.Barrier(RACERS)

    def racer(n: int) -> UpdateResult:
        seen = drive(store.get("a", "p"))
        assert seen == doc
        barrier.wait()
        result: UpdateResult = drive(
            store.update_if_match("a", "p", Expected(rev=seen.rev), {"owner": n})
        )
        return result

    with ThreadPoolExecutor(RACERS) as pool:
        results = list(pool.map(racer, range(RACERS)))
    assert sum(r.ok for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == RACERS - 1


# -- controlled schedules -----------------------------------------------------------------


def test_random_schedules_find_no_violation(
    make_store: MakeStore, harness_seed: int, harness_pytest_command: str
) -> None:
    result = explore(
        "claim-race",
        "sqlite",
        "random",
        seed=harness_seed,
        budget=200,
        factory=lambda wrap: wrap(make_store()),
        pytest_command=harness_pytest_command,
    )
    assert result.counterexample is None, result.counterexample.render()
    assert result.schedules == 200


def test_random_schedules_find_the_double_assignment_on_the_control(
    make_store: MakeStore, harness_seed: int
) -> None:
    result = explore(
        "claim-race",
        "rcw-sqlite",
        "random",
        seed=harness_seed,
        budget=200,
        factory=lambda wrap: ReadCheckWriteStore(wrap(make_store())),
    )
    assert result.counterexample is not None
    assert "double assignment" in result.counterexample.violations[0]
    assert result.counterexample.trace  # the traced re-run also ran on a fresh file


@pytest.mark.parametrize("size", [2, 3])
def test_exhaustive_search_verifies_the_claim_race(make_store: MakeStore, size: int) -> None:
    result = explore(
        "claim-race",
        "sqlite",
        "exhaustive",
        budget=None,
        size=size,
        factory=lambda wrap: wrap(make_store()),
        check_determinism=True,
    )
    assert result.counterexample is None
    assert result.complete
