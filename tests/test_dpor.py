"""Effect-aware reduction, symmetry over started actors and source-set DPOR (issue 13): the
reduced exhaustive search reaches every outcome the plain one does, gives the same verdicts,
starts fewer runs than sleep sets alone, and proves claim-race for 10 claimers while still
catching the read-check-write control."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from collections.abc import Hashable
from typing import Any
from typing import cast

import pytest

from fleet import Coordinator
from harness import explore
from harness.backends import FaultyStore
from harness.explore import _explore
from harness.explore import get_scenario
from harness.explore import observed_state
from harness.explore import scenario_names
from harness.explore import symmetry_classes
from harness.explore._scenarios import actor_coroutine
from harness.explore._scenarios import perform
from harness.runtime import ExhaustiveScheduler
from harness.runtime import drive
from harness.runtime import probed
from harness.runtime import run_actors
from harness.runtime.schedulers._dpor import reversals
from harness.runtime.schedulers._symmetry import interchangeable
from stores import Expected
from stores import MemoryStore
from stores import ReadCheckWriteStore
from stores import Store
from tests.async_stores import AioLockStore
from tests.async_stores import NaiveAioStore

STORES = {
    "memory": MemoryStore,
    "rcw-memory": lambda: ReadCheckWriteStore(MemoryStore()),
}


def _outcomes(
    scenario_name: str,
    size: int,
    make: Any,
    scheduler: ExhaustiveScheduler,
    names: bool,
    **coordinator: Any,
) -> set[Hashable]:
    """Every (answers, final state) the search reaches; with ``names`` False, actor names are
    erased (symmetry reaches outcomes up to renaming)."""
    scenario = get_scenario(scenario_name)
    seen: set[Hashable] = set()
    while scheduler.new_execution():
        coord = Coordinator(probed(make()), partition="jobs", **coordinator)
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


# -- source-set DPOR ------------------------------------------------------------------------------

#: Every shipped scenario at its smallest size (2 or 3), and three claimers.
#: (Not stale-incarnation: its three actors take seven operations, too many interleavings for
#: the unreduced search this compares against; its shape is covered by the others.)
SHIPPED = [
    (name, get_scenario(name).min_size) for name in scenario_names() if name != "stale-incarnation"
] + [("claim-race", 3)]


def _dpor_and_plain(
    scenario: str, size: int, make: Any, **coordinator: Any
) -> tuple[ExhaustiveScheduler, ExhaustiveScheduler]:
    """DPOR and sleep sets alone, after checking DPOR reaches what the plain search reaches."""
    plain = _outcomes(
        scenario, size, make, ExhaustiveScheduler(reduction=False), names=True, **coordinator
    )
    dpor, sleep = ExhaustiveScheduler(), ExhaustiveScheduler(dpor=False)
    assert _outcomes(scenario, size, make, dpor, names=True, **coordinator) == plain
    assert _outcomes(scenario, size, make, sleep, names=True, **coordinator) == plain
    return dpor, sleep


@pytest.mark.parametrize("store", sorted(STORES))
@pytest.mark.parametrize(("scenario", "size"), SHIPPED)
def test_dpor_reaches_every_outcome_of_the_plain_search(
    scenario: str, size: int, store: str
) -> None:
    dpor, sleep = _dpor_and_plain(scenario, size, STORES[store])
    assert dpor.executions <= sleep.executions


@pytest.mark.parametrize("resolve", [True, False])
@pytest.mark.parametrize(("scenario", "size"), [("claim-race", 2), ("complete-after-expiry", 2)])
def test_dpor_explores_every_data_and_fault_choice(scenario: str, size: int, resolve: bool) -> None:
    # faulty-memory (and its naive coordinator): a data choice before every operation.
    _dpor_and_plain(scenario, size, lambda: FaultyStore(MemoryStore()), resolve_ambiguity=resolve)


@pytest.mark.parametrize("make", [AioLockStore, NaiveAioStore])
@pytest.mark.parametrize(("scenario", "size"), [("claim-race", 2)])
def test_dpor_on_an_asyncio_store(scenario: str, size: int, make: Callable[[], Store]) -> None:
    # Steps that are not store points are dependent on everything; a lock wakes tasks later.
    _dpor_and_plain(scenario, size, make)


def _sleep_sets_only(monkeypatch: pytest.MonkeyPatch) -> None:
    exhaustive = functools.partial(ExhaustiveScheduler, dpor=False)
    monkeypatch.setattr(_explore, "ExhaustiveScheduler", exhaustive)


def test_dpor_starts_fewer_runs_than_sleep_sets_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    dpor = explore("claim-race", "memory", "exhaustive", size=6, budget=None, symmetry=False)
    _sleep_sets_only(monkeypatch)
    sleep = explore("claim-race", "memory", "exhaustive", size=6, budget=None, symmetry=False)
    assert dpor.complete
    assert sleep.complete
    assert dpor.schedules <= sleep.schedules
    assert dpor.schedules + dpor.pruned < sleep.schedules + sleep.pruned


@pytest.mark.parametrize("scenario", ["claim-race", "zombie-lease"])
@pytest.mark.parametrize("store", ["memory", "rcw-memory", "faulty-memory", "naive-faulty-memory"])
def test_dpor_verdicts_equal_those_of_sleep_sets_alone(
    scenario: str, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    options: dict[str, Any] = {"budget": None, "shrink": False, "symmetry": False}
    dpor = explore(scenario, store, "exhaustive", **options)
    _sleep_sets_only(monkeypatch)
    sleep = explore(scenario, store, "exhaustive", **options)
    assert (dpor.found, dpor.complete) == (sleep.found, sleep.complete)
    assert dpor.found is store.startswith(("rcw", "naive"))


def test_dpor_is_off_where_it_would_not_be_sound() -> None:
    assert ExhaustiveScheduler().dpor
    assert not ExhaustiveScheduler(preemption_bound=2).dpor
    assert not ExhaustiveScheduler(reduction=False).dpor
    assert not ExhaustiveScheduler(dpor=False).dpor
    unreduced = ExhaustiveScheduler().unreduced()
    assert isinstance(unreduced, ExhaustiveScheduler)
    assert not unreduced.dpor


def test_reversals_of_two_writers_and_a_reader() -> None:
    write = ("replace", "p", "d", True)
    read = ("get", "p", "d", False)
    other = ("get", "p", "e", False)
    # 0 writes d, 1 reads e (independent), 2 reads d: one race (0, 2); 1 and 2 can start it.
    events = [(0, write), (1, other), (2, read)]
    assert reversals(events, [p for _, p in events], 0, lambda i: True) == [(0, [1, 2])]
    # Two reads never race; a write measured as no change reads.
    assert reversals([(0, read), (1, read)], [read, read], 0, lambda i: True) == []
    # Three writes in a row: only neighbours race (the middle one orders the outer two).
    events = [(0, write), (1, write), (2, write)]
    assert reversals(events, [write] * 3, 0, lambda i: True) == [(0, [1]), (1, [2])]
