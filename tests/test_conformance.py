"""The conformance kit: a correct backend conforms, every broken store in the zoo is caught,
harmless wrappers are not flagged, and misbehaving stores are findings, not crashes."""

from __future__ import annotations

import io
import re
import shlex
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
from harness.conformance import CHECKS
from harness.conformance import FactoryError
from harness.conformance import NonConformance
from harness.conformance import load_factory
from harness.conformance import run_store_conformance
from stores import Doc
from stores import MemoryStore
from stores import Store
from stores import fresh_sqlite_stores

from . import bad_factories
from .zoo import BROKEN
from .zoo import HARMLESS
from .zoo import make_exiter
from .zoo import make_garbage
from .zoo import make_hanger
from .zoo import make_raiser

ROOT = Path(__file__).resolve().parents[1]
#: Generous: a command that works ends in seconds; one that hangs would never end.
ENDS_WITHIN = 60
_catch_times: list[float] = []


#: The per-operation timeout for zoo runs: a hang is reported after it, not after ten seconds.
ZOO_TIMEOUT = 1.0


@pytest.mark.parametrize("name", list(BROKEN))
def test_every_broken_store_is_caught_by_the_default_suite(name: str) -> None:
    started = time.monotonic()
    result = run_store_conformance(
        BROKEN[name], name="zoo", raise_on_failure=False, timeout=ZOO_TIMEOUT
    )
    _catch_times.append(time.monotonic() - started)
    assert not result.conforms, f"{name} was not caught"
    assert result.failures[0].evidence
    # Every failure comes with a way to see it again: a schedule to replay, or commands.
    assert all(c.counterexample is not None or c.reproducer for c in result.failures)


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
    assert (tmp_path / "conformance-tests-zoo-make-rcw.html").is_file()
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


def claimcheck(*argv: str, cwd: Path = ROOT) -> tuple[subprocess.CompletedProcess[str], float]:
    """``claimcheck ARGV`` in a fresh process (the only way to see that it exits at all)."""
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "harness", *argv],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env={"PYTHONPATH": f"{cwd}:{ROOT}", "PATH": "/usr/bin:/bin"},
        timeout=ENDS_WITHIN,
    )
    return proc, time.monotonic() - started


BAD_FACTORIES = {
    "needs_an_argument": "cannot be called: TypeError: needs_an_argument() missing 1 required",
    "raises": "cannot be called: RuntimeError: no config file at /etc/mystore.toml",
    "exits": "called sys.exit(7) while being called; a store factory must return a store",
    "returns_none": "returned None, not a store",
    "returns_an_int": "returned 42 (int), which is not a store",
    "returns_half_a_store": "which is not a store: it has no replace, update_if_match, delete, "
    "list_partition",
    "returns_the_class": "returned the class MemoryStore, not a store",
    "is_async": "returned a coroutine (an async factory)",
}


