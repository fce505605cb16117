"""Counterexamples: a failing schedule made readable and reproducible.

One builder (:func:`build_counterexample`) serves exploration and ``replay`` alike: it replays
the schedule once more with a tracing store, and returns the trace, the timeline (one bar per
call, the calls the first violation is about marked from the violation's own data) and the
commands that reproduce it.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

import attrs

from models import FleetOp
from stores import Store

from .._findings import Finding
from .._findings import OpRef
from .._findings import Violation
from ..runtime import ReplayScheduler
from ..runtime import ScheduleToken
from ..runtime import encode
from ._coordinators import CoordinatorSpec
from ._runner import Run
from ._runner import ScheduleRunner
from ._runner import StoreFactory
from ._scenarios import OpHook
from ._scenarios import Scenario
from ._scenarios import describe_op
from ._scenarios import describe_result
from ._trace import TracingStore

__all__ = [
    "STRATEGIES",
    "Counterexample",
    "ScheduleFinding",
    "TimelineOp",
    "build_counterexample",
]

#: The strategies ``claimcheck run --scheduler`` accepts (a rerun command names one).
STRATEGIES = ("random", "pct", "exhaustive")


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
    violations: tuple[Violation, ...]
    trace: tuple[str, ...]
    pytest_command: str | None = None
    timeline: tuple[TimelineOp, ...] = ()
    #: ``MODULE:FACTORY`` of a store that is not a named backend (conformance runs).
    factory_spec: str | None = None
    #: ``MODULE:FACTORY`` of a user's coordinator (``--coordinator``), when it was one; ""
    #: for one given as a Python object that no ``MODULE:FACTORY`` names (a lambda, a local).
    coordinator_spec: str | None = None
    #: The counterexample as first found, when this one is its shrunk form (see ``_shrink``).
    original: Counterexample | None = None
    #: Replayed from the failure database rather than found by this run's exploration.
    from_database: bool = False

    def commands(self) -> list[str]:
        if self.coordinator_spec == "":
            # No command line can name the coordinator: replay it from Python.
            return [f'harness.replay("{self.token}", coordinator=<the same factory>)']
        factory = f" --factory {self.factory_spec}" if self.factory_spec else ""
        coordinator = f" --coordinator {self.coordinator_spec}" if self.coordinator_spec else ""
        lines = [f"claimcheck replay {self.token}{factory}{coordinator}"]
        found = self.original or self  # the rerun reproduces the search that found it
        if self.factory_spec:
            lines.append(f"claimcheck conformance {self.factory_spec} --seed {found.seed or 0}")
        elif found.strategy in STRATEGIES:
            seed = f" --seed {found.seed}" if found.seed is not None else ""
            lines.append(
                f"claimcheck run --store {found.store} --scenario {found.scenario} "
                f"--size {found.size} --scheduler {found.strategy}{seed} "
                f"--budget {found.schedule_index}{coordinator}"
            )
        if self.pytest_command:
            lines.append(self.pytest_command)
        return lines

    def _scenario_label(self) -> str:
        if not self.scenario.startswith("x-"):
            return self.scenario
        # An ad-hoc workload's name is the whole workload: name its actors instead.
        actors = ", ".join(dict.fromkeys(op.actor for op in self.timeline))
        base = f"{self.original.scenario} cut down to" if self.original else "ad hoc, with"
        return f"{base} actors {actors} (the workload is in the token)"

    def render(self) -> str:
        seed = "" if self.seed is None else f", seed {self.seed}"
        out = [f"claimcheck finding: {self.violations[0].sentence}"]
        out += [f"  also: {v.sentence}" for v in self.violations[1:]]
        out.append(
            f"  scenario {self._scenario_label()} (size {self.size}) on store {self.store}, "
            f"strategy {self.strategy}{seed}, schedule #{self.schedule_index}"
        )
        if self.from_database:
            out.append("  replayed first from the failure database (it failed on an earlier run)")
        if self.original is not None:
            o = self.original
            out.append(
                f"  shrunk from {o.size} actors and {len(o.trace)} steps (scenario "
                f"{o.scenario}, schedule #{o.schedule_index}) to {self.size} actors and "
                f"{len(self.trace)} steps; the original is in the JSON report"
            )
        out.append(f"  schedule: {self.token}")
        out.append("  reproduce with:")
        out += [f"    {cmd}" for cmd in self.commands()]
        out.append("  trace (step: actor operation -> what it saw):")
        out += [f"    {line}" for line in self.trace]
        return "\n".join(out)


class ScheduleFinding(Finding):
    """A schedule broke a property of the fleet; carries the counterexample and its reproducer."""

    def __init__(self, counterexample: Counterexample) -> None:
        super().__init__(counterexample.render())
        self.counterexample = counterexample


def _trace(
    runner: ScheduleRunner, steps: Sequence[int], data: Sequence[int], about: Violation | None
) -> tuple[tuple[str, ...], tuple[TimelineOp, ...]]:
    """Replay with a tracing store: the readable trace, and the timeline of operations."""
    tracers: list[TracingStore] = []
    bars: list[dict[str, Any]] = []
    calls: dict[str, int] = {}

    def wrap(store: Store) -> Store:
        tracer = TracingStore(store)
        tracers.append(tracer)
        return tracer

    def hook_for(actor: str) -> OpHook:
        def hook(op: FleetOp, result: Any) -> None:
            now = len(tracers[0].log)
            if result is None:
                index = calls.get(actor, 0)
                calls[actor] = index + 1
                bars.append({"actor": actor, "op": op, "start": now, "index": index})
            else:
                bar = next(b for b in reversed(bars) if b["actor"] == actor)
                bar.update(end=now, result=describe_result(result))

        return hook

    run = runner.run(
        ReplayScheduler(steps, data),
        wrap,
        lambda: tracers[0].log.clear(),
        hooks=[hook_for(name) for name in runner.names],
    )
    return _trace_lines(run, tracers[0].log), _timeline(bars, about)


_NOT_STORE = frozenset({"delay", "asyncio", "trio"})


def _trace_lines(run: Run, log: Sequence[str]) -> tuple[str, ...]:
    """One line per step: its actor, and the operations that completed in that step.

    A step resumes one actor at its pending point; the actor's operation may complete then,
    or, in a store with several points per operation, go on to its next point.  The log says
    in which step each line was written (``TraceLog.steps``), counting the steps that resumed
    a call inside the tracing store: every step but a "delay" one (an extra point a fault
    layer outside it inserted).  Lines written after the last step (the final reads of the
    state) are not part of the schedule.
    """
    schedule, points = run.execution.schedule, run.execution.points
    written = getattr(log, "steps", None)
    if written is None or len(written) != len(log):
        written = [n + 1 for n in range(len(log))]  # a plain log: one line per step
    # Steps that resume a call inside the tracing store: not a fault layer's delay, and not a
    # step of asyncio or trio code between store operations (``ASYNCIO_STEP``).
    traced = [s for s, point in enumerate(points) if point[0] not in _NOT_STORE]
    done: dict[int, list[str]] = {}
    before: list[str] = []
    for line, k in zip(log, written, strict=True):
        if k == 0:
            before.append(line)
        elif k <= len(traced):
            done.setdefault(traced[k - 1], []).append(line)
    lines = [f"  0: (before the first step) {line}" for line in before]
    for s, (actor, point) in enumerate(zip(schedule, points, strict=True)):
        if point[0] == "delay":
            seen = "(delayed by an injected fault)"
        elif point[0] in _NOT_STORE and s not in done:
            seen = f"(ran its {point[0]} code up to its next await)"
        elif s in done:
            seen = "; ".join(done[s])
        else:
            target = point[2] if point[2] is not None else point[1]
            seen = f"(passed its point {point[0]}({target}); the call goes on)"
        lines.append(f"{s + 1:>3}: {_who(run, actor):<7} {seen}")
    lines += [f"     fault: {fault}" for fault in run.faults]
    return tuple(lines)


def _who(run: Run, index: int) -> str:
    """An actor's name, or for a task an actor spawned, "<actor>/task<k>"."""
    names = run.names
    if index < len(names):
        return names[index]
    owners = run.execution.owners
    k = index - len(names)
    owner = names[owners[k]] if k < len(owners) and owners[k] < len(names) else "?"
    return f"{owner}/task{k}"


