"""What backend authors really get wrong, caught: one broken store per class (``tests.zoo``),
each caught by the check its docstring names, with evidence and a reproducer."""

from __future__ import annotations

import io
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.cli import main
from harness.conformance import ConformanceCheck
from harness.conformance import ConformanceResult
from harness.conformance import run_store_conformance
from harness.explore import explore
from stores import ReadCheckWriteStore
from stores import Store
from stores import StoreWrapper

from .zoo import BROKEN
from .zoo import CAUGHT_BY
from .zoo import MislabelledWrites

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 1.0


def failed(name: str, **options: object) -> tuple[ConformanceResult, ConformanceCheck]:
    """Run the suite on the zoo store ``name``; its result and the check that must catch it."""
    result = run_store_conformance(
        BROKEN[name],
        raise_on_failure=False,
        timeout=TIMEOUT,
        **options,  # type: ignore[arg-type]
    )
    [check] = [c for c in result.checks if c.name == CAUGHT_BY[name]]
    assert not check.passed, result.render()
    return result, check


@pytest.mark.parametrize("name", list(BROKEN))
def test_each_broken_store_is_caught_by_the_check_its_docstring_names(name: str) -> None:
    _, check = failed(name)
    assert check.evidence
    assert check.counterexample is not None or check.reproducer
    doc = BROKEN[name].__doc__ or type(BROKEN[name]()).__doc__ or ""
    assert f"``{check.name}``" in " ".join(doc.split())


def test_a_check_then_insert_create_is_caught_under_threads_and_under_schedules() -> None:
    result, threads = failed("create checks, then inserts")
    assert "concurrent creates of one id succeeded" in threads.evidence
    [schedules] = [c for c in result.checks if c.name == "create race (schedules)"]
    assert not schedules.passed
    assert schedules.counterexample is not None
    assert "enqueue(j1) -> enqueued" in schedules.evidence


def test_create_races_cover_ids_with_separators() -> None:
    # Atomic for "j1", not for "j1~run~1": a race on plain ids alone would pass it.
    result, check = failed("derived ids: check, then insert")
    assert check.counterexample is not None
    assert "j1~run~1" in check.evidence
    [threads] = [c for c in result.checks if c.name == "create race (threads)"]
    assert "id 'j1~run~1'" in threads.evidence


def test_the_printed_replay_of_a_create_race_reproduces_it(tmp_path: Path) -> None:
    out = io.StringIO()
    spec = "tests.zoo:make_check_then_insert"
    code = main(["conformance", spec, "--report-dir", str(tmp_path)], out=out)
    assert code == 1
    commands = [
        line.strip()
        for line in out.getvalue().splitlines()
        if line.strip().startswith("claimcheck replay cc1.x-")
    ]
    assert commands, out.getvalue()
    argv = shlex.split(commands[0])
    assert argv[-2:] == ["--factory", spec]
    replayed = io.StringIO()
    assert main(argv[1:], out=replayed) == 1
    assert "not linearizable" in replayed.getvalue()


@pytest.mark.parametrize(
    ("name", "token"),
    [("etag is a hash of the body (ABA)", "etag"), ("rev restarts per incarnation (ABA)", "rev")],
)
def test_token_reuse_after_delete_and_re_create_is_caught_for_each_token(
    name: str, token: str
) -> None:
    _, check = failed(name)
    assert f"{token} after delete and re-create" in check.evidence
    assert "(ABA)" in check.evidence


def test_an_unconditional_replace_that_keeps_the_etag_is_caught() -> None:
    _, check = failed("replace keeps the etag")
    assert "replace kept the etag" in check.evidence


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("keeps the caller's body", "the caller changed the body it passed to create"),
        ("hands out its own bodies", "the caller changed the body create returned"),
    ],
)
def test_bodies_are_isolated_on_the_way_in_and_out(name: str, said: str) -> None:
    _, check = failed(name)
    assert said in check.evidence


def test_the_program_of_a_failed_case_reproduces_it() -> None:
    _, check = failed("keeps the caller's body")
    program = list(check.reproducer[check.reproducer.index("import trio") :])
    assert program[-1].startswith("# the contract broken:")
    namespace: dict[str, object] = {"make_store": BROKEN["keeps the caller's body"]}
    exec("\n".join(program), namespace)  # the calls the case made run as printed


def test_partitions_that_a_careless_key_encoding_merges_are_caught() -> None:
    _, check = failed("flat keys, prefix listing")
    assert re.search(r"DocumentExists|list_partition\('p'\) gave", check.evidence), check.evidence


def test_a_pool_that_leaks_on_conflict_is_caught_at_the_call_that_hangs() -> None:
    _, check = failed("pool leak on conflict (hangs at call N)")
    assert "did not return within 1 s (hung)" in check.evidence
    assert re.search(r"endurance: operation #\d+ of 2000", check.evidence), check.evidence


def test_a_file_descriptor_leak_is_caught_by_its_growth() -> None:
    _, check = failed("leaks a file per write")
    assert "open file descriptors grew" in check.evidence


def test_a_deadlock_under_true_concurrency_names_every_operation_in_flight() -> None:
    _, check = failed("nested pool checkout (deadlock)")
    assert "(hung); 12 operations were in flight: get(race) x12" in check.evidence


def test_a_deadlocked_store_cannot_keep_the_command_from_ending(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness",
            "conformance",
            "tests.zoo:make_nested_checkout",
            "--timeout",
            "0.5",
            "--budget",
            "10",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=120,  # the hung worker threads are daemons: the process ends by itself
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "operations were in flight" in proc.stdout


def test_mislabelled_writes_are_non_conforming_and_the_exhaustive_check_is_not_complete() -> None:
    result, check = failed("writes labelled as reads")
    assert "dishonest scheduling labels" in check.evidence
    assert "wrote, but labelled each of its scheduling points as a read" in check.evidence
    [exhaustive] = [c for c in result.checks if c.name == "exhaustive schedules"]
    assert not exhaustive.passed
    assert "cannot be trusted" in exhaustive.evidence


def test_mislabelled_labels_really_hide_a_race_from_an_exhaustive_search() -> None:
    # Why labels are checked: over a racy store that labels its writes as reads, an
    # exhaustive search with reduction finds nothing and says "complete".
    class Unforked(StoreWrapper):
        forkable = False  # MemoryStore.fork() would return a plain, honest MemoryStore

    def racy(wrap: Callable[[Store], Store]) -> Store:
        return Unforked(ReadCheckWriteStore(wrap(MislabelledWrites())))

    searched = explore("claim-race", "liar", "exhaustive", budget=200, factory=racy)
    assert searched.counterexample is None
    assert searched.complete
    result = run_store_conformance(
        lambda: ReadCheckWriteStore(MislabelledWrites()), raise_on_failure=False, timeout=TIMEOUT
    )
    failures = {c.name for c in result.failures}
    assert {"scheduling labels", "exhaustive schedules", "random schedules"} <= failures


def test_an_effect_made_outside_its_point_is_caught_by_the_unreduced_search() -> None:
    _, check = failed("effect before its point")
    assert "the search without reduction reached" in check.evidence
