"""The check layer: histories and the linearizability checker (our Porcupine).

Layout: ``_operation`` (``Operation``, ``HistoryEvent``, the history errors), ``_recorder``
(``HistoryRecorder``), ``_codec`` (inputs and outputs to JSON and back), ``_jsonl`` (the JSON
Lines history format), ``_porcupine`` (readers of Porcupine's history files), ``_edn`` and
``_jepsen`` (EDN, and Jepsen / Knossos histories in it), ``_checker`` (results and
explanations), ``_search`` (the hot loop: Wing & Gong with Lowe's memoization; ``_build``
compiles it with mypyc), ``_driver`` (partitions in turns or in processes), ``_models`` (the
models by name, what each accepts), ``_files`` (``check_history_files``, what ``claimcheck
check-history`` runs), ``_generate`` (generated kv histories, ``claimcheck gen-history``).  Depends
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
from ._generate import GENERATED_FORMATS
from ._generate import generate_kv_history
from ._generate import write_generated
from ._jepsen import read_jepsen_edn
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
    "GENERATED_FORMATS",
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
    "generate_kv_history",
    "read_jepsen_edn",
    "read_jsonl",
    "read_porcupine_etcd",
    "read_porcupine_kv",
    "write_generated",
    "write_jsonl",
]
