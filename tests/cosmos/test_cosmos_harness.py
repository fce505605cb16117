"""Every harness check on Cosmos: controlled schedules, replay against the server, trio races
through the coordinator, the state machines, and faults.  The control is caught in each."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck
from hypothesis import Phase
from hypothesis import seed
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from harness import explore
from harness import get_scenario
from harness import replay
from harness.backends import FaultyStore
from harness.backends import NamespacedStore
from harness.backends import Wrap
from harness.backends import get_backend
from harness.explore import main_job
from harness.explore import run_concurrently
from harness.stateful import BatchFinding
from harness.stateful import fleet_machine
from stores import ReadCheckWriteStore
from stores import Store
from stores.cosmos import CosmosStore

_counter = iter(range(1 << 30))


@pytest.fixture
def fresh(cosmos_store: CosmosStore, pk: str) -> Callable[[], Store]:
    """Fresh, empty stores in this worker's container (a namespace per store)."""
    return lambda: NamespacedStore(cosmos_store, f"{pk}-{next(_counter)}")


@pytest.fixture
def factory(fresh: Callable[[], Store]) -> Callable[[Wrap], Store]:
    return lambda wrap: wrap(fresh())


@pytest.fixture
def control_factory(fresh: Callable[[], Store]) -> Callable[[Wrap], Store]:
    return lambda wrap: ReadCheckWriteStore(wrap(fresh()))


@pytest.mark.parametrize("strategy", ["random", "pct", "exhaustive"])
def test_controlled_claim_race_on_cosmos(
    strategy: str,
    factory: Callable[[Wrap], Store],
    control_factory: Callable[[Wrap], Store],
    harness_seed: int,
) -> None:
    budget = None if strategy == "exhaustive" else 25
    ok = explore(
        "claim-race", "cosmos", strategy, seed=harness_seed, budget=budget, factory=factory
    )
    assert ok.counterexample is None
    bad = explore(
        "claim-race", "rcw-cosmos", strategy, seed=harness_seed, budget=50, factory=control_factory
    )
    assert bad.counterexample is not None
    assert "double assignment" in bad.counterexample.violations[0].sentence


def test_printed_token_replays_the_same_double_assignment_against_the_server(
    control_factory: Callable[[Wrap], Store],
) -> None:
    found = explore("claim-race", "rcw-cosmos", "pct", seed=0, budget=50, factory=control_factory)
    cx = found.counterexample
    assert cx is not None
    again = replay(cx.token, factory=control_factory)
    assert again is not None
    assert again.violations == cx.violations
    assert again.trace == cx.trace
    # The same schedule on the in-process control gives the same double assignment.
    on_memory = replay(cx.token.replace(".rcw-cosmos.", ".rcw-memory."))
    assert on_memory is not None
    assert on_memory.violations[0].sentence == cx.violations[0].sentence


@pytest.mark.parametrize("scenario", ["zombie-lease", "complete-after-expiry", "multi-job"])
def test_other_scenarios_on_cosmos(
    scenario: str,
    factory: Callable[[Wrap], Store],
    control_factory: Callable[[Wrap], Store],
    harness_seed: int,
) -> None:
    assert (
        explore(
            scenario, "cosmos", "random", seed=harness_seed, budget=15, factory=factory
        ).counterexample
        is None
    )
    assert (
        explore(
            scenario, "rcw-cosmos", "pct", seed=harness_seed, budget=60, factory=control_factory
        ).counterexample
        is not None
    )


def test_trio_claim_race_of_ten_threads_through_the_coordinator(
    factory: Callable[[Wrap], Store], control_factory: Callable[[Wrap], Store]
) -> None:
    ok = run_concurrently(get_scenario("claim-race"), 10, factory, seed=1, trials=5)
    assert ok.violations == ()
    assert set(ok.claimed_counts) == {1}
    bad = run_concurrently(get_scenario("claim-race"), 10, control_factory, seed=1, trials=5)
    assert bad.failing_trials > 0


def test_sequential_and_concurrent_state_machines_on_cosmos(fresh: Callable[[], Store]) -> None:
    machine = fleet_machine(fresh, store_name="cosmos")
    run_state_machine_as_test(
        machine,
        settings=settings(max_examples=15, stateful_step_count=8, database=None, deadline=None),
    )


def test_concurrent_state_machine_catches_the_control_on_cosmos(
    fresh: Callable[[], Store], harness_seed: int
) -> None:
    machine = fleet_machine(lambda: ReadCheckWriteStore(fresh()), store_name="rcw-cosmos")
    config = settings(
        deadline=None,
        max_examples=100,
        stateful_step_count=6,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    with pytest.raises(BatchFinding) as caught:
        seed(harness_seed)(lambda: run_state_machine_as_test(machine, settings=config))()
    assert "claimcheck replay cc1.x-" in str(caught.value)


def test_faults_on_cosmos_coordinator_stays_correct_and_naive_one_is_caught(
    fresh: Callable[[], Store], harness_seed: int
) -> None:
    def faulty(wrap: Wrap) -> Store:
        return FaultyStore(wrap(fresh()))

    ok = explore(
        "claim-race", "faulty-cosmos", "random", seed=harness_seed, budget=40, factory=faulty
    )
    assert ok.counterexample is None
    bad = explore(
        "claim-race",
        "naive-faulty-cosmos",
        "random",
        seed=harness_seed,
        budget=400,
        factory=faulty,
    )
    assert bad.counterexample is not None


def test_main_job_on_cosmos_passes_the_store_and_catches_the_control() -> None:
    get_backend("cosmos")
    rows = main_job(stores=("cosmos", "rcw-cosmos"))
    assert rows
    assert all(r.as_expected for r in rows), [r for r in rows if not r.as_expected]
    assert {r.verdict for r in rows if r.store == "rcw-cosmos"} == {"caught"}
    assert {r.verdict for r in rows if r.store == "cosmos"} == {"pass"}
    assert any(re.match(r"trio claim-race x10", r.check) for r in rows)
