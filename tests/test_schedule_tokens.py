"""Schedule tokens: encoding, decoding, bad input, and the replay round trip."""

from __future__ import annotations

import pytest

from harness import ScheduleFormatError
from harness import ScheduleToken
from harness import decode
from harness import encode
from harness import explore
from harness import replay
from harness.runtime import FORMAT_VERSION


def test_round_trip() -> None:
    token = ScheduleToken(scenario="claim-race", store="rcw-memory", size=2, steps=(0, 1, 1, 0))
    text = encode(token)
    assert text == f"{FORMAT_VERSION}.claim-race.rcw-memory.2.0110"
    assert decode(text) == token
    with_data = ScheduleToken(scenario="x", store="y", size=3, steps=(), data=(35, 0))
    assert decode(encode(with_data)) == with_data


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "does not start with 'cc1'"),
        ("hello", "does not start with 'cc1'"),
        ("cc0.claim-race.memory.2.01", "format 'cc0'"),
        ("cc1.claim-race.memory.2", "4 dot-separated parts"),
        ("cc1.claim-race.memory.two.01", "size 'two'"),
        ("cc1.claim-race.memory.2.0!1", "'!'"),
        ("cc1.Claim Race.memory.2.01", "bad scenario name"),
    ],
)
def test_malformed_tokens_get_precise_errors(text: str, match: str) -> None:
    with pytest.raises(ScheduleFormatError, match=match):
        decode(text)


@pytest.mark.parametrize(
    "scenario", ["claim-race", "zombie-lease", "complete-after-expiry", "multi-job"]
)
@pytest.mark.parametrize("strategy", ["random", "pct", "exhaustive"])
def test_printed_token_replays_the_same_schedule_and_violation(
    scenario: str, strategy: str
) -> None:
    found = explore(scenario, "rcw-memory", strategy, seed=11, budget=500)
    cx = found.counterexample
    assert cx is not None
    assert f"claimcheck replay {cx.token}" in cx.render()
    again = replay(cx.token)
    assert again is not None
    assert again.violations == cx.violations
    assert again.trace == cx.trace
    assert decode(again.token).steps == decode(cx.token).steps


def test_rerun_command_reproduces_the_same_finding() -> None:
    first = explore("claim-race", "rcw-memory", "pct", seed=5, budget=100)
    assert first.counterexample is not None
    again = explore("claim-race", "rcw-memory", "pct", seed=5, budget=first.schedules)
    assert again.counterexample == first.counterexample


def test_replaying_a_passing_schedule_reports_no_violation() -> None:
    # w0 gets, claims and creates its run; then w1 reads a leased job: not claimable.
    assert replay("cc1.claim-race.memory.2.0001") is None


def test_determinism_check_passes_on_deterministic_stores() -> None:
    result = explore("zombie-lease", "memory", "random", seed=3, budget=50, check_determinism=True)
    assert result.schedules == 50
    assert not result.found
