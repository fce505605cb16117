"""The explore layer: scenarios run under schedules, checked, and turned into reproducers.

Layout: ``_scenarios`` (shipped and ad-hoc scenarios, what an actor does), ``_verdict`` (the one
fleet check: a run recorded as a history, checked through the reference model), ``_runner``
(running and checking one schedule), ``_counterexample`` (traces, timelines, reproducers: one
builder for exploration and replay), ``_explore`` (opening the backend, the exploration loop,
replay), ``_trace`` (the tracing store), ``_batch`` (one concurrent batch of a state machine),
``_stateful`` (the Hypothesis state machines; imported by ``harness.stateful`` so that
``import harness`` stays free of Hypothesis), ``_concurrent`` (the same scenarios as real trio
tasks), ``_mainjob`` (the main job's table).  Depends on ``runtime``, ``check``, ``backends``,
``fleet``, ``models``, ``stores``.
"""

from typing import TYPE_CHECKING, Any

from ._batch import _Clock as BatchClock
from ._batch import _CountingStore as CountingStore
from ._concurrent import run_concurrently
from ._counterexample import (
    STRATEGIES,
    Counterexample,
    ScheduleFinding,
    TimelineOp,
    build_counterexample,
)
from ._explore import Exploration, UnknownStrategy, explore, make_scheduler, replay
from ._mainjob import DEFAULT_STORES, CheckRow, main_job, planned_checks, render_table
from ._runner import Run, ScheduleRunner, StoreFactory, run_schedule
from ._scenarios import Scenario, UnknownScenario, get_scenario, observed_state, scenario_names
from ._trace import TracingStore
from ._verdict import check_run, initial_state, observe

if TYPE_CHECKING:  # at run time, loaded on first use by __getattr__ below
    from ._stateful import BatchFinding, fleet_machine

__all__ = [
    "DEFAULT_STORES",
    "STRATEGIES",
    "BatchClock",
    "BatchFinding",
    "CheckRow",
    "Counterexample",
    "CountingStore",
    "Exploration",
    "Run",
    "Scenario",
    "ScheduleFinding",
    "ScheduleRunner",
    "StoreFactory",
    "TimelineOp",
    "TracingStore",
    "UnknownScenario",
    "UnknownStrategy",
    "build_counterexample",
    "check_run",
    "explore",
    "fleet_machine",
    "get_scenario",
    "initial_state",
    "main_job",
    "make_scheduler",
    "observe",
    "observed_state",
    "planned_checks",
    "render_table",
    "replay",
    "run_concurrently",
    "run_schedule",
    "scenario_names",
]


def __getattr__(name: str) -> Any:
    # The state machines import Hypothesis, which ``import harness`` must not: they load on
    # first use (``harness.stateful`` re-exports them).
    if name in {"BatchFinding", "fleet_machine"}:
        from . import _stateful

        return getattr(_stateful, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
