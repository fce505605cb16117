"""The pytest plugin: seed option, environment variable, header, and xdist agreement."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SEED_PROBE = """
import json, os
import pytest

@pytest.mark.parametrize("i", range(6))
def test_probe(i, harness_seed, harness_base_seed, harness_pytest_command):
    path = os.path.join(os.environ["PROBE_DIR"], f"seed-{i}.json")
    with open(path, "w") as f:
        json.dump({"seed": harness_seed, "base": harness_base_seed, "cmd": harness_pytest_command}, f)
"""


def seeds(pytester: pytest.Pytester) -> dict[int, dict[str, object]]:
    out = {}
    for i in range(6):
        out[i] = json.loads((pytester.path / "probe" / f"seed-{i}.json").read_text())
    return out


@pytest.fixture
def probe(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.makepyfile(test_probe=SEED_PROBE)
    (pytester.path / "probe").mkdir()
    monkeypatch.setenv("PROBE_DIR", str(pytester.path / "probe"))
    monkeypatch.delenv("HARNESS_SEED", raising=False)
    return pytester


def test_seed_option_is_in_the_header_and_derived_per_test(probe: pytest.Pytester) -> None:
    result = probe.runpytest_subprocess("--harness-seed", "42")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["claimcheck: --harness-seed=42"])
    got = seeds(probe)
    assert {g["base"] for g in got.values()} == {42}
    assert len({g["seed"] for g in got.values()}) == 6
    assert "--harness-seed 42" in str(got[0]["cmd"])
    assert "test_probe.py::test_probe[0]" in str(got[0]["cmd"])


def test_environment_variable_sets_the_seed(
    probe: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_SEED", "7")
    result = probe.runpytest_subprocess()
    result.stdout.fnmatch_lines(["claimcheck: --harness-seed=7"])
    assert {g["base"] for g in seeds(probe).values()} == {7}


def test_xdist_workers_explore_exactly_the_same_seeds(probe: pytest.Pytester) -> None:
    probe.runpytest_subprocess("--harness-seed", "99").assert_outcomes(passed=6)
    serial = seeds(probe)
    probe.runpytest_subprocess("--harness-seed", "99", "-n", "2").assert_outcomes(passed=6)
    assert seeds(probe) == serial


def test_random_base_seed_is_shared_with_workers(probe: pytest.Pytester) -> None:
    result = probe.runpytest_subprocess("-n", "2")
    result.assert_outcomes(passed=6)
    bases = {g["base"] for g in seeds(probe).values()}
    assert len(bases) == 1
    (base,) = bases
    result.stdout.fnmatch_lines([f"claimcheck: --harness-seed={base}"])


def test_malformed_seed_is_a_usage_error(probe: pytest.Pytester) -> None:
    result = probe.runpytest_subprocess("--harness-seed", "x1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*harness seed 'x1' is not a whole number*"])


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_bad_store_factory_is_a_usage_error_not_failed_checks(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    result = pytester.runpytest_subprocess(
        "--harness-store",
        "tests.bad_factories:needs_an_argument",
        "-p",
        "no:cacheprovider",
        "-n",
        workers,
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*--harness-store: the factory tests.bad_factories:needs_an_argument cannot be "
            "called: TypeError: *"
        ]
    )
    assert "the store raised" not in result.stdout.str()


def test_a_store_factory_that_exits_is_a_usage_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    result = pytester.runpytest_subprocess(
        "--harness-store", "tests.bad_factories:exits", "-p", "no:cacheprovider"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*called sys.exit(7) while being called*"])
