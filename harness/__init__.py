"""claimcheck's harness: controlled runtime, schedulers, scenarios, reproducers, CLI, plugin.

Layout: ``_runtime`` (stepping actors under a scheduler), ``schedulers/`` (one strategy per
module), ``_schedule`` (token encoding), ``_scenarios`` (shipped scenarios and their
model-derived checks), ``_explore`` (exploration, findings, replay), ``_trace`` (readable
traces), ``_backends`` (named stores), ``_cli`` (the ``claimcheck`` command),
``pytest_plugin`` (``--harness-seed``).  Importing ``harness`` pulls in neither pytest nor
azure.
"""

from ._backends import Backend, UnknownBackend, backend_names, get_backend
from ._check_history import HISTORY_FORMATS, HISTORY_MODELS, check_history_files
from ._checker import (
    CheckResult,
    HistoryNotLinearizable,
    LinearizabilityUndecided,
    Verdict,
    Violation,
    check_operations,
)
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
from ._history import (
    HistoryEvent,
    HistoryFormatError,
    HistoryMisuse,
    HistoryRecorder,
    Operation,
    read_jsonl,
    write_jsonl,
)
from ._porcupine import read_porcupine_etcd, read_porcupine_kv
from ._report import Progress, write_report
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
    "HISTORY_FORMATS",
    "HISTORY_MODELS",
    "STRATEGIES",
    "ActorError",
    "Backend",
    "CheckResult",
    "Counterexample",
    "Execution",
    "ExhaustiveScheduler",
    "Exploration",
    "Finding",
    "HistoryEvent",
    "HistoryFormatError",
    "HistoryMisuse",
    "HistoryNotLinearizable",
    "HistoryRecorder",
    "HypothesisScheduler",
    "LinearizabilityUndecided",
    "NondeterminismError",
    "Operation",
    "PctScheduler",
    "Progress",
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
    "Verdict",
    "Violation",
    "backend_names",
    "check_history_files",
    "check_operations",
    "decode",
    "drive",
    "encode",
    "explore",
    "get_backend",
    "get_scenario",
    "make_scheduler",
    "read_jsonl",
    "read_porcupine_etcd",
    "read_porcupine_kv",
    "replay",
    "run_actors",
    "run_schedule",
    "scenario_names",
    "write_jsonl",
    "write_report",
]
