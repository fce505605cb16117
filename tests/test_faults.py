"""Faults and ambiguous outcomes: the coordinator stays correct; the naive one is caught."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck
from hypothesis import Phase
from hypothesis import seed
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from fleet import Coordinator
from harness import decode
from harness import drive
from harness import explore
from harness import replay
from harness import scenario_names
from harness.backends import FaultyStore
from harness.stateful import BatchFinding
from harness.stateful import fleet_machine
from stores import Conflict
from stores import Expected
from stores import MemoryStore
from stores import OutcomeUnknown
from stores import StoreUnavailable
from stores import Updated


class ForcedFaults(FaultyStore):
    """A FaultyStore whose choices come from a fixed list (outside any controlled run)."""

    def __init__(self, inner: MemoryStore, choices: list[int]) -> None:
        super().__init__(inner, outside_runs=True)
        self.choices = list(choices)

        class Feed:
            def __init__(self, values: list[int]) -> None:
                self.values = values

            def randrange(self, bound: int) -> int:
                return self.values.pop(0) if self.values else 0

        self._rng = Feed(self.choices)  # type: ignore[assignment]


def test_misleading_412_after_an_applied_write() -> None:
    store = ForcedFaults(MemoryStore(), [0, 19])
    doc = drive(store.create("a", "p", {"x": 1}))
    result = drive(store.update_if_match("a", "p", Expected(rev=doc.rev), {"x": 2}))
    assert isinstance(result, Conflict)  # what the caller is told ...
    assert drive(store.get("a", "p")).body["x"] == 2  # ... although its write won


def test_lost_response_after_apply_and_refusal_before_apply() -> None:
    store = ForcedFaults(MemoryStore(), [0, 18, 17, 0])
    doc = drive(store.create("a", "p", {"x": 1}))
    with pytest.raises(OutcomeUnknown):
        drive(store.update_if_match("a", "p", Expected(rev=doc.rev), {"x": 2}))
    with pytest.raises(StoreUnavailable):
        drive(store.replace("a", "p", {"x": 3}))
    assert drive(store.get("a", "p")).body["x"] == 2


@pytest.mark.parametrize("fault", [18, 19])
def test_coordinator_resolves_an_ambiguous_claim_it_won(fault: int) -> None:
    # enqueue (create), claim: get, update_if_match (faulted), then the resolving re-read.
    store = ForcedFaults(MemoryStore(), [0, 0, fault])
    coord = Coordinator(store)
    drive(coord.enqueue_job("j1"))
    result = drive(coord.try_claim_job("j1", "w1", now=0))
    assert result.kind == "claimed"
    assert result.epoch == 1
    assert drive(coord.get_job("j1")).body["worker"] == "w1"


def test_naive_coordinator_believes_it_lost_a_claim_it_won() -> None:
    store = ForcedFaults(MemoryStore(), [0, 0, 19])
    coord = Coordinator(store, resolve_ambiguity=False)
    drive(coord.enqueue_job("j1"))
    result = drive(coord.try_claim_job("j1", "w1", now=0))
    assert result.kind == "conflict"
    assert drive(coord.get_job("j1")).body["worker"] == "w1"  # assigned to a "loser"


@pytest.mark.parametrize("fault", [18, 19])
def test_coordinator_resolves_an_ambiguous_complete(fault: int) -> None:
    store = ForcedFaults(MemoryStore(), [0, 0, 0, 0, 0, fault])
    coord = Coordinator(store)
    drive(coord.enqueue_job("j1"))
    assert drive(coord.try_claim_job("j1", "w1", now=0)).kind == "claimed"
    assert drive(coord.complete_job("j1", "w1", 1, now=1)).kind == "completed"


@pytest.mark.parametrize("strategy", ["random", "pct"])
@pytest.mark.parametrize("scenario", scenario_names())
def test_correct_coordinator_survives_faults(
    scenario: str, strategy: str, harness_seed: int
) -> None:
    result = explore(scenario, "faulty-memory", strategy, seed=harness_seed, budget=1000)
    assert result.counterexample is None, result.counterexample.render()


@pytest.mark.parametrize("strategy", ["random", "pct"])
@pytest.mark.parametrize("scenario", scenario_names())
def test_naive_coordinator_is_caught_under_faults(
    scenario: str, strategy: str, harness_seed: int
) -> None:
    result = explore(scenario, "naive-faulty-memory", strategy, seed=harness_seed, budget=1000)
    assert result.counterexample is not None
    assert result.counterexample.violations
    again = replay(result.counterexample.token)
    assert again is not None
    assert again.violations == result.counterexample.violations


def test_fault_choices_are_in_the_token_and_trace() -> None:
    result = explore("claim-race", "naive-faulty-memory", "random", seed=3, budget=1000)
    cx = result.counterexample
    assert cx is not None
    assert decode(cx.token).data  # the fault decisions travel with the schedule
    assert any("fault:" in line for line in cx.trace)


def test_faults_are_actually_injected() -> None:
    injected: list[str] = []
    for s in range(30):
        store = FaultyStore(MemoryStore(), seed=s, outside_runs=True)
        coord = Coordinator(store)
        drive(coord.enqueue_job("j1"))
        for w in range(5):
            drive(coord.try_claim_job("j1", f"w{w}", now=w * 20, ttl=10))
        injected += store.injected
    kinds = {line.split(":")[0].split(" ")[0] for line in injected}
    assert {"latency", "unavailable", "response", "update_if_match(j1)"} <= kinds


def test_concurrent_machine_with_faults_records_unknown_outcomes_and_passes() -> None:
    machine = fleet_machine(lambda: FaultyStore(MemoryStore()), store_name="faulty-memory")
    run_state_machine_as_test(
        machine,
        settings=settings(max_examples=60, stateful_step_count=15, database=None, deadline=None),
    )


def test_concurrent_machine_catches_the_naive_coordinator_under_faults(harness_seed: int) -> None:
    machine = fleet_machine(
        lambda: FaultyStore(MemoryStore()),
        store_name="naive-faulty-memory",
        coordinator={"resolve_ambiguity": False},
    )
    config = settings(
        deadline=None,
        max_examples=400,
        stateful_step_count=8,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    with pytest.raises((BatchFinding, AssertionError)):
        seed(harness_seed)(lambda: run_state_machine_as_test(machine, settings=config))()


def test_updated_result_type_is_kept_when_no_fault() -> None:
    store = ForcedFaults(MemoryStore(), [0, 0])
    doc = drive(store.create("a", "p", {"x": 1}))
    assert isinstance(
        drive(store.update_if_match("a", "p", Expected(rev=doc.rev), {"x": 2})), Updated
    )


def test_exhaustive_search_enumerates_fault_choices_within_its_budget() -> None:
    plain = explore("claim-race", "memory", "exhaustive", budget=None, symmetry=False)
    none = explore("claim-race", "faulty-memory", "exhaustive", budget=None, fault_budget=0)
    one = explore("claim-race", "faulty-memory", "exhaustive", budget=None)
    two = explore("claim-race", "faulty-memory", "exhaustive", budget=None, fault_budget=2)
    assert none.schedules == plain.schedules  # no fault: exactly the interleavings
    assert plain.schedules < one.schedules < two.schedules
    for result in (none, one, two):
        assert result.complete
        assert not result.found
    assert one.bound == "at most 1 fault(s) per schedule"
    assert plain.bound == ""  # no data choice was asked for: nothing to bound


@pytest.mark.parametrize(
    "scenario", ["claim-race", "zombie-lease", "complete-after-expiry", "multi-job"]
)
def test_exhaustive_search_catches_the_naive_coordinator_behind_faults(scenario: str) -> None:
    result = explore(scenario, "naive-faulty-memory", "exhaustive", budget=5000)
    assert result.counterexample is not None
    again = replay(result.counterexample.token)
    assert again is not None
    assert again.violations == result.counterexample.violations
