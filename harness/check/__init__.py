"""The check layer: histories and the linearizability checker (our Porcupine).

Layout: ``_operation`` (``Operation``, ``HistoryEvent``, the history errors), ``_recorder``
(``HistoryRecorder``), ``_codec`` (inputs and outputs to JSON and back), ``_jsonl`` (the JSON
Lines history format), ``_porcupine`` (readers of Porcupine's history files), ``_checker``
(Wing & Gong with Lowe's memoization, P-compositional), ``_files`` (``check_history_files``,
what ``claimcheck check-history`` runs, and which values each named model accepts).  Depends
on ``models`` only, so it can be used on its own to check any history against any
``models.Model``.
"""

from .._findings import Finding
from .._findings import OpRef
from .._findings import Violation
from .._findings import ViolationKind
from ._checker import CheckResult
from ._checker import HistoryNotLinearizable
from ._checker import LinearizabilityUndecided
from ._checker import LinearizabilityViolation
from ._checker import Verdict
from ._checker import check_operations
from ._files import HISTORY_FORMATS
from ._files import HISTORY_MODELS
from ._files import HISTORY_OPERATIONS
from ._files import check_history_files
from ._jsonl import read_jsonl
from ._jsonl import write_jsonl
from ._operation import HistoryEvent
from ._operation import HistoryFormatError
from ._operation import HistoryMisuse
from ._operation import Operation
from ._porcupine import read_porcupine_etcd
from ._porcupine import read_porcupine_kv
from ._recorder import HistoryRecorder

__all__ = [
    "HISTORY_FORMATS",
    "HISTORY_MODELS",
    "HISTORY_OPERATIONS",
    "CheckResult",
    "Finding",
    "HistoryEvent",
    "HistoryFormatError",
    "HistoryMisuse",
    "HistoryNotLinearizable",
    "HistoryRecorder",
    "LinearizabilityUndecided",
    "LinearizabilityViolation",
    "OpRef",
    "Operation",
    "Verdict",
    "Violation",
    "ViolationKind",
    "check_history_files",
    "check_operations",
    "read_jsonl",
    "read_porcupine_etcd",
    "read_porcupine_kv",
    "write_jsonl",
]
