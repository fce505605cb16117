"""The explore layer: scenarios run under schedules, checked, and turned into reproducers.

Layout: ``_scenarios`` (shipped and ad-hoc scenarios, what an actor does), ``_explore`` (the
exploration loop, counterexamples, replay), ``_trace`` (readable per-step traces), ``_batch``
(one concurrent batch of a state machine, recorded as a history), ``_stateful`` (the Hypothesis
state machines; imported by ``harness.stateful`` so that ``import harness`` stays free of
Hypothesis), ``_concurrent`` (the same scenarios as real trio tasks), ``_mainjob`` (the main
job's table).  Depends on ``runtime``, ``check``, ``backends``, ``fleet``, ``models``, ``stores``.
"""

from ._batch import _Clock as BatchClock
from ._batch import _CountingStore as CountingStore
from ._concurrent import run_concurrently
from ._explore import (
    STRATEGIES,
    Counterexample,
    Exploration,
    Finding,
    NondeterminismError,
    StoreFactory,
    TimelineOp,
    UnknownStrategy,
    explore,
    make_scheduler,
    replay,
    run_schedule,
)
from ._mainjob import DEFAULT_STORES, CheckRow, main_job, planned_checks, render_table
from ._scenarios import Scenario, UnknownScenario, get_scenario, observed_state, scenario_names

__all__ = [
    "DEFAULT_STORES",
    "STRATEGIES",
    "BatchClock",
    "CheckRow",
    "Counterexample",
    "CountingStore",
    "Exploration",
    "Finding",
    "NondeterminismError",
    "Scenario",
    "StoreFactory",
    "TimelineOp",
    "UnknownScenario",
    "UnknownStrategy",
    "explore",
    "get_scenario",
    "main_job",
    "make_scheduler",
    "observed_state",
    "planned_checks",
    "render_table",
    "replay",
    "run_concurrently",
    "run_schedule",
    "scenario_names",
]
