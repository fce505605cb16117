"""The store contract on SqliteStore: sequential behaviour, true concurrency from threads, and
controlled schedules (each on a fresh database file under ``tmp_path``)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import trio

from harness import drive
from harness import explore
from stores import Conflict
from stores import Doc
from stores import DocumentExists
from stores import DocumentNotFound
from stores import Expected
from stores import ReadCheckWriteStore
from stores import SqliteStore
from stores import SqliteUnavailable
from stores import Store
from stores import StoreMisuse
from stores import StoreUnavailable
from stores import Updated
from stores import UpdateResult
from stores import fresh_sqlite_stores

from .contract_suite import *  # noqa: F403  (the shared sequential contract tests)
from .contract_suite import run

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


# -- sequential contract -------------------------------------------------------------------


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
    assert "double assignment" in result.counterexample.violations[0].sentence
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
