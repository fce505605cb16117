"""Fuzzing the schedule token: every mangled token ends in a documented exit code, in one line.

Seeded mutations of real tokens (a control's finding, a passing schedule, a state machine's
ad-hoc workload, a fault backend's data choices): characters dropped, inserted, replaced, parts
swapped, duplicated or cut.  Whatever comes out, ``claimcheck replay`` answers 0 (no violation),
1 (a finding) or 2 (bad input, one line on stderr), never an internal error or a traceback.
"""

from __future__ import annotations

import contextlib
import io
import random

import pytest

from harness import explore
from harness.cli import main
from harness.explore import adhoc_scenario
from models import Claim
from models import FleetState
from models import JobState

ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz.-_xXc\u00b2\u0661 \t\n/%"
MUTATIONS = 400


def _seeds() -> list[str]:
    tokens = []
    for store, scenario in (
        ("rcw-memory", "claim-race"),
        ("naive-faulty-memory", "multi-job"),
        ("faulty-memory", "zombie-lease"),
    ):
        result = explore(scenario, store, "random", seed=1, budget=200)
        if result.counterexample is not None:
            tokens.append(result.counterexample.token)
    tokens.append("cc1.claim-race.memory.2.1101")
    # An ad-hoc workload, as a state machine prints it.
    claim = Claim(job_id="j1", worker_id="w0", now=0, ttl=10)
    adhoc = adhoc_scenario(FleetState(jobs=(("j1", JobState()),)), [("w0", [claim])])
    tokens.append(f"cc1.{adhoc.name}.memory.1.000")
    return tokens


def _mutate(token: str, rng: random.Random) -> str:
    kind = rng.randrange(7)
    chars = list(token)
    if kind == 0 and chars:
        del chars[rng.randrange(len(chars))]
    elif kind == 1:
        chars.insert(rng.randrange(len(chars) + 1), rng.choice(ALPHABET))
    elif kind == 2 and chars:
        chars[rng.randrange(len(chars))] = rng.choice(ALPHABET)
    elif kind == 3:
        parts = token.split(".")
        i, j = rng.randrange(len(parts)), rng.randrange(len(parts))
        parts[i], parts[j] = parts[j], parts[i]
        return ".".join(parts)
    elif kind == 4:
        parts = token.split(".")
        parts.insert(rng.randrange(len(parts) + 1), rng.choice(parts))
        return ".".join(parts)
    elif kind == 5:
        return token[: rng.randrange(len(token) + 1)]
    else:
        parts = token.split(".")
        if len(parts) > 3:
            parts[3] = rng.choice(["0", "1", "3", "64", "99999", "-1", "2.5", "\u00b2", ""])
        return ".".join(parts)
    return "".join(chars)


@pytest.mark.parametrize("seed", range(4))
def test_every_mangled_token_ends_in_a_documented_exit_code(seed: int) -> None:
    rng = random.Random(seed)
    tokens = _seeds()
    for _ in range(MUTATIONS // 4):
        token = _mutate(rng.choice(tokens), rng)
        if rng.random() < 0.3:
            token = _mutate(token, rng)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err):
            try:
                code = main(["replay", token], out=out)
            except SystemExit as exit:  # argparse's own one-line usage errors (exit 2)
                code = int(exit.code or 0)
        text = err.getvalue()
        assert code in (0, 1, 2), (token, code, text)
        assert "Traceback" not in text, token
        assert "internal error" not in text, (token, text)
        if code == 2:
            assert text.count("\n") == 1, (token, text)
