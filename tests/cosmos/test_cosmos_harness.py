"""Every harness check on Cosmos: controlled schedules, replay against the server, trio races
through the coordinator, the state machines, and faults.  The control is caught in each."""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Iterator

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
from stores import StoreMisuse
from stores.cosmos import CosmosStore

from ._drive import drive


@pytest.fixture
def fresh(cosmos_store: CosmosStore, pk: str) -> Iterator[Callable[[], Store]]:
    """Fresh, empty stores in this worker's container, one at a time: each in the test's one
    namespace, purged before the next is made (as the ``cosmos`` backend does: labels, which
    carry the namespace, must agree from one schedule to the next)."""
    current: list[NamespacedStore] = []

    def make() -> Store:
        while current:
            current.pop().close()
        current.append(NamespacedStore(cosmos_store, pk))
        return current[-1]

    yield make
    while current:
        current.pop().close()


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


def namespaces_in(container: CosmosStore) -> set[str]:
    """The namespace prefixes of every item in ``container`` (tombstones included)."""
    items = container._container.query_items(
        query="SELECT c.pk FROM c", enable_cross_partition_query=True
    )
    return {str(item["pk"]).split("~", 1)[0] for item in items}


def test_cosmos_backend_keeps_no_documents_of_finished_schedules() -> None:
    # Per-schedule cost stays flat only if finished schedules leave nothing behind: the
    # embedded endpoint scans every item of the container per query.
    opened: list[NamespacedStore] = []

    def spy(store: Store) -> Store:
        assert isinstance(store, NamespacedStore)
        opened.append(store)
        return store

    checked = []
    with get_backend("cosmos").open() as factory:

        def after_schedule(done: int) -> None:
            # Only the schedule that just ran has documents; every earlier one was purged.
            assert namespaces_in(shared(opened[-1])) == {opened[-1].prefix}
            assert all(store.closed for store in opened[:-1])
            checked.append(done)

        result = explore(
            "multi-job",
            "cosmos",
            "exhaustive",
            budget=30,
            factory=lambda wrap: factory(lambda store: wrap(spy(store))),
            on_schedule=after_schedule,
        )
        assert result.counterexample is None
        assert checked == list(range(1, 31))
        assert len(opened) >= 30  # every run opened a store (pruned ones too), each purged
        with pytest.raises(StoreMisuse, match=r"namespace '.*' was closed"):
            drive(opened[0].get("j1", "jobs"))
        fresh = factory(spy)
        assert namespaces_in(shared(fresh)) == set()  # the last schedule's went too
    assert opened[-1].closed  # closing the backend ends the last namespace


@pytest.mark.parametrize("scenario", ["claim-race", "complete-after-expiry"])
def test_exhaustive_search_on_cosmos_explores_what_it_explores_in_memory(scenario: str) -> None:
    # The labels of a namespaced store carry its namespace; with a namespace per schedule, the
    # search took a write in one schedule and a write to the same document in the next for
    # independent, and pruned real interleavings (3 schedules of claim-race instead of 4).
    in_memory = explore(scenario, "memory", "exhaustive", budget=None, symmetry=False)
    opened: list[NamespacedStore] = []

    def spy(store: Store) -> Store:
        assert isinstance(store, NamespacedStore)
        opened.append(store)
        return store

    with get_backend("cosmos").open() as factory:
        on_cosmos = explore(
            scenario, "cosmos", "exhaustive", budget=None, symmetry=False,
            factory=lambda wrap: factory(lambda store: wrap(spy(store))),
        )  # fmt: skip
    assert on_cosmos.complete
    assert on_cosmos.counterexample is None
    assert len({store.prefix for store in opened}) == 1
    assert on_cosmos.schedules >= in_memory.schedules


def shared(store: Store) -> CosmosStore:
    assert isinstance(store, NamespacedStore)
    assert isinstance(store.inner, CosmosStore)
    return store.inner


def test_main_job_on_cosmos_passes_the_store_and_catches_the_control() -> None:
    get_backend("cosmos")
    rows = main_job(stores=("cosmos", "rcw-cosmos"))
    assert rows
    assert all(r.as_expected for r in rows), [r for r in rows if not r.as_expected]
    assert {r.verdict for r in rows if r.store == "rcw-cosmos"} == {"caught"}
    assert {r.verdict for r in rows if r.store == "cosmos"} == {"pass"}
    assert any(re.match(r"trio claim-race x10", r.check) for r in rows)
