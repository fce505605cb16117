"""The check layer: histories and the linearizability checker (our Porcupine).

Layout: ``_history`` (operations, the recorder, the value codec, JSON Lines), ``_porcupine``
(readers of Porcupine's history files), ``_checker`` (Wing & Gong with Lowe's memoization,
P-compositional), ``_files`` (``check_history_files``, what ``claimcheck check-history`` runs).
Depends on ``models`` only, so it can be used on its own to check any history against any
``models.Model``.
"""

from ._checker import (
    CheckResult,
    HistoryNotLinearizable,
    LinearizabilityUndecided,
    Verdict,
    Violation,
    check_operations,
)
from ._files import HISTORY_FORMATS, HISTORY_MODELS, check_history_files
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

__all__ = [
    "HISTORY_FORMATS",
    "HISTORY_MODELS",
    "CheckResult",
    "HistoryEvent",
    "HistoryFormatError",
    "HistoryMisuse",
    "HistoryNotLinearizable",
    "HistoryRecorder",
    "LinearizabilityUndecided",
    "Operation",
    "Verdict",
    "Violation",
    "check_history_files",
    "check_operations",
    "read_jsonl",
    "read_porcupine_etcd",
    "read_porcupine_kv",
    "write_jsonl",
]