@pytest.mark.parametrize("factory", list(BAD_FACTORIES))
def test_a_bad_factory_is_bad_input_exit_2_with_one_line_naming_it(
    factory: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    spec = f"tests.bad_factories:{factory}"
    code, out = run_cli("conformance", spec, "--report-dir", str(tmp_path))
    err = capsys.readouterr().err
    assert code == 2, out + err
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith(f"claimcheck: error: the factory {spec} "), err
    assert BAD_FACTORIES[factory] in err
    assert not list(tmp_path.iterdir()), "a bad factory wrote a report"


def test_a_module_that_exits_on_import_is_bad_input_exit_2(tmp_path: Path) -> None:
    (tmp_path / "exits_on_import.py").write_text("import sys\nsys.exit(5)\n")
    proc, _ = claimcheck("conformance", "exits_on_import:make", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "claimcheck: error: module 'exits_on_import' of the store factory exits_on_import:make "
        "called sys.exit(5) while being imported; a store factory must return a store"
    ]


def test_a_factory_that_exits_ends_the_command_with_exit_2_not_its_own_code() -> None:
    proc, _ = claimcheck("conformance", "tests.bad_factories:exits")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.splitlines() == [
        "claimcheck: error: the factory tests.bad_factories:exits called sys.exit(7) while being "
        "called; a store factory must return a store"
    ]


def test_a_factory_that_hangs_on_its_first_call_is_exit_2_and_the_process_ends() -> None:
    proc, took = claimcheck("conformance", "tests.bad_factories:hangs", "--timeout", "0.5")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.splitlines() == [
        "claimcheck: error: the factory tests.bad_factories:hangs did not return within 0.5 s "
        "(hung) when called once before the checks; a store factory must return a store within "
        "the per-operation timeout (0.5 s)"
    ]
    assert took < 20


def test_a_factory_that_hangs_on_a_later_call_is_a_finding_and_the_process_ends(
    tmp_path: Path,
) -> None:
    spec = "tests.bad_factories:hangs_after_first_call"
    proc, took = claimcheck(
        "conformance", spec, "--timeout", "0.3", "--budget", "10", "--report-dir", str(tmp_path)
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"the factory {spec} did not return within 0.3 s (hung)" in proc.stdout
    assert took < ENDS_WITHIN / 2


def test_a_bad_factory_raises_factory_error_before_any_check_runs() -> None:
    seen: list[str] = []
    with pytest.raises(FactoryError, match="it has no replace, update_if_match, delete"):
        run_store_conformance(
            bad_factories.returns_half_a_store, on_check=lambda c: seen.append(c.name)
        )
    assert seen == []
    with pytest.raises(FactoryError, match=r"the factory hangs did not return within 0.2 s"):
        run_store_conformance(bad_factories.hangs, timeout=0.2)


@pytest.mark.parametrize(
    ("later", "evidence"),
    [
        (bad_factories.raises, "raised RuntimeError: no config file at /etc/mystore.toml"),
        (bad_factories.exits, "called sys.exit(7) on a later call"),
        (bad_factories.returns_none, "returned None, not a store"),
    ],
)
def test_a_factory_that_fails_after_making_a_store_is_a_finding(
    later: Callable[[], Store], evidence: str
) -> None:
    result = run_store_conformance(
        bad_factories.good_once_then(later), budget=10, raise_on_failure=False
    )
    assert not result.conforms
    assert not result.infrastructure_failed
    for check in result.failures:
        assert check.evidence.startswith("the factory good_once_then.<locals>.make "), check
        assert evidence in check.evidence
        assert "the store raised" not in check.evidence


def test_a_store_that_calls_sys_exit_is_a_finding_not_the_end_of_the_run() -> None:
    result = run_store_conformance(make_exiter, budget=10, raise_on_failure=False)
    # Every check that calls get fails (the create races never do); the run goes on to the end.
    assert len(result.checks) == len(CHECKS) - 1
    assert len(result.failures) >= len(result.checks) - 2
    assert all("the store called sys.exit(3) (in get(" in c.evidence for c in result.failures)


def test_reports_of_factories_with_the_same_name_do_not_overwrite_each_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in ("team_a_backend", "team_b_backend"):
        (tmp_path / f"{module}.py").write_text(
            "from stores import MemoryStore\ndef make_store():\n    return MemoryStore()\n"
        )
    monkeypatch.syspath_prepend(str(tmp_path))
    reports = tmp_path / "reports"
    for module in ("team_a_backend", "team_b_backend"):
        code, out = run_cli(
            "conformance", f"{module}:make_store", "--budget", "10", "--report-dir", str(reports)
        )
        assert code == 0, out
    assert sorted(p.name for p in reports.iterdir()) == [
        "conformance-team-a-backend-make-store.html",
        "conformance-team-a-backend-make-store.json",
        "conformance-team-b-backend-make-store.html",
        "conformance-team-b-backend-make-store.json",
    ]


def test_the_printed_replay_command_works_when_pasted(tmp_path: Path) -> None:
    code, out = run_cli(
        "conformance", "tests.zoo:make_rcw", "--budget", "50", "--report-dir", str(tmp_path)
    )
    assert code == 1
    pasted = [line.strip() for line in out.splitlines() if "claimcheck replay" in line]
    assert pasted
    for command in pasted:
        argv = shlex.split(command)
        assert argv[0] == "claimcheck"
        assert argv[-2:] == ["--factory", "tests.zoo:make_rcw"]
        code, replayed = run_cli(*argv[1:])
        assert code == 1, (command, replayed)
        assert "claimcheck finding:" in replayed
        # ... and the replay's own reproducer names the factory again, so it pastes too.
        again = [line.strip() for line in replayed.splitlines() if "claimcheck replay" in line]
        assert again
        assert all(line.endswith("--factory tests.zoo:make_rcw") for line in again)


def test_pytest_plugin_runs_the_suite_per_check(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    ok = pytester.runpytest_subprocess(
        "--harness-store", "tests.zoo:make_memory", "-q", "-p", "no:cacheprovider"
    )
    ok.assert_outcomes(passed=len(CHECKS) - 1)  # every check but "faults"
    bad = pytester.runpytest_subprocess(
        "--harness-store", "tests.zoo:make_rcw", "-q", "-p", "no:cacheprovider"
    )
    outcomes = bad.parseoutcomes()
    assert outcomes.get("failed", 0) >= 4
    bad.stdout.fnmatch_lines(["*claimcheck replay cc1.claim-race*"])


def test_mutation_score_is_complete() -> None:
    caught = sum(
        not run_store_conformance(f, raise_on_failure=False, timeout=ZOO_TIMEOUT).conforms
        for f in BROKEN.values()
    )
    assert caught == len(BROKEN)
    if _catch_times:
        assert statistics.median(_catch_times) >= 0


@pytest.mark.parametrize(
    "factory", ["tests.bad_factories:exits", "tests.bad_factories:returns_none"]
)
def test_replay_with_a_bad_factory_is_bad_input_exit_2(
    factory: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["replay", "cc1.claim-race.x.2.1101", "--factory", factory], out=io.StringIO())
    assert code == 2
    err = capsys.readouterr().err
    assert factory in err
    assert err.count("\n") == 1
