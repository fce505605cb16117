"""The conformance kit: a correct backend conforms, every broken store in the zoo is caught,
harmless wrappers are not flagged, and misbehaving stores are findings, not crashes."""

from __future__ import annotations

import io
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from harness.cli import main
from harness.conformance import FactoryError
from harness.conformance import NonConformance
from harness.conformance import load_factory
from harness.conformance import run_store_conformance
from stores import Doc
from stores import MemoryStore
from stores import Store
from stores import fresh_sqlite_stores

from .zoo import BROKEN
from .zoo import HARMLESS
from .zoo import make_garbage
from .zoo import make_hanger
from .zoo import make_raiser

ROOT = Path(__file__).resolve().parents[1]
_catch_times: list[float] = []


@pytest.mark.parametrize("name", list(BROKEN))
def test_every_broken_store_is_caught_by_the_default_suite(name: str) -> None:
    started = time.monotonic()
    result = run_store_conformance(BROKEN[name], name="zoo", raise_on_failure=False)
    _catch_times.append(time.monotonic() - started)
    assert not result.conforms, f"{name} was not caught"
    assert result.failures[0].evidence


@pytest.mark.parametrize("name", list(HARMLESS))
def test_correct_stores_and_harmless_wrappers_conform(name: str) -> None:
    result = run_store_conformance(HARMLESS[name], name="ok", raise_on_failure=False)
    assert result.conforms, result.render()


@pytest.fixture
def sqlite_factory(tmp_path: Path) -> Iterator[Callable[[], Store]]:
    with fresh_sqlite_stores(tmp_path) as make:
        yield make


def test_sqlite_store_passes_the_whole_suite_including_faults(
    sqlite_factory: Callable[[], Store],
) -> None:
    result = run_store_conformance(sqlite_factory, name="sqlite", budget=60, faults=True)
    assert result.conforms
    assert [c.name for c in result.checks][-1] == "faults"


def test_findings_carry_a_replayable_counterexample() -> None:
    with pytest.raises(NonConformance) as caught:
        run_store_conformance(
            BROKEN["read-check-write control"], name="rcw", factory_spec="tests.zoo:make_rcw"
        )
    result = caught.value.result
    exploring = [c for c in result.failures if c.counterexample is not None]
    assert exploring
    cx = exploring[0].counterexample
    assert cx is not None
    assert f"claimcheck replay {cx.token} --factory tests.zoo:make_rcw" in cx.render()


def test_garbage_results_are_reported_with_the_value() -> None:
    result = run_store_conformance(make_garbage, raise_on_failure=False)
    assert (
        "get(a) returned something that is not a stores.Doc: {'id': 'a'}"
        in result.failures[0].evidence
    )


def test_a_store_that_raises_is_a_finding_not_a_crash() -> None:
    result = run_store_conformance(make_raiser, raise_on_failure=False)
    assert "the store raised KeyError" in result.failures[0].evidence
    assert "(in update_if_match(" in result.failures[0].evidence


def test_a_coordinator_error_is_never_labelled_the_store_raised() -> None:
    class Forgetful(MemoryStore):
        """Returns job bodies without their status: the coordinator, not the store, raises."""

        async def get(self, id: str, partition_key: str) -> Doc | None:
            doc = await super().get(id, partition_key)
            if doc is None or doc.body.get("kind") != "job":
                return doc
            return attrs.evolve(doc, body={k: v for k, v in doc.body.items() if k != "status"})

    result = run_store_conformance(Forgetful, raise_on_failure=False)
    blamed = [c.evidence for c in result.failures if "raised" in c.evidence]
    assert blamed, [c.evidence for c in result.failures]
    assert all("the store raised" not in evidence for evidence in blamed)
    assert all("the coordinator raised KeyError: 'status' (fleet/" in e for e in blamed)


def test_a_store_that_hangs_is_reported_by_the_watchdog() -> None:
    result = run_store_conformance(make_hanger, raise_on_failure=False, timeout=0.5)
    assert any("did not return within 0.5 s (hung)" in c.evidence for c in result.failures)


def test_the_suite_checks_the_store_it_was_given_never_a_fork_of_it() -> None:
    # fork() is no part of the Store contract: a MemoryStore subclass's inherited fork()
    # returns a plain MemoryStore, which would hide the subclass's bug from exploration.
    class NoForking(MemoryStore):
        def fork(self) -> MemoryStore:
            raise AssertionError("the conformance suite forked the backend")

    result = run_store_conformance(NoForking, budget=20, faults=True, raise_on_failure=False)
    assert result.conforms, result.render()


def test_load_factory_errors_name_the_problem() -> None:
    with pytest.raises(FactoryError, match="is not MODULE:FACTORY"):
        load_factory("tests.zoo")
    with pytest.raises(FactoryError, match="cannot import module 'no_such_module'"):
        load_factory("no_such_module:make")
    with pytest.raises(FactoryError, match="has no attribute 'nope'"):
        load_factory("tests.zoo:nope")
    with pytest.raises(FactoryError, match="is not callable"):
        load_factory("tests.zoo:BROKEN")


def run_cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def test_cli_conformance_exit_codes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out = run_cli(
        "conformance", "tests.zoo:make_memory", "--budget", "50", "--report-dir", str(tmp_path)
    )
    assert code == 0, out
    assert "tests.zoo:make_memory conforms" in out
    code, out = run_cli(
        "conformance", "tests.zoo:make_rcw", "--budget", "50", "--report-dir", str(tmp_path)
    )
    assert code == 1
    assert (tmp_path / "conformance-make-rcw.html").is_file()
    assert "does NOT conform" in out
    token = re.search(r"claimcheck replay (cc1\.\S+) --factory tests.zoo:make_rcw", out)
    assert token is not None
    code, replayed = run_cli("replay", token.group(1), "--factory", "tests.zoo:make_rcw")
    assert code == 1
    assert "double assignment" in replayed
    code, _ = run_cli("conformance", "tests.zoo:nope")
    assert code == 2
    assert "has no attribute 'nope'" in capsys.readouterr().err


def test_cli_conformance_infrastructure_failure_exits_3(tmp_path: Path) -> None:
    module = tmp_path / "down_backend.py"
    module.write_text(
        "from stores import StoreUnavailable\n"
        "def make():\n"
        "    raise StoreUnavailable('db.example:5432 refused the connection; start the server')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "conformance", "down_backend:make"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={"PYTHONPATH": f"{tmp_path}:{ROOT}", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "refused the connection" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_pytest_plugin_runs_the_suite_per_check(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    ok = pytester.runpytest_subprocess(
        "--harness-store", "tests.zoo:make_memory", "-q", "-p", "no:cacheprovider"
    )
    ok.assert_outcomes(passed=7)
    bad = pytester.runpytest_subprocess(
        "--harness-store", "tests.zoo:make_rcw", "-q", "-p", "no:cacheprovider"
    )
    outcomes = bad.parseoutcomes()
    assert outcomes.get("failed", 0) >= 4
    bad.stdout.fnmatch_lines(["*claimcheck replay cc1.claim-race*"])


def test_mutation_score_is_complete() -> None:
    caught = sum(
        not run_store_conformance(f, raise_on_failure=False).conforms for f in BROKEN.values()
    )
    assert caught == len(BROKEN)
    if _catch_times:
        assert statistics.median(_catch_times) >= 0
