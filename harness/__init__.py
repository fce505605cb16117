"""claimcheck's harness: controlled runtime, schedulers, scenarios, reproducers, CLI, plugin.

Layout: ``_runtime`` (stepping actors under a scheduler), ``schedulers/`` (one strategy per
module), ``_schedule`` (token encoding), ``_scenarios`` (shipped scenarios and their
model-derived checks), ``_explore`` (exploration, findings, replay), ``_trace`` (readable
traces), ``_backends`` (named stores), ``_cli`` (the ``claimcheck`` command),
``pytest_plugin`` (``--harness-seed``).  Importing ``harness`` pulls in neither pytest nor
azure.
"""

from ._backends import Backend, UnknownBackend, backend_names, get_backend
from ._explore import (
    STRATEGIES,
    Counterexample,
    Exploration,
    Finding,
    NondeterminismError,
    explore,
    make_scheduler,
    replay,
    run_schedule,
)
from ._runtime import ActorError, Execution, RuntimeMisuse, drive, run_actors
from ._scenarios import Scenario, UnknownScenario, get_scenario, scenario_names
from ._schedule import ScheduleFormatError, ScheduleToken, decode, encode
from .schedulers import (
    ExhaustiveScheduler,
    HypothesisScheduler,
    PctScheduler,
    RandomScheduler,
    ReplayScheduler,
    ScheduleDiverged,
    Scheduler,
)

__all__ = [
    "STRATEGIES",
    "ActorError",
    "Backend",
    "Counterexample",
    "Execution",
    "ExhaustiveScheduler",
    "Exploration",
    "Finding",
    "HypothesisScheduler",
    "NondeterminismError",
    "PctScheduler",
    "RandomScheduler",
    "ReplayScheduler",
    "RuntimeMisuse",
    "Scenario",
    "ScheduleDiverged",
    "ScheduleFormatError",
    "ScheduleToken",
    "Scheduler",
    "UnknownBackend",
    "UnknownScenario",
    "backend_names",
    "decode",
    "drive",
    "encode",
    "explore",
    "get_backend",
    "get_scenario",
    "make_scheduler",
    "replay",
    "run_actors",
    "run_schedule",
    "scenario_names",
]
