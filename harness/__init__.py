"""claimcheck's harness: the public face of the runtime, checker, exploration and reports.

Layout, in layers (each imports only the layers listed before it, plus ``models``, ``stores``
and ``fleet``):

- ``runtime/``: the stepper (one ``coro.send`` per step), ``choose``, the schedule token, and
  ``schedulers/`` (the ``Scheduler`` protocol, one strategy per module).
- ``check/``: operations and the history recorder, JSON Lines and Porcupine readers, the
  linearizability checker.  Depends on ``models`` only: our Porcupine, usable on its own.
- ``backends/``: the named stores of ``claimcheck run --store`` and the wrappers the harness
  puts around a store (faults, namespaces).
- ``explore/``: scenarios, the exploration loop, traces, counterexamples, replay, batches,
  state machines (``harness.stateful``), true-concurrency trials, the main job.
- ``conformance/``: the conformance suite for store backends.
- ``report/``: JSON and HTML reports.
- ``cli/``: the ``claimcheck`` command and its exit codes.
- ``pytest_plugin``: the pytest entry point (``--harness-seed``, ``--harness-store``).

Importing ``harness`` pulls in neither pytest, Hypothesis nor azure.
"""

from .backends import Backend
from .backends import UnknownBackend
from .backends import backend_names
from .backends import get_backend
from .check import HISTORY_FORMATS
from .check import HISTORY_MODELS
from .check import CheckResult
from .check import Finding
from .check import HistoryEvent
from .check import HistoryFormatError
from .check import HistoryMisuse
from .check import HistoryNotLinearizable
from .check import HistoryRecorder
from .check import LinearizabilityUndecided
from .check import LinearizabilityViolation
from .check import Operation
from .check import OpRef
from .check import Verdict
from .check import Violation
from .check import check_history_files
from .check import check_operations
from .check import read_jsonl
from .check import read_porcupine_etcd
from .check import read_porcupine_kv
from .check import write_jsonl
from .cli import Progress
from .explore import STRATEGIES
from .explore import Counterexample
from .explore import Exploration
from .explore import Scenario
from .explore import ScheduleFinding
from .explore import UnknownScenario
from .explore import explore
from .explore import get_scenario
from .explore import make_scheduler
from .explore import replay
from .explore import run_schedule
from .explore import scenario_names
from .report import write_report
from .runtime import ActorError
from .runtime import DeterminismCheck
from .runtime import Execution
from .runtime import NondeterminismError
from .runtime import RuntimeMisuse
from .runtime import ScheduleFormatError
from .runtime import ScheduleToken
from .runtime import decode
from .runtime import drive
from .runtime import encode
from .runtime import run_actors
from .runtime.schedulers import ExhaustiveScheduler
from .runtime.schedulers import HypothesisScheduler
from .runtime.schedulers import PctScheduler
from .runtime.schedulers import RandomScheduler
from .runtime.schedulers import ReplayScheduler
from .runtime.schedulers import ScheduleDiverged
from .runtime.schedulers import Scheduler

__all__ = [
    "HISTORY_FORMATS",
    "HISTORY_MODELS",
    "STRATEGIES",
    "ActorError",
    "Backend",
    "CheckResult",
    "Counterexample",
    "DeterminismCheck",
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
    "LinearizabilityViolation",
    "NondeterminismError",
    "OpRef",
    "Operation",
    "PctScheduler",
    "Progress",
    "RandomScheduler",
    "ReplayScheduler",
    "RuntimeMisuse",
    "Scenario",
    "ScheduleDiverged",
    "ScheduleFinding",
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
