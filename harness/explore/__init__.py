"""The explore layer: scenarios run under schedules, checked, and turned into reproducers.

Layout: ``_scenarios`` (shipped and ad-hoc scenarios, what an actor does), ``_verdict`` (the one
fleet check: a run recorded as a history, checked through the reference model), ``_documents`` (``fleet``'s documents in the model's terms), ``_coordinators`` (the coordinator under test: ``fleet``'s or a
user's), ``_runner``
(running and checking one schedule), ``_counterexample`` (traces, timelines, reproducers: one
builder for exploration and replay), ``_explore`` (opening the backend, the exploration loop,
replay), ``_trace`` (the tracing store), ``_batch`` (one concurrent batch of a state machine),
``_stateful`` (the Hypothesis state machines; imported by ``harness.stateful`` so that
``import harness`` stays free of Hypothesis), ``_concurrent`` (the same scenarios as real trio
tasks), ``_mainjob`` (the main job's table).  Depends on ``runtime``, ``check``, ``backends``,
``fleet``, ``models``, ``stores``.
"""

from typing import TYPE_CHECKING
from typing import Any

from ._concurrent import run_concurrently
from ._coordinators import CoordinatorLike
from ._coordinators import CoordinatorMisuse
from ._coordinators import CoordinatorSpec
from ._coordinators import ScenarioClock
from ._coordinators import SetupFinding
from ._coordinators import load_coordinator
from ._counterexample import STRATEGIES
from ._counterexample import Counterexample
from ._counterexample import ScheduleFinding
from ._counterexample import TimelineOp
from ._counterexample import build_counterexample
from ._database import FailureDatabase
from ._database import default_database
from ._documents import observed_state
from ._explore import Exploration
from ._explore import UnknownStrategy
from ._explore import explore
from ._explore import make_scheduler
from ._explore import replay
from ._mainjob import DEFAULT_COORDINATORS
from ._mainjob import DEFAULT_STORES
from ._mainjob import EXHAUSTIVE_CAP
from ._mainjob import CheckRow
from ._mainjob import main_job
from ._mainjob import planned_checks
from ._mainjob import render_table
from ._runner import Run
from ._runner import ScheduleRunner
from ._runner import StoreFactory
from ._runner import run_schedule
from ._scenarios import Scenario
from ._scenarios import UnknownScenario
from ._scenarios import adhoc_scenario
from ._scenarios import get_scenario
from ._scenarios import scenario_names
from ._scenarios import symmetry_classes
from ._trace import TracingStore
from ._verdict import check_run
from ._verdict import initial_state
from ._verdict import observe

if TYPE_CHECKING:  # at run time, loaded on first use by __getattr__ below
    from ._stateful import BatchFinding
    from ._stateful import fleet_machine

__all__ = [
    "DEFAULT_COORDINATORS",
    "DEFAULT_STORES",
    "EXHAUSTIVE_CAP",
    "STRATEGIES",
    "BatchFinding",
    "CheckRow",
    "CoordinatorLike",
    "CoordinatorMisuse",
    "CoordinatorSpec",
    "Counterexample",
    "Exploration",
    "FailureDatabase",
    "Run",
    "Scenario",
    "ScenarioClock",
    "ScheduleFinding",
    "ScheduleRunner",
    "SetupFinding",
    "StoreFactory",
    "TimelineOp",
    "TracingStore",
    "UnknownScenario",
    "UnknownStrategy",
    "adhoc_scenario",
    "build_counterexample",
    "check_run",
    "default_database",
    "explore",
    "fleet_machine",
    "get_scenario",
    "initial_state",
    "load_coordinator",
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
    "symmetry_classes",
]


def __getattr__(name: str) -> Any:
    # The state machines import Hypothesis, which ``import harness`` must not: they load on
    # first use (``harness.stateful`` re-exports them).
    if name in {"BatchFinding", "fleet_machine"}:
        from . import _stateful

        return getattr(_stateful, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
