"""Exploring schedules of a scenario on a store, and turning a failure into a reproducer."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from fleet import Coordinator
from models import FleetOp
from stores import Store

from ..backends import Wrap, coordinator_options, get_backend, identity
from ..runtime import Execution, ScheduleToken, drive, encode, run_actors
from ..runtime.schedulers import (
    ExhaustiveScheduler,
    PctScheduler,
    RandomScheduler,
    ReplayScheduler,
    Scheduler,
)
from ._scenarios import (
    OpHook,
    RunChecker,
    Scenario,
    actor_coroutine,
    describe_op,
    describe_result,
    get_scenario,
    perform,
    seed_documents,
)
from ._trace import TracingStore

__all__ = [
    "STRATEGIES",
    "Counterexample",
    "Exploration",
    "Finding",
    "NondeterminismError",
    "Run",
    "ScheduleRunner",
    "StoreFactory",
    "TimelineOp",
    "UnknownStrategy",
    "explore",
    "make_scheduler",
    "replay",
    "run_schedule",
]

StoreFactory = Callable[[Wrap], Store]
STRATEGIES = ("random", "pct", "exhaustive")


class UnknownStrategy(LookupError):
    pass


class NondeterminismError(AssertionError):
    """The same schedule ran twice and did not do the same thing."""


@attrs.frozen(kw_only=True)
class TimelineOp:
    """One operation of a counterexample, as a bar on its actor's lane.

    ``start``/``end`` count real store operations completed before the call began / after it
    returned (logical time, the same axis as the trace's step numbers).  ``violating`` marks
    the operations the first violation is about.
    """

    actor: str
    label: str
    result: str
    start: int
    end: int
    violating: bool


@attrs.frozen(kw_only=True)
class Counterexample:
    """Everything needed to see and reproduce one failing schedule."""

    scenario: str
    store: str
    size: int
    strategy: str
    seed: int | None
    schedule_index: int
    token: str
    violations: tuple[str, ...]
    trace: tuple[str, ...]
    pytest_command: str | None = None
    timeline: tuple[TimelineOp, ...] = ()
    #: ``MODULE:FACTORY`` of a store that is not a named backend (conformance runs).
    factory_spec: str | None = None

    def commands(self) -> list[str]:
        factory = f" --factory {self.factory_spec}" if self.factory_spec else ""
        lines = [f"claimcheck replay {self.token}{factory}"]
        if self.factory_spec:
            lines.append(f"claimcheck conformance {self.factory_spec} --seed {self.seed or 0}")
        elif self.strategy in STRATEGIES:
            seed = f" --seed {self.seed}" if self.seed is not None else ""
            lines.append(
                f"claimcheck run --store {self.store} --scenario {self.scenario} "
                f"--size {self.size} --scheduler {self.strategy}{seed} "
                f"--budget {self.schedule_index}"
            )
        if self.pytest_command:
            lines.append(self.pytest_command)
        return lines

    def render(self) -> str:
        seed = "" if self.seed is None else f", seed {self.seed}"
        out = [f"claimcheck finding: {self.violations[0]}"]
        out += [f"  also: {v}" for v in self.violations[1:]]
        out.append(
            f"  scenario {self.scenario} (size {self.size}) on store {self.store}, "
            f"strategy {self.strategy}{seed}, schedule #{self.schedule_index}"
        )
        out.append(f"  schedule: {self.token}")
        out.append("  reproduce with:")
        out += [f"    {cmd}" for cmd in self.commands()]
        out.append("  trace (step: actor operation -> what it saw):")
        out += [f"    {line}" for line in self.trace]
        return "\n".join(out)


class Finding(AssertionError):
    """A correct-looking store or coordinator broke an invariant; carries the reproducer."""

    def __init__(self, counterexample: Counterexample) -> None:
        super().__init__(counterexample.render())
        self.counterexample = counterexample


@attrs.frozen(kw_only=True)
class Exploration:
    """The outcome of exploring one scenario on one store with one strategy."""

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

    @property
    def found(self) -> bool:
        return self.counterexample is not None


def make_scheduler(strategy: str, seed: int, **options: Any) -> Scheduler:
    if strategy == "random":
        return RandomScheduler(seed)
    if strategy == "pct":
        return PctScheduler(seed, **options)
    if strategy == "exhaustive":
        return ExhaustiveScheduler(**options)
    raise UnknownStrategy(
        f"unknown scheduler {strategy!r}; choose one of: {', '.join(STRATEGIES)}."
    )


@attrs.frozen(kw_only=True)
class Run:
    execution: Execution
    names: tuple[str, ...]
    violations: tuple[str, ...]
    #: Faults a fault layer injected during the run, in order (see ``FaultyStore``).
    faults: tuple[str, ...] = ()


class ScheduleRunner:
    """Runs schedules of one scenario on one backend, sharing what can be shared.

    The verdict memo (``RunChecker``) and, when the store can ``fork()``, a store on which the
    set-up already ran: each schedule then starts from a fork instead of re-running set-up.
    Traced runs (``wrap`` given) always build and set up a fresh store.
    """

    def __init__(
        self,
        scenario: Scenario,
        size: int,
        factory: StoreFactory,
        coordinator: Mapping[str, Any] | None = None,
    ) -> None:
        self.scenario = scenario
        self.size = size
        self.factory = factory
        self.options = dict(coordinator or {})
        self.named = scenario.actors(size)
        self.names = tuple(name for name, _ in self.named)
        self.checker = RunChecker(scenario, self.names)
        self._template: Any = None

    def _coordinator(self, wrap: Wrap) -> Coordinator:
        if wrap is identity and self._template is not None:
            return Coordinator(self._template.fork(), partition="jobs", **self.options)
        coord = Coordinator(self.factory(wrap), partition="jobs", **self.options)
        if self.scenario.initial.jobs:
            drive(seed_documents(coord, self.scenario.initial))
        for op in self.scenario.setup:
            drive(perform(coord, op))
        if wrap is identity and hasattr(coord.store, "fork"):
            try:
                first = coord.store.fork()
            except (AttributeError, NotImplementedError):
                return coord  # a wrapper whose inner store cannot fork
            self._template = coord.store
            return Coordinator(first, partition="jobs", **self.options)
        return coord

    def run(
        self,
        scheduler: Scheduler,
        wrap: Wrap = identity,
        after_setup: Callable[[], None] | None = None,
        memo: bool = True,
        hooks: Sequence[OpHook] | None = None,
    ) -> Run:
        """Set up, run the actors under ``scheduler``, check the outcome."""
        coord = self._coordinator(wrap)
        if after_setup is not None:
            after_setup()
        execution = run_actors(
            [
                actor_coroutine(coord, ops, None if hooks is None else hooks[i])
                for i, (_, ops) in enumerate(self.named)
            ],
            scheduler,
        )
        if execution.pruned:
            return Run(execution=execution, names=self.names, violations=())
        docs = drive(coord.list_documents())
        checker = self.checker if memo else RunChecker(self.scenario, self.names)
        return Run(
            execution=execution,
            names=self.names,
            violations=checker(execution.results, docs),
            faults=tuple(getattr(coord.store, "injected", ())),
        )


def run_schedule(
    scenario: Scenario,
    size: int,
    factory: StoreFactory,
    scheduler: Scheduler,
    wrap: Wrap = identity,
    coordinator: Mapping[str, Any] | None = None,
) -> Run:
    """Run one schedule of ``scenario`` on a fresh store from ``factory`` and check it."""
    return ScheduleRunner(scenario, size, factory, coordinator).run(scheduler, wrap)


def _trace(
    scenario: Scenario,
    size: int,
    factory: StoreFactory,
    steps: Sequence[int],
    data: Sequence[int] = (),
    coordinator: Mapping[str, Any] | None = None,
) -> tuple[tuple[str, ...], tuple[TimelineOp, ...]]:
    """Replay with a tracing store: the readable trace, and the timeline of operations."""
    tracers: list[TracingStore] = []
    bars: list[dict[str, Any]] = []

    def wrap(store: Store) -> Store:
        tracer = TracingStore(store)
        tracers.append(tracer)
        return tracer

    def hook_for(actor: str) -> OpHook:
        def hook(op: FleetOp, result: Any) -> None:
            now = len(tracers[0].log)
            if result is None:
                bars.append({"actor": actor, "op": op, "start": now})
            else:
                bar = next(b for b in reversed(bars) if b["actor"] == actor)
                bar.update(end=now, result=describe_result(result))

        return hook

    runner = ScheduleRunner(scenario, size, factory, coordinator)
    run = runner.run(
        ReplayScheduler(steps, data),
        wrap,
        lambda: tracers[0].log.clear(),
        hooks=[hook_for(name) for name in runner.names],
    )
    log = iter(tracers[0].log)
    lines = []
    # Each step performs one real store operation (so log lines align with steps), except a
    # "delay" step, an extra point a fault layer inserted.
    for s, (actor, point) in enumerate(
        zip(run.execution.schedule, run.execution.points, strict=True)
    ):
        seen = "(delayed by an injected fault)" if point[0] == "delay" else next(log, "")
        lines.append(f"{s + 1:>3}: {run.names[actor]:<7} {seen}")
    lines += [f"     fault: {fault}" for fault in run.faults]
    first = run.violations[0] if run.violations else ""
    if first.startswith("not linearizable"):
        # The generic sentence lists every call; mark the ones that changed or claimed to
        # change something (and lost races, which may have won: the misleading 412).
        marks = [b.get("result", "").split(" ")[0] in _SUSPECT for b in bars]
    else:
        marks = [_mentioned(b["op"], first) for b in bars]
    if not any(marks):
        # A violation about a job's state: mark the calls that changed that job.
        marks = [
            f"job {getattr(b['op'], 'job_id', '')} " in first + " "
            and b.get("result", "").split(" ")[0] in _CHANGED
            for b in bars
        ]
    timeline = tuple(
        TimelineOp(
            actor=b["actor"],
            label=describe_op(b["op"]),
            result=b.get("result", "?"),
            start=b["start"],
            end=b.get("end", b["start"]),
            violating=mark,
        )
        for b, mark in zip(bars, marks, strict=True)
    )
    return tuple(lines), timeline


_CHANGED = frozenset({"claimed", "renewed", "completed", "released", "reaped"})
_SUSPECT = _CHANGED | {"conflict", "unknown"}


def _mentioned(op: FleetOp, violation: str) -> bool:
    """Is this operation one the violation sentence is about?"""
    if describe_op(op) in violation:
        return True
    worker = getattr(op, "worker_id", None)
    return worker is not None and f" {worker} " in f" {violation} ".replace(",", " ")


def _first_divergence(a: Run, b: Run) -> str | None:
    for s, (x, y) in enumerate(zip(a.execution.points, b.execution.points, strict=False)):
        if x != y or a.execution.schedule[s] != b.execution.schedule[s]:
            return f"step {s + 1}: first run did {x} by actor {a.execution.schedule[s]}, second {y}"
    if len(a.execution.points) != len(b.execution.points):
        return f"the runs took {len(a.execution.points)} and {len(b.execution.points)} steps"
    if repr(a.execution.results) != repr(b.execution.results):
        return "same steps, but the actors returned different results"
    if a.violations != b.violations:
        return "same steps and results, but different verdicts"
    return None


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
    pytest_command: str | None = None,
    on_schedule: Callable[[int], None] | None = None,
) -> Exploration:
    """Run up to ``budget`` schedules (exhaustive: until done when ``budget`` is None) and stop
    at the first violation, returning it as a counterexample with its reproducer."""
    scenario = get_scenario(scenario_name)
    size = scenario.default_size if size is None else size
    if not scenario.min_size <= size <= scenario.max_size:
        raise ValueError(
            f"--size {size} is out of range for scenario {scenario_name!r} "
            f"({scenario.min_size} to {scenario.max_size})."
        )
    if factory is None:
        with get_backend(store_name).open() as opened:
            return explore(
                scenario_name,
                store_name,
                strategy,
                seed=seed,
                budget=budget,
                size=size,
                factory=opened,
                check_determinism=check_determinism,
                count_naive=count_naive,
                preemption_bound=preemption_bound,
                pytest_command=pytest_command,
                on_schedule=on_schedule,
            )
    options: dict[str, Any] = {}
    if strategy == "exhaustive" and preemption_bound is not None:
        options["preemption_bound"] = preemption_bound
    scheduler = make_scheduler(strategy, seed, **options)
    options = dict(coordinator_options(store_name))
    runner = ScheduleRunner(scenario, size, factory, options)
    schedules = 0
    counterexample: Counterexample | None = None
    while budget is None or schedules < budget:
        if not scheduler.new_execution():
            break
        run = runner.run(scheduler)
        if run.execution.pruned:
            continue
        schedules += 1
        if on_schedule is not None:
            on_schedule(schedules)
        if isinstance(scheduler, PctScheduler):
            scheduler.observe_length(len(run.execution.schedule))
        if check_determinism:
            # A fresh store and no verdict memo: the second run must be computed afresh.
            again = ScheduleRunner(scenario, size, factory, options).run(
                ReplayScheduler(run.execution.schedule, run.execution.data), memo=False
            )
            divergence = _first_divergence(run, again)
            if divergence is not None:
                raise NondeterminismError(
                    f"schedule #{schedules} of {scenario_name} on {store_name} is not "
                    f"deterministic: {divergence}. Something outside the scheduler (a clock, "
                    "a random source, thread timing) decides what the store or actors do."
                )
        if run.violations:
            token = encode(
                ScheduleToken(
                    scenario=scenario_name,
                    store=store_name,
                    size=size,
                    steps=run.execution.schedule,
                    data=run.execution.data,
                )
            )
            trace, timeline = _trace(
                scenario, size, factory, run.execution.schedule, run.execution.data, options
            )
            counterexample = Counterexample(
                scenario=scenario_name,
                store=store_name,
                size=size,
                strategy=strategy,
                seed=None if strategy == "exhaustive" else seed,
                schedule_index=schedules,
                token=token,
                violations=run.violations,
                trace=trace,
                timeline=timeline,
                pytest_command=pytest_command,
            )
            break
    complete = (
        isinstance(scheduler, ExhaustiveScheduler)
        and scheduler.complete
        and counterexample is None
        and (budget is None or schedules < budget)
    )
    naive: int | None = None
    if count_naive and isinstance(scheduler, ExhaustiveScheduler):
        naive_scheduler = ExhaustiveScheduler(reduction=False)
        naive = 0
        while naive_scheduler.new_execution():
            naive_run = runner.run(naive_scheduler)
            if not naive_run.execution.pruned:
                naive += 1
    return Exploration(
        scenario=scenario_name,
        store=store_name,
        size=size,
        strategy=strategy,
        seed=None if strategy == "exhaustive" else seed,
        schedules=schedules,
        pruned=scheduler.pruned if isinstance(scheduler, ExhaustiveScheduler) else 0,
        complete=complete,
        counterexample=counterexample,
        naive_schedules=naive,
    )


def replay(token_text: str, *, factory: StoreFactory | None = None) -> Counterexample | None:
    """Replay a schedule token; the counterexample it reproduces, or None if the run passes."""
    from ..runtime import decode

    token = decode(token_text)
    scenario = get_scenario(token.scenario)
    if factory is None:
        with get_backend(token.store).open() as opened:
            return replay(token_text, factory=opened)
    scheduler = ReplayScheduler(token.steps, token.data)
    options = dict(coordinator_options(token.store))
    run = run_schedule(scenario, token.size, factory, scheduler, coordinator=options)
    scheduler.check_complete(run.execution.schedule)
    if not run.violations:
        return None
    trace, timeline = _trace(scenario, token.size, factory, token.steps, token.data, options)
    return Counterexample(
        scenario=token.scenario,
        store=token.store,
        size=token.size,
        strategy="replay",
        seed=None,
        schedule_index=1,
        token=encode(token),
        violations=run.violations,
        trace=trace,
        timeline=timeline,
    )
