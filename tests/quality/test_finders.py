"""Quality tests: the engine must find the bug it exists for, and raise no false alarm.

Why 50 schedules is enough.  In the 2-claimer race on the control each claimer performs
get (coordinator), get (control), replace, create.  The double assignment needs only that the
second claimer's control ``get`` happens before the first claimer's ``replace``.

* Random walk: at every step each of the two claimers moves with probability 1/2.  The two
  reads-before-writes orderings together have probability well above 1/3 (direct enumeration
  of the 70 interleavings, weighted by the walk, gives ~0.47), so 50 schedules all miss with
  probability below (2/3)**50 < 1e-8.
* PCT (depth 3): the bug has depth 2; with n = 2 actors and k <= 8 steps the bound is
  1/(n*k) = 1/16 per schedule, so 50 schedules miss with probability at most (15/16)**50 < 4%,
  and in practice far less (any change point before the first replace inverts the order).
* Exhaustive: the bug is reachable, and the search is complete, so it must be found.

The seeds are fixed (0..19), so these are deterministic tests, not flaky probabilistic ones;
the argument says why they are expected to pass for *any* fixed set, which keeps them honest
when the code changes.  The weak-strategy test shows the opposite: with no preemption allowed
the race cannot happen, so the search must NOT find it.
"""

from __future__ import annotations

import pytest

from harness import explore
from harness import scenario_names

pytestmark = pytest.mark.quality

SEEDS = range(20)


@pytest.mark.parametrize("strategy", ["random", "pct"])
def test_random_and_pct_find_the_double_assignment_within_50_schedules(strategy: str) -> None:
    needed = []
    for seed in SEEDS:
        result = explore("claim-race", "rcw-memory", strategy, seed=seed, budget=50)
        assert result.counterexample is not None, f"{strategy} seed {seed}: not found in 50"
        assert "double assignment" in result.counterexample.violations[0].sentence
        needed.append(result.schedules)
    assert max(needed) <= 50


def test_exhaustive_finds_the_double_assignment_before_finishing() -> None:
    result = explore("claim-race", "rcw-memory", "exhaustive", budget=None)
    assert result.counterexample is not None
    assert "double assignment" in result.counterexample.violations[0].sentence
    assert not result.complete


def test_a_search_without_preemptions_cannot_see_the_race() -> None:
    # The race needs one claimer to be interrupted between its read and its write.
    weak = explore("claim-race", "rcw-memory", "exhaustive", budget=None, preemption_bound=0)
    assert weak.counterexample is None
    strong = explore("claim-race", "rcw-memory", "exhaustive", budget=None, preemption_bound=1)
    assert strong.counterexample is not None


@pytest.mark.parametrize(
    ("scenario", "size"),
    [("claim-race", 2), ("claim-race", 3), ("zombie-lease", 3), ("complete-after-expiry", 2)],
)
def test_exhaustive_verifies_memory_store_with_reduction(scenario: str, size: int) -> None:
    result = explore(scenario, "memory", "exhaustive", budget=None, size=size, count_naive=True)
    assert result.counterexample is None
    assert result.complete
    assert result.naive_schedules is not None
    assert result.schedules < result.naive_schedules
    print(
        f"{scenario} x{size}: {result.schedules} schedules explored, naive "
        f"{result.naive_schedules}: reduction {result.naive_schedules / result.schedules:.1f}x"
    )


@pytest.mark.parametrize("scenario", scenario_names())
def test_exhaustive_catches_the_control_in_every_scenario(scenario: str) -> None:
    assert explore(scenario, "rcw-memory", "exhaustive", budget=None).counterexample is not None


@pytest.mark.parametrize("strategy", ["random", "pct"])
@pytest.mark.parametrize("scenario", scenario_names())
def test_no_false_alarm_in_10000_schedules(scenario: str, strategy: str, harness_seed: int) -> None:
    result = explore(scenario, "memory", strategy, seed=harness_seed, budget=10_000)
    assert result.counterexample is None, result.counterexample.render()
    assert result.schedules == 10_000


@pytest.mark.parametrize("strategy", ["random", "pct"])
@pytest.mark.parametrize("scenario", scenario_names())
def test_the_control_fails_where_memory_passes(
    scenario: str, strategy: str, harness_seed: int
) -> None:
    result = explore(scenario, "rcw-memory", strategy, seed=harness_seed, budget=2_000)
    assert result.counterexample is not None
