"""Effect-aware reduction and symmetry over started actors (issue 13): the reduced exhaustive
search reaches every outcome the plain one does, gives the same verdicts, and proves claim-race
for 10 claimers while still catching the read-check-write control."""

from __future__ import annotations

import itertools
from collections.abc import Hashable
from typing import Any
from typing import cast

import pytest

from fleet import Coordinator
from harness import explore
from harness.backends import FaultyStore
from harness.explore import get_scenario
from harness.explore import observed_state
from harness.explore import symmetry_classes
from harness.explore._scenarios import actor_coroutine
from harness.explore._scenarios import perform
from harness.runtime import ExhaustiveScheduler
from harness.runtime import drive
from harness.runtime import probed
from harness.runtime import run_actors
from harness.runtime.schedulers._symmetry import interchangeable
from stores import Expected
from stores import MemoryStore
from stores import ReadCheckWriteStore
from stores import Store

STORES = {
    "memory": MemoryStore,
    "rcw-memory": lambda: ReadCheckWriteStore(MemoryStore()),
}


def _outcomes(
    scenario_name: str, size: int, make: Any, scheduler: ExhaustiveScheduler, names: bool
) -> set[Hashable]:
    """Every (answers, final state) the search reaches; with ``names`` False, actor names are
    erased (symmetry reaches outcomes up to renaming)."""
    scenario = get_scenario(scenario_name)
    seen: set[Hashable] = set()
    while scheduler.new_execution():
        coord = Coordinator(probed(make()), partition="jobs")
        for op in scenario.setup(size):
            drive(perform(coord, op))
        tick = itertools.count().__next__
        actors = [actor_coroutine(coord, ops, None, tick) for _, ops in scenario.actors(size)]
        execution = run_actors(actors, scheduler)
        if execution.pruned:
            continue
        answers = [repr([(op, result) for op, result, _, _ in log]) for log in execution.results]
        state = repr(observed_state(drive(coord.list_documents())))
        seen.add((tuple(answers), state))
    return seen if names else _unnamed(seen, scenario_name, size)


def _unnamed(outcomes: set[Hashable], scenario_name: str, size: int) -> set[Hashable]:
    """``outcomes`` with the actors' names erased and their answers unordered."""
    out: set[Hashable] = set()
    for outcome in outcomes:
        answers, state = cast(tuple[tuple[str, ...], str], outcome)
        erased = list(answers)
        for name, _ in get_scenario(scenario_name).actors(size):
            erased = [a.replace(repr(name), "'?'") for a in erased]
            state = state.replace(repr(name), "'?'")
        out.add((tuple(sorted(erased)), state))
    return out


CASES = [
    ("claim-race", 3),
    ("zombie-lease", 3),
    ("complete-after-expiry", 2),
    ("renew-contention", 3),
]


@pytest.mark.parametrize("store", sorted(STORES))
@pytest.mark.parametrize(("scenario", "size"), CASES)
def test_reduced_search_reaches_every_outcome_of_the_plain_one(
    scenario: str, size: int, store: str
) -> None:
    make = STORES[store]
    plain = _outcomes(scenario, size, make, ExhaustiveScheduler(reduction=False), names=True)
    reduced = ExhaustiveScheduler()
    assert _outcomes(scenario, size, make, reduced, names=True) == plain
    classes = symmetry_classes(get_scenario(scenario), size)
    both = ExhaustiveScheduler(symmetry=classes)
    unnamed = _unnamed(plain, scenario, size)
    assert _outcomes(scenario, size, make, both, names=False) == unnamed
    assert both.executions <= reduced.executions


@pytest.mark.parametrize("scenario", ["claim-race", "zombie-lease", "renew-contention"])
@pytest.mark.parametrize(
    ("store", "caught"),
    [
        ("memory", False),
        ("rcw-memory", True),
        ("faulty-memory", False),
        ("naive-faulty-memory", True),
    ],
)
def test_verdicts_do_not_depend_on_the_reduction(scenario: str, store: str, caught: bool) -> None:
    for symmetry in (True, False):
        found = explore(scenario, store, "exhaustive", budget=None, shrink=False, symmetry=symmetry)
        assert found.found is caught
        assert found.complete is not caught


def test_ten_claimers_are_proven_on_memory() -> None:
    # Sleep sets and unstarted symmetry alone need far more than this budget at 10 claimers.
    proof = explore("claim-race", "memory", "exhaustive", size=10, budget=200)
    assert proof.complete
    assert not proof.found
    assert proof.schedules == 10  # one per number of claimers that read before the winner


def test_ten_claimers_race_is_caught_on_the_control() -> None:
    found = explore("claim-race", "rcw-memory", "exhaustive", size=10, budget=200, shrink=False)
    assert found.found
    assert found.counterexample is not None
    assert found.counterexample.violations[0].kind == "double-assignment"


def test_symmetry_reduces_started_claimers() -> None:
    on = explore("claim-race", "memory", "exhaustive", size=5, budget=None)
    off = explore("claim-race", "memory", "exhaustive", size=5, budget=None, symmetry=False)
    assert on.complete
    assert off.complete
    assert (on.schedules, off.schedules) == (5, 80)


class _Effects(ExhaustiveScheduler):
    """Records what the probe reported."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[int, bool]] = []
        inner = self._observe

        def observe(step: int, changed: bool) -> None:
            self.seen.append((step, changed))
            inner(step, changed)

        self.observe_effect = observe


def _two_writers(store: Store) -> list[Any]:
    drive(store.create("d", "p", {"n": 0}))
    doc = drive(store.get("d", "p"))
    assert doc is not None
    expected = Expected(etag=doc.etag, rev=doc.rev)

    def writer(value: int) -> Any:
        async def actor() -> Any:
            return await store.update_if_match("d", "p", expected, {"n": value})

        return actor

    return [writer(1), writer(2)]


def test_the_probe_reports_a_lost_compare_and_set_as_no_change() -> None:
    scheduler = _Effects()
    scheduler.new_execution()
    store = probed(MemoryStore())
    execution = run_actors(_two_writers(store), scheduler)
    assert [type(r).__name__ for r in execution.results] == ["Updated", "Conflict"]
    assert scheduler.seen == [(0, True), (1, False)]


def test_no_probe_over_a_fault_layer() -> None:
    faulty = FaultyStore(MemoryStore())
    assert probed(faulty) is faulty


def test_interchangeable_needs_an_equivalent_swap() -> None:
    read = ("get", "p", "d", False)
    write = ("update_if_match", "p", "d", True)
    # Both read, in either order: a swap is the same trace.
    assert interchangeable([(0, read), (1, read)], 0, 1)
    # A write between the two reads: the swap would move a read across it.
    assert not interchangeable([(0, read), (2, write), (1, read)], 0, 1)
    # Two writes to one document: their order is what the swap changes.
    assert not interchangeable([(0, write), (1, write)], 0, 1)
    # Unequal histories are never interchangeable.
    assert not interchangeable([(0, read)], 0, 1)
