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

from .backends import Backend, UnknownBackend, backend_names, get_backend
from .check import (
    HISTORY_FORMATS,
    HISTORY_MODELS,
    CheckResult,
    Finding,
    HistoryEvent,
    HistoryFormatError,
    HistoryMisuse,
    HistoryNotLinearizable,
    HistoryRecorder,
    LinearizabilityUndecided,
    LinearizabilityViolation,
    Operation,
    OpRef,
    Verdict,
    Violation,
    check_history_files,
    check_operations,
    read_jsonl,
    read_porcupine_etcd,
    read_porcupine_kv,
    write_jsonl,
)
from .cli import Progress
from .explore import (
    STRATEGIES,
    Counterexample,
    Exploration,
    Scenario,
    ScheduleFinding,
    UnknownScenario,
    explore,
    get_scenario,
    make_scheduler,
    replay,
    run_schedule,
    scenario_names,
)
from .report import write_report
from .runtime import (
    ActorError,
    DeterminismCheck,
    Execution,
    NondeterminismError,
    RuntimeMisuse,
    ScheduleFormatError,
    ScheduleToken,
    decode,
    drive,
    encode,
    run_actors,
)
from .runtime.schedulers import (
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
