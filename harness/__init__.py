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

Every public name is imported on first use (PEP 562): ``import harness``, or a command that
needs only the checker, does not pay for trio and the exploration layers, and ``from harness
import X`` works as before for every name in ``__all__``.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from .backends import Backend as Backend
    from .backends import UnknownBackend as UnknownBackend
    from .backends import backend_names as backend_names
    from .backends import get_backend as get_backend
    from .check import HISTORY_FORMATS as HISTORY_FORMATS
    from .check import HISTORY_MODELS as HISTORY_MODELS
    from .check import CheckResult as CheckResult
    from .check import Finding as Finding
    from .check import HistoryEvent as HistoryEvent
    from .check import HistoryFormatError as HistoryFormatError
    from .check import HistoryMisuse as HistoryMisuse
    from .check import HistoryNotLinearizable as HistoryNotLinearizable
    from .check import HistoryRecorder as HistoryRecorder
    from .check import LinearizabilityUndecided as LinearizabilityUndecided
    from .check import LinearizabilityViolation as LinearizabilityViolation
    from .check import Operation as Operation
    from .check import OpRef as OpRef
    from .check import Verdict as Verdict
    from .check import Violation as Violation
    from .check import check_history_files as check_history_files
    from .check import check_operations as check_operations
    from .check import read_jsonl as read_jsonl
    from .check import read_porcupine_etcd as read_porcupine_etcd
    from .check import read_porcupine_kv as read_porcupine_kv
    from .check import write_jsonl as write_jsonl
    from .cli import Progress as Progress
    from .explore import STRATEGIES as STRATEGIES
    from .explore import CoordinatorMisuse as CoordinatorMisuse
    from .explore import CoordinatorSpec as CoordinatorSpec
    from .explore import Counterexample as Counterexample
    from .explore import Exploration as Exploration
    from .explore import Scenario as Scenario
    from .explore import ScheduleFinding as ScheduleFinding
    from .explore import UnknownScenario as UnknownScenario
    from .explore import explore as explore
    from .explore import get_scenario as get_scenario
    from .explore import load_coordinator as load_coordinator
    from .explore import make_scheduler as make_scheduler
    from .explore import replay as replay
    from .explore import run_schedule as run_schedule
    from .explore import scenario_names as scenario_names
    from .report import write_report as write_report
    from .runtime import ActorError as ActorError
    from .runtime import DeterminismCheck as DeterminismCheck
    from .runtime import Execution as Execution
    from .runtime import NondeterminismError as NondeterminismError
    from .runtime import RuntimeMisuse as RuntimeMisuse
    from .runtime import ScheduleFormatError as ScheduleFormatError
    from .runtime import ScheduleToken as ScheduleToken
    from .runtime import decode as decode
    from .runtime import drive as drive
    from .runtime import encode as encode
    from .runtime import run_actors as run_actors
    from .runtime.schedulers import ExhaustiveScheduler as ExhaustiveScheduler
    from .runtime.schedulers import HypothesisScheduler as HypothesisScheduler
    from .runtime.schedulers import PctScheduler as PctScheduler
    from .runtime.schedulers import RandomScheduler as RandomScheduler
    from .runtime.schedulers import ReplayScheduler as ReplayScheduler
    from .runtime.schedulers import ScheduleDiverged as ScheduleDiverged
    from .runtime.schedulers import Scheduler as Scheduler

#: The public names, by the module a first use imports them from.
_MODULES: dict[str, tuple[str, ...]] = {
    ".backends": (
        "Backend",
        "UnknownBackend",
        "backend_names",
        "get_backend",
    ),
    ".check": (
        "HISTORY_FORMATS",
        "HISTORY_MODELS",
        "CheckResult",
        "Finding",
        "HistoryEvent",
        "HistoryFormatError",
        "HistoryMisuse",
        "HistoryNotLinearizable",
        "HistoryRecorder",
        "LinearizabilityUndecided",
        "LinearizabilityViolation",
        "Operation",
        "OpRef",
        "Verdict",
        "Violation",
        "check_history_files",
        "check_operations",
        "read_jsonl",
        "read_porcupine_etcd",
        "read_porcupine_kv",
        "write_jsonl",
    ),
    ".cli": ("Progress",),
    ".explore": (
        "STRATEGIES",
        "CoordinatorMisuse",
        "CoordinatorSpec",
        "Counterexample",
        "Exploration",
        "Scenario",
        "ScheduleFinding",
        "UnknownScenario",
        "explore",
        "get_scenario",
        "load_coordinator",
        "make_scheduler",
        "replay",
        "run_schedule",
        "scenario_names",
    ),
    ".report": ("write_report",),
    ".runtime": (
        "ActorError",
        "DeterminismCheck",
        "Execution",
        "NondeterminismError",
        "RuntimeMisuse",
        "ScheduleFormatError",
        "ScheduleToken",
        "decode",
        "drive",
        "encode",
        "run_actors",
    ),
    ".runtime.schedulers": (
        "ExhaustiveScheduler",
        "HypothesisScheduler",
        "PctScheduler",
        "RandomScheduler",
        "ReplayScheduler",
        "ScheduleDiverged",
        "Scheduler",
    ),
}
_SOURCE_OF = {name: module for module, names in _MODULES.items() for name in names}
__all__ = sorted(_SOURCE_OF)


def __getattr__(name: str) -> Any:
    source = _SOURCE_OF.get(name)
    if source is None:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    value = getattr(importlib.import_module(source, __name__), name)
    globals()[name] = value  # the next use is a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _Harness(types.ModuleType):
    """``harness`` itself, so that the subpackage ``harness.explore`` never shadows the
    function ``harness.explore``.

    Importing a subpackage sets it as an attribute of its parent.  With every name imported
    on first use, ``import harness.explore`` (which any layer above it does) would make
    ``from harness import explore`` return the subpackage instead of the function; the
    subpackage stays reachable as ``sys.modules["harness.explore"]``, which is what
    ``from harness.explore import X`` reads.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _SOURCE_OF and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Harness
