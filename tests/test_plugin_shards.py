"""One exploration spread over pytest-xdist workers: the merged count equals the whole."""

from __future__ import annotations

import re

import pytest

from harness import explore


def _merged(result: pytest.RunResult) -> tuple[int, int, bool]:
    line = next(
        line for line in result.outlines if line.startswith("claimcheck: claim-race:memory")
    )
    found = re.search(r": (\d+) schedules over (\d+) part\(s\)(, complete)?", line)
    assert found is not None, line
    return int(found.group(1)), int(found.group(2)), bool(found.group(3))


@pytest.mark.parametrize(
    "workers", [["-n", "2"], ["--tx", "2*popen", "--dist", "load"], ["-p", "no:xdist"]]
)
def test_a_sharded_exploration_explores_the_same_space_as_one(
    pytester: pytest.Pytester, workers: list[str]
) -> None:
    whole = explore("claim-race", "memory", "exhaustive", size=4, budget=None)
    result = pytester.runpytest_subprocess(
        "--harness-explore", "claim-race:memory:exhaustive::4", "--harness-shards", "3", *workers
    )
    result.assert_outcomes(passed=3)
    schedules, parts, complete = _merged(result)
    assert (schedules, parts, complete) == (whole.schedules, 3, True)


def test_a_part_that_finds_a_violation_fails_with_its_reproducer(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess(
        "--harness-explore", "claim-race:rcw-memory:random:40", "--harness-shards", "2"
    )
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["*claimcheck finding: double assignment*", "*claimcheck replay cc1.*"]
    )


def test_a_malformed_explore_spec_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--harness-explore", "claim-race:memory")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*is not SCENARIO:STORE:STRATEGY*"])
