"""Every finding is shrunk; failures are remembered and replayed first."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from harness import explore
from harness import replay
from harness.explore import CheckRow
from harness.explore import FailureDatabase
from harness.explore import default_database
from harness.report import write_report
from stores import MemoryStore
from stores import ReadCheckWriteStore
from stores import Store


def test_a_multi_job_finding_is_printed_shrunk_with_its_original_kept() -> None:
    lengths = []
    for seed in range(20):
        cx = explore("multi-job", "rcw-memory", "random", seed=seed, budget=200).counterexample
        assert cx is not None
        assert cx.original is not None, seed
        assert len(cx.trace) <= len(cx.original.trace)
        assert cx.size <= cx.original.size
        assert cx.violations[0].kind == cx.original.violations[0].kind
        again = replay(cx.token)  # the printed token replays the shrunk finding exactly
        assert again is not None
        assert again.violations == cx.violations
        lengths.append(len(cx.trace))
    assert statistics.median(lengths) <= 12, lengths


@pytest.mark.parametrize("strategy", ["random", "pct", "exhaustive"])
def test_ten_claimers_are_caught_by_every_strategy_and_shrunk_to_two(strategy: str) -> None:
    result = explore("claim-race", "rcw-memory", strategy, size=10, budget=2000)
    cx = result.counterexample
    assert cx is not None
    assert cx.violations[0].kind == "double-assignment"
    assert cx.size == 2
    assert cx.original is not None
    assert cx.original.size == 10
    assert "cut down to actors" in cx.render()


def test_shrinking_can_be_turned_off() -> None:
    cx = explore("multi-job", "rcw-memory", "random", seed=0, budget=200, shrink=False)
    assert cx.counterexample is not None
    assert cx.counterexample.original is None
    assert cx.counterexample.scenario == "multi-job"


def test_the_json_report_keeps_the_original(tmp_path: Path) -> None:
    cx = explore("claim-race", "rcw-memory", "random", size=6, budget=100).counterexample
    assert cx is not None
    assert cx.original is not None
    row = CheckRow(
        store="rcw-memory", control=True, check="c", failed=True, evidence="e", counterexample=cx
    )
    json_path, _ = write_report([row], name="r", directory=tmp_path, title="t", meta={})
    data = json.loads(json_path.read_text("utf-8"))["counterexamples"][0]
    assert data["original"]["size"] == 6
    assert data["size"] == 2
    assert data["original"]["token"] == cx.original.token


def test_a_saved_failure_is_replayed_first_on_any_seed_and_strategy(tmp_path: Path) -> None:
    database = FailureDatabase(tmp_path)
    first = explore("zombie-lease", "rcw-memory", "random", seed=1, budget=200, database=database)
    assert first.counterexample is not None
    assert not first.counterexample.from_database
    key = database.key("zombie-lease", "rcw-memory", 3)
    assert database.fetch(key) == [first.counterexample.token]
    again = explore("zombie-lease", "rcw-memory", "pct", seed=99, budget=200, database=database)
    assert again.counterexample is not None
    assert again.counterexample.from_database
    assert again.schedules == 0
    assert again.counterexample.violations == first.counterexample.violations
    assert "replayed first from the failure database" in again.counterexample.render()


def test_a_fixed_bug_drops_out_of_the_database(tmp_path: Path) -> None:
    database = FailureDatabase(tmp_path)
    fixed = False

    def factory(wrap: object) -> Store:
        store = MemoryStore() if fixed else ReadCheckWriteStore(MemoryStore())
        return wrap(store)  # type: ignore[operator,no-any-return]

    found = explore("claim-race", "mine", "random", budget=50, factory=factory, database=database)
    assert found.counterexample is not None
    key = database.key("claim-race", "mine", 2)
    assert database.fetch(key)
    fixed = True
    after = explore("claim-race", "mine", "random", budget=50, factory=factory, database=database)
    assert after.counterexample is None
    assert after.schedules == 50  # explored afresh once the saved failure passed
    assert database.fetch(key) == []


def test_a_token_that_no_longer_replays_is_dropped(tmp_path: Path) -> None:
    database = FailureDatabase(tmp_path)
    key = database.key("claim-race", "memory", 2)
    database.save(key, "cc1.claim-race.memory.2.0")  # too short for any run of the race
    database.save(key, "not a token")
    result = explore("claim-race", "memory", "random", budget=10, database=database)
    assert result.counterexample is None
    assert database.fetch(key) == []


def test_the_database_can_be_turned_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CLAIMCHECK_DATABASE", "off")
    assert default_database() is None
    monkeypatch.setenv("CLAIMCHECK_DATABASE", str(tmp_path))
    database = default_database()
    assert database is not None
    assert database.root == tmp_path
