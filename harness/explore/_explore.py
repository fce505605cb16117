"""Exploring schedules of a scenario on a store, and replaying a schedule token.

Three parts: opening the backend (a named store, or a factory the caller gives), the loop
(ask the scheduler for a schedule, run it, check it, stop at the first violation), and the one
counterexample builder (``_counterexample``) that ``replay`` uses too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import attrs

from ..backends import coordinator_options
from ..backends import get_backend
from ..runtime import DeterminismCheck
from ..runtime import ExhaustiveScheduler
from ..runtime import PctScheduler
from ..runtime import RandomScheduler
from ..runtime import ReplayScheduler
from ..runtime import RunTooLong
from ..runtime import Scheduler
from ..runtime import Shard
from ..runtime import decode
from ..runtime import probed
from ._coordinators import CoordinatorLike
from ._coordinators import CoordinatorSpec
from ._coordinators import as_spec
from ._counterexample import STRATEGIES
from ._counterexample import Counterexample
from ._counterexample import build_counterexample
from ._database import FailureDatabase
from ._runner import Run
from ._runner import ScheduleRunner
from ._runner import StoreFactory
from ._runner import run_schedule
from ._scenarios import Scenario
from ._scenarios import get_scenario
from ._scenarios import symmetry_classes
from ._shrink import TOTAL_BUDGET as SHRINK_TOTAL
from ._shrink import shrink as shrink_run

__all__ = [
    "Exploration",
    "UnknownStrategy",
    "explore",
    "make_scheduler",
    "replay",
]


class UnknownStrategy(LookupError):
    """A strategy name that claimcheck does not know."""


@attrs.frozen(kw_only=True)
class Exploration:
    """The outcome of exploring one scenario on one store with one strategy.

    ``schedules`` counts the distinct schedules run and checked (a determinism check's repeats
    are not counted); ``complete`` is true only when the strategy covered every schedule and
    none failed; ``naive_schedules`` is the unreduced count when it was asked for.
    """

    scenario: str
    store: str
    size: int
    strategy: str
    seed: int | None
    schedules: int
    pruned: int
    complete: bool
    counterexample: Counterexample | None
    naive_schedules: int | None = None
    #: What limited the search beyond the scenario ("at most 1 fault(s) per schedule"), or "".
    bound: str = ""

    @property
    def found(self) -> bool:
        return self.counterexample is not None


def make_scheduler(strategy: str, seed: int, **options: Any) -> Scheduler:
    if strategy == "random":
        return RandomScheduler(seed, **options)
    if strategy == "pct":
        return PctScheduler(seed, **options)
    if strategy == "exhaustive":
        return ExhaustiveScheduler(**options)
    raise UnknownStrategy(
        f"unknown scheduler {strategy!r}; choose one of: {', '.join(STRATEGIES)}."
    )


def _probing(factory: StoreFactory) -> StoreFactory:
    """``factory`` whose stores report what each write did (``runtime.probed``), so that an
    exhaustive search counts a compare-and-set that lost as the read it was."""
    return lambda wrap: probed(factory(wrap))


def _checked_size(scenario: Scenario, size: int | None) -> int:
    size = scenario.default_size if size is None else size
    if not scenario.min_size <= size <= scenario.max_size:
        raise ValueError(
            f"--size {size} is out of range for scenario {scenario.name!r} "
            f"({scenario.min_size} to {scenario.max_size})."
        )
    return size


@attrs.frozen(kw_only=True)
class _LoopResult:
    schedules: int
    failing: Run | None
    exhausted: bool


def _loop(
    runner: ScheduleRunner,
    scheduler: Scheduler,
    budget: int | None,
    on_schedule: Callable[[int], None] | None,
) -> _LoopResult:
    """Run schedules until one fails, the budget is spent or the strategy has none left."""
    schedules = 0
    failing: Run | None = None
    while failing is not None or budget is None or schedules < budget:
        if not scheduler.new_execution():
            return _LoopResult(schedules=schedules, failing=failing, exhausted=failing is None)
        repeat = scheduler.repeating
        run = runner.run(scheduler)
        if run.execution.pruned:
            continue
        if repeat:
            if failing is not None:
                break
            continue
        schedules += 1
        if on_schedule is not None:
            on_schedule(schedules)
        if run.violations:
            failing = run
            if not scheduler.repeating:
                break
            # else: a repeat of this schedule is owed (a determinism check): run it first.
    return _LoopResult(schedules=schedules, failing=failing, exhausted=False)


def _shrink_budget(store_name: str) -> int:
    """Schedules a shrink may spend: thousands in process; against a server (a named backend
    with a schedule cap), as many as one of its explorations, so shrinking stays seconds."""
    try:
        cap = get_backend(store_name).max_schedules
    except LookupError:
        cap = None
    return SHRINK_TOTAL if cap is None else cap


def _shrunk(
    found: Counterexample,
    scenario: Scenario,
    size: int,
    factory: StoreFactory,
    coordinator: CoordinatorSpec,
    result: _LoopResult,
) -> Counterexample:
    """``found`` shrunk (``_shrink``), with ``found`` kept as its original; or ``found``."""
    assert result.failing is not None
    smaller = shrink_run(
        scenario,
        size,
        result.failing,
        factory,
        coordinator,
        seed=found.seed or 0,
        total=_shrink_budget(found.store),
    )
    if smaller is None:
        return found
    shrunk = build_counterexample(
        scenario=smaller.scenario,
        store=found.store,
        size=smaller.size,
        factory=factory,
        coordinator=coordinator,
        run=smaller.run,
        strategy=found.strategy,
        seed=found.seed,
        schedule_index=found.schedule_index,
        pytest_command=found.pytest_command,
    )
    return attrs.evolve(shrunk, original=found)


def _from_database(
    database: FailureDatabase,
    key: str,
    scenario: Scenario,
    store_name: str,
    size: int,
    factory: StoreFactory,
    scheduler: Scheduler,
    coordinator: CoordinatorSpec,
) -> Exploration | None:
    """The first saved failure of this check that still fails; the others are dropped."""
    for text in database.fetch(key):
        try:
            found = replay(text, factory=factory, coordinator=coordinator)
        except (ValueError, LookupError):
            found = None  # it no longer replays: the code or the scenario changed
        if found is None:
            database.delete(key, text)
            continue
        return Exploration(
            scenario=scenario.name,
            store=store_name,
            size=size,
            strategy=scheduler.name,
            seed=scheduler.seed,
            schedules=0,
            pruned=0,
            complete=False,
            counterexample=attrs.evolve(found, from_database=True),
        )
    return None


def _count_unreduced(runner: ScheduleRunner, scheduler: Scheduler) -> int | None:
    naive_scheduler = scheduler.unreduced()
    if naive_scheduler is None:
        return None
    naive = 0
    while naive_scheduler.new_execution():
        if not runner.run(naive_scheduler).execution.pruned:
            naive += 1
    return naive


def explore(
    scenario_name: str,
    store_name: str,
    strategy: str,
    *,
    seed: int = 0,
    budget: int | None = 1000,
    size: int | None = None,
    factory: StoreFactory | None = None,
    check_determinism: bool = False,
    count_naive: bool = False,
    preemption_bound: int | None = None,
    fault_budget: int | None = None,
    shrink: bool = True,
    database: FailureDatabase | None = None,
    shard: Shard | None = None,
    symmetry: bool = True,
    pytest_command: str | None = None,
    on_schedule: Callable[[int], None] | None = None,
    coordinator: CoordinatorLike = None,
) -> Exploration:
    """Run up to ``budget`` schedules (exhaustive: until done when ``budget`` is None) and stop
    at the first violation, returning it as a counterexample with its reproducer.

    ``fault_budget`` (exhaustive) caps the faults per schedule the search enumerates.
    ``shard`` explores one of N disjoint parts (:class:`Shard`); ``budget`` is the budget of
    the whole exploration, of which this part runs its own schedules.
    ``symmetry`` (exhaustive, default on; off for a user's coordinator) explores one of
    several interchangeable actors (:func:`symmetry_classes`) where it does not matter which
    goes first.
    ``shrink`` (default on) returns the smallest counterexample found (``_shrink``), with the
    one first found as its ``original``.  ``database`` (off by default here; on by default
    from the command line) replays the check's saved failures first and saves a new one.
    ``check_determinism`` runs every schedule twice (:class:`DeterminismCheck`) and raises
    ``NondeterminismError`` on the first difference.
    ``coordinator`` checks a user's coordinator instead of ``fleet.Coordinator``:
    ``MODULE:FACTORY`` or a factory ``(store, clock) -> coordinator`` (see ``_coordinators``).
    """
    spec = _coordinator_spec(coordinator, store_name)
    if spec.user and spec.name is None:
        database = None  # a lambda or a local factory: nothing to file its failures under
    scenario = get_scenario(scenario_name)
    size = _checked_size(scenario, size)
    options: dict[str, Any] = {}
    if strategy == "exhaustive" and preemption_bound is not None:
        options["preemption_bound"] = preemption_bound
    if strategy == "exhaustive" and fault_budget is not None:
        options["fault_budget"] = fault_budget
    # Not for a user's coordinator: its code may treat two workers' names differently, which
    # symmetry assumes it does not (fleet.Coordinator is written not to).
    if strategy == "exhaustive" and symmetry and not spec.user:
        options["symmetry"] = symmetry_classes(scenario, size)
    if shard is not None:
        options["shard"] = shard
        if budget is not None and strategy != "exhaustive":
            budget = len(range(shard.index, budget, shard.count))
    scheduler = make_scheduler(strategy, seed, **options)
    if check_determinism:
        scheduler = DeterminismCheck(scheduler)
    with contextlib.ExitStack() as opened:
        if factory is None:
            factory = opened.enter_context(get_backend(store_name).open())
        if strategy == "exhaustive":
            factory = _probing(factory)
        if database is not None:
            key = database.key(scenario.name, _checked_name(store_name, spec), size)
            saved = _from_database(
                database, key, scenario, store_name, size, factory, scheduler, spec
            )
            if saved is not None:
                return saved
        result = _explore(
            scenario, store_name, size, factory, scheduler, budget, count_naive, shrink,
            pytest_command, on_schedule, spec,
        )  # fmt: skip
        if database is not None and result.counterexample is not None:
            database.save(key, result.counterexample.token)
        return result


def _explore(
    scenario: Scenario,
    store_name: str,
    size: int,
    factory: StoreFactory,
    scheduler: Scheduler,
    budget: int | None,
    count_naive: bool,
    shrink: bool,
    pytest_command: str | None,
    on_schedule: Callable[[int], None] | None,
    coordinator: CoordinatorSpec,
) -> Exploration:
    runner = ScheduleRunner(scenario, size, factory, coordinator)
    try:
        result = _loop(runner, scheduler, budget, on_schedule)
    except RunTooLong as error:
        seed = "" if scheduler.seed is None else f" --seed {scheduler.seed}"
        user = f" --coordinator {coordinator.name}" if coordinator.user else ""
        raise RunTooLong(
            error.steps,
            f"; scenario {scenario.name} (size {size}) on store {store_name}, strategy "
            f"{scheduler.name}; reproduce with: claimcheck run --store {store_name} --scenario "
            f"{scenario.name} --size {size} --scheduler {scheduler.name}{seed}{user}",
        ) from None
    counterexample = None
    if result.failing is not None:
        counterexample = build_counterexample(
            scenario=scenario,
            store=store_name,
            size=size,
            factory=factory,
            coordinator=coordinator,
            run=result.failing,
            strategy=scheduler.name,
            seed=scheduler.seed,
            schedule_index=result.schedules,
            pytest_command=pytest_command,
        )
        if shrink:
            counterexample = _shrunk(counterexample, scenario, size, factory, coordinator, result)
    return Exploration(
        scenario=scenario.name,
        store=store_name,
        size=size,
        strategy=scheduler.name,
        seed=scheduler.seed,
        schedules=result.schedules,
        pruned=scheduler.pruned,
        complete=result.exhausted and scheduler.complete,
        bound=scheduler.bound,
        counterexample=counterexample,
        naive_schedules=_count_unreduced(runner, scheduler) if count_naive else None,
    )


def _coordinator_spec(coordinator: CoordinatorLike, store_name: str) -> CoordinatorSpec:
    """The user's coordinator, or ``fleet.Coordinator`` with the backend's options."""
    if coordinator is None:
        return CoordinatorSpec(options=coordinator_options(store_name))
    return as_spec(coordinator)


def _checked_name(store_name: str, spec: CoordinatorSpec) -> str:
    """What the failure database files a check under: the store, and a user's coordinator."""
    return f"{store_name}+{spec.name}" if spec.user else store_name


def replay(
    token_text: str,
    *,
    factory: StoreFactory | None = None,
    coordinator: CoordinatorLike = None,
) -> Counterexample | None:
    """Replay a schedule token; the counterexample it reproduces, or None if the run passes.
    ``coordinator``: the user's coordinator the token was found on, as ``explore`` takes it."""
    token = decode(token_text)
    scenario = get_scenario(token.scenario)
    # Before anything runs: a size out of the scenario's range is bad input, not a long wait.
    _checked_size(scenario, token.size)
    with contextlib.ExitStack() as opened:
        if factory is None:
            factory = opened.enter_context(get_backend(token.store).open())
        scheduler = ReplayScheduler(token.steps, token.data)
        spec = _coordinator_spec(coordinator, token.store)
        run = run_schedule(scenario, token.size, factory, scheduler, coordinator=spec)
        scheduler.check_complete(run.execution.schedule)
        if not run.violations:
            return None
        return build_counterexample(
            scenario=scenario,
            store=token.store,
            size=token.size,
            factory=factory,
            coordinator=spec,
            run=run,
            strategy="replay",
            seed=None,
            schedule_index=1,
        )