def _timeline(bars: Sequence[Mapping[str, Any]], about: Violation | None) -> tuple[TimelineOp, ...]:
    marked = set() if about is None else set(about.operations)
    return tuple(
        TimelineOp(
            actor=b["actor"],
            label=describe_op(b["op"]),
            result=b.get("result", "?"),
            start=b["start"],
            end=b.get("end", b["start"]),
            violating=OpRef(actor=b["actor"], index=b["index"]) in marked,
        )
        for b in bars
    )


def build_counterexample(
    *,
    scenario: Scenario,
    store: str,
    size: int,
    factory: StoreFactory,
    coordinator: CoordinatorSpec,
    run: Run,
    strategy: str,
    seed: int | None,
    schedule_index: int,
    pytest_command: str | None = None,
) -> Counterexample:
    """The counterexample of a failing ``run``: its token, trace, timeline and commands."""
    steps, data = run.execution.schedule, run.execution.data
    token = encode(
        ScheduleToken(scenario=scenario.name, store=store, size=size, steps=steps, data=data)
    )
    runner = ScheduleRunner(scenario, size, factory, coordinator)
    trace, timeline = _trace(runner, steps, data, run.violations[0] if run.violations else None)
    return Counterexample(
        scenario=scenario.name,
        store=store,
        size=size,
        strategy=strategy,
        seed=seed,
        schedule_index=schedule_index,
        token=token,
        violations=run.violations,
        trace=trace,
        timeline=timeline,
        pytest_command=pytest_command,
        coordinator_spec=(coordinator.name or "") if coordinator.user else None,
    )
