"""The conformance harness itself: the watchdog sees every call in flight, pieces run side by
side without changing the verdict, every store made is released, traces of stores with several
points per call line up, and failures print their evidence and reproducer and nothing else."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
import trio

from harness.cli import main
from harness.conformance import run_store_conformance
from harness.conformance._watchdog import Watch
from harness.explore import adhoc_scenario
from harness.explore import explore
from models import Enqueue
from models import FleetState
from stores import MemoryStore
from stores import SqliteStore
from stores import Store
from stores import StoreWrapper

from . import zoo

ROOT = Path(__file__).resolve().parents[1]


def test_the_watch_names_every_call_in_flight_not_only_the_last_one() -> None:
    watch = Watch()
    watch.start("get(a)")
    finished = watch.start("get(b)")
    watch.start("update_if_match(a)")
    watch.finish(finished)  # one racer returning must not hide the two still in flight
    late = watch.overdue(-1.0)
    assert late is not None
    assert late.startswith("get(a) did not return within -1 s (hung); 2 operations were in")
    assert "get(a), update_if_match(a)" in late
    assert watch.overdue(3600.0) is None


@pytest.mark.parametrize("factory", [zoo.make_rcw, zoo.make_check_then_insert, zoo.make_memory])
def test_the_verdict_of_a_seed_does_not_depend_on_how_many_stores_run_at_once(
    factory: Callable[[], Store],
) -> None:
    def run(workers: int) -> list[tuple[str, bool, str, str | None, int | None]]:
        result = run_store_conformance(
            factory, seed=7, budget=60, workers=workers, raise_on_failure=False
        )
        return [
            (
                c.name,
                c.passed,
                c.evidence if c.name not in _TIMED else "",
                None if c.counterexample is None else c.counterexample.token,
                c.schedules,
            )
            for c in result.checks
        ]

    assert run(1) == run(4)


#: Checks whose evidence counts what true concurrency did (which racers won, fds, threads).
_TIMED = {"atomicity (threads)", "create race (threads)", "endurance"}


def test_every_store_the_factory_makes_is_closed_and_never_used_after() -> None:
    before = zoo.Closable.CLOSED
    result = run_store_conformance(zoo.make_closable, budget=40, faults=True)
    assert result.conforms  # a closed store raises StoreMisuse: nothing used one
    assert result.stores_made > 100
    assert result.stores_released == result.stores_made
    assert zoo.Closable.CLOSED - before == result.stores_made + 1  # and the probe's store


def test_a_context_manager_factory_is_entered_and_exited_once_per_store() -> None:
    entered, exited = zoo.CONTEXTS["entered"], zoo.CONTEXTS["exited"]
    result = run_store_conformance(zoo.make_in_context, budget=20)  # type: ignore[arg-type]
    assert result.conforms
    assert zoo.CONTEXTS["entered"] - entered == result.stores_made + 1
    assert zoo.CONTEXTS["exited"] - exited == zoo.CONTEXTS["entered"] - entered


def test_a_store_over_temporary_files_leaves_none_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result = run_store_conformance(SqliteStore.temporary, budget=20)
    assert result.stores_made > 50
    assert os.listdir(tmp_path) == []


class _Unforked(StoreWrapper):
    forkable = False  # a MemoryStore subclass forks into a plain MemoryStore


def test_traces_of_stores_with_two_points_per_call_line_up_with_their_actors() -> None:
    scenario = adhoc_scenario(FleetState(), [(f"c{i}", [Enqueue(job_id="j1")]) for i in range(3)])
    result = explore(
        scenario.name,
        "zoo",
        "exhaustive",
        budget=50,
        factory=lambda wrap: wrap(_Unforked(zoo.CheckThenInsert())),
    )
    assert result.counterexample is not None
    steps = [line.split(None, 2) for line in result.counterexample.trace]
    assert all(len(step) == 3 for step in steps), steps  # no empty rows
    completed = [(actor, text) for _, actor, text in steps if text.startswith("create(j1) ->")]
    # One line per create, on the actor that made it; the final read of the state is no step.
    assert sorted(actor for actor, _ in completed) == sorted({actor for _, actor, _ in steps})
    assert len(completed) >= 2
    assert not any("list(jobs)" in text for _, _, text in steps)
    assert any("(passed its point get(j1); the call goes on)" in text for _, _, text in steps)


def test_a_failure_without_a_schedule_prints_commands_and_a_program(tmp_path: Path) -> None:
    out = io.StringIO()
    spec = "tests.zoo:make_etag_from_body"
    assert main(["conformance", spec, "--report-dir", str(tmp_path)], out=out) == 1
    text = out.getvalue()
    assert "tokens: etag after delete and re-create" in text
    assert f"    claimcheck conformance {spec} --seed 0" in text
    assert "    from tests.zoo import make_etag_from_body as make_store" in text
    assert "    trio.run(store.create, 'd', 'p', {'v': 1})" in text


def test_the_pytest_plugin_shows_the_evidence_and_reproducer_and_nothing_else(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    result = pytester.runpytest_subprocess(
        "--harness-store", "tests.zoo:make_flat_keys", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(failed=2, passed=12)
    text = result.stdout.str()
    assert "partition isolation" in text
    assert "reproduce with:" in text
    assert "claimcheck conformance tests.zoo:make_flat_keys --seed" in text
    for internals in ("def runtest", "pytest_plugin.py", "get_cached_result", "raise CheckFailed"):
        assert internals not in text


@pytest.mark.parametrize("store", [MemoryStore, SqliteStore.temporary])
def test_shipped_stores_copy_bodies_in_and_never_hand_out_their_own(
    store: Callable[[], Store],
) -> None:
    result = run_store_conformance(store, checks=["body isolation", "partition isolation"])
    assert result.conforms


def test_only_the_named_checks_run_and_unknown_names_are_refused() -> None:
    result = run_store_conformance(MemoryStore, checks=["tokens"])
    assert [c.name for c in result.checks] == ["tokens"]
    with pytest.raises(ValueError, match="unknown check"):
        run_store_conformance(MemoryStore, checks=["nope"])


def test_endurance_reports_the_growth_of_descriptors_and_threads() -> None:
    result = run_store_conformance(MemoryStore, checks=["endurance"])
    [check] = result.checks
    assert "2000 operations on one store" in check.evidence
    assert "open fds" in check.evidence
    assert "threads" in check.evidence


class _AsyncClosing(MemoryStore):
    """Closes with ``await store.aclose()`` (an async client's way)."""

    closed = 0

    async def aclose(self) -> None:
        await trio.lowlevel.checkpoint()
        _AsyncClosing.closed += 1


def test_an_async_close_is_awaited_for_every_store() -> None:
    before = _AsyncClosing.closed
    result = run_store_conformance(_AsyncClosing, checks=["sequential contract", "tokens"])
    assert result.conforms
    assert _AsyncClosing.closed - before == result.stores_made + 1


class _CloseRaises(MemoryStore):
    def close(self) -> None:
        raise OSError("the connection pool is already shut down")


def test_a_close_that_raises_is_a_finding_about_the_backend() -> None:
    result = run_store_conformance(_CloseRaises, checks=["tokens"], raise_on_failure=False)
    [check] = result.checks
    assert not check.passed
    assert not check.infrastructure
    assert "(its close(), aclose() or context exit) raised OSError: the connection pool" in (
        check.evidence
    )
