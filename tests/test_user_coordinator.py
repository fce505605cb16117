"""A user's own coordinator (``--coordinator MODULE:FACTORY``) checked against the model.

``examples.lease_coordinator`` keeps its own document layout and is written in plain asyncio;
``make`` is correct, ``make_naive`` is the read-check-write control with an ``await`` between
its read and its write.  The control is caught wherever the correct one passes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from examples.lease_coordinator import make_naive
from harness.explore import CoordinatorMisuse
from harness.explore import SetupFinding
from harness.explore import adhoc_scenario
from harness.explore import explore
from harness.explore import get_scenario
from harness.explore import load_coordinator
from harness.explore import replay
from harness.explore import run_schedule
from harness.explore import scenario_names
from harness.runtime import HypothesisScheduler
from harness.runtime import RandomScheduler
from harness.runtime import RunTooLong
from models import Claim
from models import FleetState
from models import JobState
from stores import MemoryStore
from tests.user_coordinators import MADE

ROOT = Path(__file__).resolve().parents[1]
CORRECT = "examples.lease_coordinator:make"
NAIVE = "examples.lease_coordinator:make_naive"


def _budget(strategy: str) -> int | None:
    # Exhaustive search on a user's asyncio code is large (its steps between store operations
    # are dependent on everything): a bound, as the command line's default.
    return 2000 if strategy == "exhaustive" else 200


@pytest.mark.parametrize("strategy", ["random", "pct", "exhaustive"])
@pytest.mark.parametrize("scenario", scenario_names())
def test_correct_user_coordinator_passes_and_its_naive_twin_is_caught(
    scenario: str, strategy: str
) -> None:
    budget = _budget(strategy) if scenario != "multi-job" else 400
    good = explore(scenario, "memory", strategy, budget=budget, coordinator=CORRECT, shrink=False)
    assert good.counterexample is None, good.counterexample and good.counterexample.render()
    assert good.schedules > 0
    bad = explore(scenario, "memory", strategy, budget=budget, coordinator=NAIVE, shrink=False)
    assert bad.counterexample is not None, f"{scenario}/{strategy}: the control was not caught"
    assert bad.counterexample.coordinator_spec == NAIVE


def test_exhaustive_proves_the_user_coordinator_on_a_claim_race() -> None:
    result = explore("claim-race", "memory", "exhaustive", budget=None, size=3, coordinator=CORRECT)
    assert result.complete
    assert result.counterexample is None


@pytest.mark.parametrize("store", ["sqlite", "rcw-memory"])
def test_user_coordinator_on_other_stores(store: str) -> None:
    # Its own writes are conditional, so under the read-check-write store the control
    # of the store shows through the user's coordinator too.
    result = explore("claim-race", store, "random", budget=200, coordinator=CORRECT)
    assert (result.counterexample is not None) == (store == "rcw-memory")


def test_a_finding_replays_exactly_with_its_coordinator() -> None:
    found = explore("zombie-lease", "memory", "random", budget=200, coordinator=NAIVE)
    assert found.counterexample is not None
    again = replay(found.counterexample.token, coordinator=NAIVE)
    assert again is not None
    assert again.violations == found.counterexample.violations
    assert again.trace == found.counterexample.trace
    assert any(f"--coordinator {NAIVE}" in line for line in again.commands())
    # The same schedule, on the correct coordinator, is not a finding (or does not even run).
    try:
        assert replay(found.counterexample.token, coordinator=CORRECT) is None
    except ValueError:
        pass


def test_hypothesis_drives_the_user_coordinator() -> None:
    scenario = get_scenario("claim-race")
    caught: list[bool] = []

    @settings(max_examples=60, database=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def check(data: st.DataObject) -> None:
        for spec, expect in ((CORRECT, False), (NAIVE, None)):
            run = run_schedule(
                scenario,
                2,
                lambda wrap: wrap(MemoryStore()),
                HypothesisScheduler(data),
                coordinator=load_coordinator(spec),
            )
            if expect is False:
                assert not run.violations, run.violations
            elif run.violations:
                caught.append(True)

    check()
    assert caught, "Hypothesis never found the naive coordinator's double assignment"


def test_final_probes_catch_a_wrong_state_that_every_answer_hides() -> None:
    result = explore(
        "claim-race", "memory", "random", budget=50, size=2,
        coordinator="tests.user_coordinators:forgetful",
    )  # fmt: skip
    assert result.counterexample is not None
    sentence = result.counterexample.violations[0].sentence
    assert "not linearizable" in sentence
    assert "claimcheck-probe" in sentence


@pytest.mark.parametrize(
    ("factory", "words"),
    [
        # An answer of the wrong shape is the coordinator's finding, not a harness crash.
        ("garbage", ["the coordinator answered", "try_claim_job returned None"]),
        # An exception in a user's code is blamed on the coordinator, with its file.
        ("raising", ["the coordinator raised KeyError", "user_coordinators.py"]),
    ],
)
def test_a_broken_user_coordinator_is_a_finding_about_the_coordinator(
    factory: str, words: list[str]
) -> None:
    spec = f"tests.user_coordinators:{factory}"
    result = explore("claim-race", "memory", "random", budget=5, coordinator=spec)
    assert result.counterexample is not None
    sentence = result.counterexample.violations[0].sentence
    for word in words:
        assert word in sentence


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("no_such_module_here:make", "cannot import module 'no_such_module_here'"),
        ("tests.user_coordinators:missing", "has no attribute 'missing'"),
        ("tests.user_coordinators", "is not MODULE:FACTORY"),
        ("tests.user_coordinators:NOT_CALLABLE", "is not callable"),
        ("tests.user_coordinators:factory_raises", "raised LookupError: no config"),
        ("tests.user_coordinators:not_a_coordinator", "has no enqueue_job, try_claim_job"),
        ("tests.user_coordinators:broken_enqueue", "during the set-up of scenario claim-race"),
    ],
)
def test_a_coordinator_that_cannot_be_used_is_misuse(spec: str, words: str) -> None:
    with pytest.raises(CoordinatorMisuse) as raised:
        explore("claim-race", "memory", "random", budget=2, coordinator=spec)
    assert words in str(raised.value)


def test_a_written_initial_state_needs_the_coordinators_seed_hook() -> None:
    initial = FleetState(jobs=(("j1", JobState()),))
    scenario = adhoc_scenario(
        initial, [("w0", (Claim(job_id="j1", worker_id="w0", now=0, ttl=5),))]
    )
    with pytest.raises(CoordinatorMisuse, match="seed_state"):
        run_schedule(
            scenario,
            1,
            lambda wrap: wrap(MemoryStore()),
            RandomScheduler(0),
            coordinator=CORRECT,
        )


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_run_and_replay_with_a_coordinator() -> None:
    found = _cli(
        "run", "--coordinator", NAIVE, "--scenario", "claim-race", "--scheduler", "pct",
        "--no-database",
    )  # fmt: skip
    assert found.returncode == 1, found.stderr
    assert "double assignment" in found.stdout
    replay_line = next(
        line.strip() for line in found.stdout.splitlines() if "claimcheck replay" in line
    )
    assert replay_line.endswith(f"--coordinator {NAIVE}")
    token = replay_line.split()[2]
    again = _cli("replay", token, "--coordinator", NAIVE)
    assert again.returncode == 1
    assert "double assignment" in again.stdout
    good = _cli(
        "run", "--coordinator", CORRECT, "--scenario", "claim-race", "--scheduler", "pct",
        "--no-database",
    )  # fmt: skip
    assert good.returncode == 0, good.stdout + good.stderr
    assert "no violation" in good.stdout


def test_cli_bad_coordinator_is_one_line_exit_2() -> None:
    bad = _cli("run", "--coordinator", "tests.user_coordinators:not_a_coordinator")
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1
    assert "Traceback" not in bad.stderr
    assert "has no enqueue_job" in bad.stderr


def test_plugin_explores_a_users_coordinator(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_nothing="")
    pytester.syspathinsert(ROOT)
    result = pytester.runpytest(
        "--harness-explore=claim-race:memory:exhaustive", f"--harness-coordinator={NAIVE}",
        "--harness-seed=1", "-p", "no:cacheprovider",
    )  # fmt: skip
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*--harness-coordinator={NAIVE}*"])
    ok = pytester.runpytest(
        "--harness-explore=claim-race:memory:exhaustive", f"--harness-coordinator={CORRECT}",
        "--harness-seed=1", "-p", "no:cacheprovider",
    )  # fmt: skip
    ok.assert_outcomes(passed=1)
    bad = pytester.runpytest(
        "--harness-explore=claim-race:memory:random",
        "--harness-coordinator=tests.user_coordinators:factory_raises",
    )
    assert bad.ret == pytest.ExitCode.USAGE_ERROR


def test_each_actor_gets_a_coordinator_of_its_own() -> None:
    # Like separate worker processes: actors share the store, never the coordinator object
    # (so in-process state of a user's coordinator cannot pass between actors unseen).
    MADE.clear()
    explore(
        "claim-race",
        "memory",
        "random",
        budget=3,
        size=3,
        coordinator="tests.user_coordinators:counted",
    )
    assert MADE["counted"] == 3 * (1 + 3)  # per schedule: the harness's own, and one per actor


def test_exhaustive_sees_a_coordinator_that_treats_names_differently() -> None:
    # Symmetry takes w0 and w1 for interchangeable: not for a user's coordinator.
    found = explore(
        "claim-race",
        "memory",
        "exhaustive",
        budget=None,
        coordinator="tests.user_coordinators:liar_w0",
    )
    assert found.counterexample is not None
    assert "double assignment" in found.counterexample.violations[0].sentence


def test_a_set_up_answer_unlike_the_model_is_a_finding() -> None:
    with pytest.raises(SetupFinding, match=r"made alone it must answer claimed epoch 1"):
        explore(
            "zombie-lease", "memory", "random", budget=2,
            coordinator="tests.user_coordinators:always_conflict",
        )  # fmt: skip


def test_probes_are_judged_strictly() -> None:
    # A claim made alone cannot lose a race: "conflict" from a probe is wrong ...
    never = explore(
        "claim-race", "memory", "random", budget=5,
        coordinator="tests.user_coordinators:always_conflict",
    )  # fmt: skip
    assert never.counterexample is not None
    # ... and a refusal of a done job names the epoch it was done at.
    wrong = explore(
        "complete-after-expiry", "memory", "random", budget=50,
        coordinator="tests.user_coordinators:done_at_wrong_epoch",
    )  # fmt: skip
    assert wrong.counterexample is not None
    assert "not linearizable" in wrong.counterexample.violations[0].sentence


def test_a_reap_naming_jobs_that_do_not_exist_is_a_bad_answer() -> None:
    found = explore(
        "zombie-lease", "memory", "random", budget=5,
        coordinator="tests.user_coordinators:ghost_reaper",
    )  # fmt: skip
    assert found.counterexample is not None
    assert "reap_expired returned ['ghost']" in found.counterexample.violations[0].sentence


def test_an_error_in_a_helper_beside_the_coordinator_is_the_coordinators() -> None:
    found = explore(
        "claim-race", "memory", "random", budget=2,
        coordinator="tests.user_coordinators:helper_raises",
    )  # fmt: skip
    assert found.counterexample is not None
    assert "the coordinator raised LookupError" in found.counterexample.violations[0].sentence


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("tests.user_coordinators:no_now", "cannot be called as try_claim_job('j', 'w', now=0"),
        ("tests.user_coordinators:async_factory", "is async"),
    ],
)
def test_a_coordinator_the_harness_cannot_call_is_refused_when_loaded(
    spec: str, words: str
) -> None:
    with pytest.raises(CoordinatorMisuse) as raised:
        load_coordinator(spec, try_it=True)
    assert words in str(raised.value)


def test_a_hanging_factory_is_refused_in_time() -> None:
    spec = load_coordinator("tests.user_coordinators:hanging_factory")
    with pytest.raises(CoordinatorMisuse, match=r"did not return within 0\.2 s"):
        spec.try_it(timeout=0.2)


def test_reproducers_of_a_factory_given_as_an_object() -> None:
    named = explore("claim-race", "memory", "random", budget=5, coordinator=make_naive)
    assert named.counterexample is not None
    assert named.counterexample.commands()[0].endswith(f"--coordinator {NAIVE}")
    unnamed = explore(
        "claim-race", "memory", "random", budget=5,
        coordinator=lambda store, clock: make_naive(store, clock),
    )  # fmt: skip
    assert unnamed.counterexample is not None
    (line,) = unnamed.counterexample.commands()
    assert line.startswith("harness.replay(")


def test_a_livelock_is_a_finding_not_a_hang() -> None:
    with pytest.raises(RunTooLong, match="livelock") as raised:
        explore(
            "claim-race", "memory", "random", budget=3,
            coordinator="tests.user_coordinators:spinning",
        )  # fmt: skip
    assert "--coordinator tests.user_coordinators:spinning" in str(raised.value)
    code = _cli("run", "--coordinator", "tests.user_coordinators:spinning", "--scenario",
                "claim-race", "--scheduler", "random", "--no-database")  # fmt: skip
    assert code.returncode == 1
    assert code.stderr.startswith("claimcheck: finding: livelock")
