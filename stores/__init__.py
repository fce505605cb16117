"""Store contract and backends.

Layout: ``_contract`` (the ``Store`` protocol, ``Doc``, ``Expected``, results, errors),
``_points`` (scheduling points shared by every backend), ``_memory`` (``MemoryStore``),
``_read_check_write`` (``ReadCheckWriteStore``, the control that must fail).
"""

from ._contract import (
    Conflict,
    Doc,
    DocumentExists,
    DocumentNotFound,
    Expected,
    NotFound,
    OutcomeUnknown,
    Store,
    StoreError,
    StoreMisuse,
    StoreUnavailable,
    Updated,
    UpdateResult,
)
from ._memory import MemoryStore
from ._points import CONTROLLED, IO_THREADS, Point, checkpoint, run_io
from ._read_check_write import ReadCheckWriteStore

__all__ = [
    "CONTROLLED",
    "IO_THREADS",
    "Conflict",
    "Doc",
    "DocumentExists",
    "DocumentNotFound",
    "Expected",
    "MemoryStore",
    "NotFound",
    "OutcomeUnknown",
    "Point",
    "ReadCheckWriteStore",
    "Store",
    "StoreError",
    "StoreMisuse",
    "StoreUnavailable",
    "UpdateResult",
    "Updated",
    "checkpoint",
    "run_io",
]
