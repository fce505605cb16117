"""The ``claimcheck`` command: exit codes, reproducers and one-line errors."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def test_focused_run_on_the_control_exits_1_with_a_reproducer() -> None:
    code, out = run(
        "run",
        "--store",
        "rcw-memory",
        "--scenario",
        "claim-race",
        "--scheduler",
        "random",
        "--seed",
        "4",
    )
    assert code == 1
    assert "double assignment" in out
    token = re.search(r"claimcheck replay (cc1\.\S+)", out)
    assert token is not None
    # The printed replay command reproduces the same violation.
    code2, out2 = run("replay", token.group(1))
    assert code2 == 1
    assert "double assignment: job j1 epoch 1" in out2


def test_focused_run_on_memory_exits_0() -> None:
    code, out = run("run", "--store", "memory", "--scenario", "zombie-lease", "--budget", "200")
    assert code == 0, out
    assert "memory zombie-lease random: 200 schedules, no violation" in out
    assert re.search(r"exhaustive: \d+ schedules \(complete\), no violation", out)


def test_seed_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_SEED", "4")
    env_code, env_out = run(
        "run", "--store", "rcw-memory", "--scenario", "claim-race", "--scheduler", "pct"
    )
    flag_code, flag_out = run(
        "run",
        "--store",
        "rcw-memory",
        "--scenario",
        "claim-race",
        "--scheduler",
        "pct",
        "--seed",
        "4",
    )
    assert env_code == flag_code == 1
    assert env_out == flag_out


def test_check_determinism_mode_passes_on_memory() -> None:
    code, out = run(
        "run",
        "--store",
        "memory",
        "--scenario",
        "multi-job",
        "--scheduler",
        "random",
        "--budget",
        "50",
        "--check-determinism",
    )
    assert code == 0, out


def test_scenarios_and_stores_are_listed() -> None:
    code, out = run("scenarios")
    assert code == 0
    for name in ("claim-race", "zombie-lease", "complete-after-expiry", "multi-job"):
        assert name in out
    code, out = run("stores")
    assert code == 0
    assert "rcw-memory" in out
    assert "control (must fail)" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["replay", "cc1.claim-race.memory.2"], "4 dot-separated parts"),
        (["replay", "cc9.claim-race.memory.2.01"], "format 'cc9'"),
        (["replay", "cc1.claim-race.memory.2.0111111"], "the schedule"),
        (["replay", "cc1.nope.memory.2.01"], "unknown scenario 'nope'"),
        (["replay", "cc1.claim-race.nope.2.01"], "unknown store 'nope'"),
        (["run", "--store", "postgres"], "unknown store 'postgres'"),
        (["run", "--scenario", "nope"], "unknown scenario 'nope'"),
        (["run", "--scheduler", "dfs"], "unknown scheduler 'dfs'"),
        (["run", "--scenario", "claim-race", "--size", "5000"], "--size 5000 is out of range"),
        (["run", "--scenario", "claim-race", "--size", "1"], "--size 1 is out of range"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run(*argv)
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["run", "--seed", "abc"], "'abc' is not a whole number"),
        (["run", "--budget", "0"], "'0' must be at least 1"),
        ([], "required: COMMAND"),
    ],
)
def test_usage_errors_exit_2_in_one_line(argv: list[str], message: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "harness", *argv], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert message in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr


def test_bad_harness_seed_environment_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HARNESS_SEED", "twelve")
    code, _ = run("run", "--store", "memory", "--scenario", "claim-race")
    assert code == 2
    assert "HARNESS_SEED='twelve'" in capsys.readouterr().err


def test_main_job_passes_correct_stores_and_catches_controls(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The in-process stores here; sqlite and cosmos run the same battery in their own tests.
    monkeypatch.setattr(
        "harness.cli._main.DEFAULT_STORES",
        ("memory", "rcw-memory", "faulty-memory", "naive-faulty-memory"),
    )
    code, out = run("run", "--report-dir", str(tmp_path))
    assert code == 0, out
    assert (tmp_path / "main-job.html").is_file()
    assert (tmp_path / "main-job.json").is_file()
    assert f"report: {tmp_path / 'main-job.html'}" in out
    assert re.search(r"memory\s+exhaustive claim-race\s+pass", out)
    assert re.search(r"rcw-memory\s+trio claim-race x2\s+caught", out)
    # A user's coordinator (examples.lease_coordinator) and its read-check-write control.
    assert re.search(r"memory/lease-coordinator\s+exhaustive claim-race\s+pass", out)
    assert re.search(r"memory/naive-lease-coordinator\s+random zombie-lease\s+caught", out)
    assert "MISSED" not in out
    assert "FAIL" not in out
    assert "correct stores pass, controls caught" in out


def test_importing_harness_pulls_in_neither_pytest_nor_azure_nor_hypothesis() -> None:
    code = (
        "import sys, harness, harness.cli; "
        "print(sorted(m for m in ('pytest', 'azure', 'hypothesis') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


def test_cosmos_endpoint_that_cannot_start_is_exit_3_in_one_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "run", "--store", "cosmos", "--scenario", "claim-race"],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/nonexistent"},  # no node: the embedded endpoint cannot start
    )
    assert proc.returncode == 3
    assert "infrastructure failure" in proc.stderr
    assert "node" in proc.stderr
    assert "log:" in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr


def test_unreachable_cosmos_account_is_exit_3() -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        # A closed loopback port: nothing listens there.
        "COSMOS_ENDPOINT": "https://127.0.0.1:9/",
        "COSMOS_KEY": "c2VjcmV0LWtleS1mb3ItdGVzdHM=",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "run", "--store", "cosmos", "--scenario", "claim-race"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 3, proc.stderr
    assert "127.0.0.1:9" in proc.stderr
    assert "c2VjcmV0LWtleS1mb3ItdGVzdHM=" not in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr


def test_an_unusable_report_directory_is_bad_input_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_a_dir = tmp_path / "report.txt"
    not_a_dir.write_text("a file where the report directory should be")
    code, out = run("run", "--report-dir", str(not_a_dir / "reports"))
    assert code == 2
    assert "claimcheck main job" not in out  # nothing ran
    err = capsys.readouterr().err
    assert f"--report-dir '{not_a_dir / 'reports'}' is not a writable directory" in err
    assert err.count("\n") == 1


def test_the_verdict_is_printed_before_the_report_is_written(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("harness.cli._main.DEFAULT_STORES", ("memory", "rcw-memory"))

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("harness.cli._main.write_report", broken)
    code, out = run("run", "--report-dir", str(tmp_path))
    assert code == 0, out
    assert "checks as expected" in out
    assert "the report could not be written" in capsys.readouterr().err


@pytest.mark.parametrize("store", ["memory", "faulty-memory"])
def test_a_plain_command_never_pairs_a_strategy_with_a_store_it_cannot_drive(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Every strategy, exhaustive included, drives every backend: fault choices are enumerated.
    code, out = run("run", "--store", store, "--scenario", "claim-race", "--budget", "50")
    assert code == 0, out
    assert f"{store} claim-race exhaustive:" in out
    assert "internal error" not in capsys.readouterr().err
