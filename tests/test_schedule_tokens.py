"""Schedule tokens: encoding, decoding, bad input, and the replay round trip."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import time
import zlib

import pytest

from harness import ScheduleFormatError
from harness import ScheduleToken
from harness import decode
from harness import encode
from harness import explore
from harness import replay
from harness.cli import main
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


def _adhoc_token(payload: object, size: int = 1) -> str:
    text = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    raw = text.encode()
    name = "x-" + base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")
    return f"cc1.{name}.memory.{size}.000"


_CLAIM = ["Claim", {"job_id": "j1", "worker_id": "w0", "now": 0, "ttl": 10}]
_JOB = {
    "status": "queued",
    "epoch": 0,
    "worker": None,
    "expires_at": None,
    "completed_epoch": None,
    "runs": [],
}


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(list(argv), out=out)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("token", "match"),
    [
        # A size far outside the scenario's range: rejected at once, not a minute of work.
        ("cc1.claim-race.rcw-memory.10000000.11001010", "size '10000000' is not a whole"),
        ("cc1.claim-race.rcw-memory.9999.11001010", "--size 9999 is out of range"),
        ("cc1.claim-race.rcw-memory.1.1", "out of range for scenario"),
        ("cc1.claim-race.memory.2.0101.", "the data part is empty"),
        ("cc1.claim-race.memory.2.", "the steps part is empty"),
        ("cc1.claim-race.memory.\u00b2.0101", "size '\u00b2' is not a whole number"),
        # An unused data part: the run asks for no data choice.
        ("cc1.claim-race.memory.2.1101.00", "2 data choices but the run used 0"),
        # An ad-hoc workload whose size does not match its actors.
        (
            _adhoc_token({"initial": [["j1", _JOB]], "actors": [["w0", [_CLAIM]]]}, size=3),
            "--size 3 is out of range",
        ),
        # A bogus job status.
        (
            _adhoc_token(
                {"initial": [["j1", {**_JOB, "status": "bogus"}]], "actors": [["w0", [_CLAIM]]]}
            ),
            "job 'j1' has status 'bogus'",
        ),
        (
            _adhoc_token({"initial": [], "actors": [["w0", [["Claim", {"job_id": 5}]]]]}),
            "Claim.job_id is 5",
        ),
        # Deeply nested JSON: a message, never a RecursionError.
        (_adhoc_token("[" * 100_000 + "]" * 100_000), "cannot be decoded"),
    ],
)
def test_a_token_either_replays_exactly_or_is_rejected_with_the_part_that_is_wrong(
    token: str, match: str
) -> None:
    started = time.monotonic()
    code, out, err = _cli("replay", token)
    assert code == 2, (out, err)
    assert match in err
    assert err.count("\n") == 1  # one line
    assert "Traceback" not in err
    assert time.monotonic() - started < 60  # never the minute of work the issue saw


def test_a_valid_adhoc_token_still_replays() -> None:
    token = _adhoc_token({"initial": [["j1", _JOB]], "actors": [["w0", [_CLAIM]]]})
    code, out, err = _cli("replay", token)
    assert code == 0, (out, err)
