"""Store contract and backends.

Layout: ``_contract`` (the ``Store`` protocol, ``Doc``, ``Expected``, results, errors),
``_points`` (scheduling points shared by every backend), ``_wrapper`` (``StoreWrapper``, the
one way to wrap a store, and the optional ``fork`` capability), ``_memory`` (``MemoryStore``),
``_read_check_write`` (``ReadCheckWriteStore``, the control that must fail), ``_sqlite``
(``SqliteStore``), ``cosmos/`` (``CosmosStore``, the only package importing azure).
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
from ._sqlite import SqliteStore, SqliteUnavailable, fresh_sqlite_stores
from ._wrapper import ForkableStore, StoreWrapper, can_fork

__all__ = [
    "CONTROLLED",
    "IO_THREADS",
    "Conflict",
    "Doc",
    "DocumentExists",
    "DocumentNotFound",
    "Expected",
    "ForkableStore",
    "MemoryStore",
    "NotFound",
    "OutcomeUnknown",
    "Point",
    "ReadCheckWriteStore",
    "SqliteStore",
    "SqliteUnavailable",
    "Store",
    "StoreError",
    "StoreMisuse",
    "StoreUnavailable",
    "StoreWrapper",
    "UpdateResult",
    "Updated",
    "can_fork",
    "checkpoint",
    "fresh_sqlite_stores",
    "run_io",
]


def __getattr__(name: str) -> object:
    # Lazy, so that `import stores` (and `import harness`) never pulls in azure.
    if name == "CosmosStore":
        from .cosmos import CosmosStore

        return CosmosStore
    raise AttributeError(f"module 'stores' has no attribute {name!r}")
