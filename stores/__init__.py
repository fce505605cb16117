"""Store contract and backends.

Layout: ``_contract`` (the ``Store`` protocol, ``Doc``, ``Expected``, results, errors, and the
argument checks and body copies a backend should use: ``document_key``, ``validate_key``,
``validate_expected``, ``validate_patch``, ``freeze_body``, ``private_body``, ``is_flat``),
``_points`` (scheduling points shared by every backend), ``_wrapper`` (``StoreWrapper``, the
one way to wrap a store, and the optional ``fork`` capability), ``_memory`` (``MemoryStore``),
``_read_check_write`` (``ReadCheckWriteStore``, the control that must fail), ``_sqlite``
(``SqliteStore``), ``cosmos/`` (``CosmosStore``, the only package importing azure).
"""

from ._contract import Conflict
from ._contract import Doc
from ._contract import DocumentExists
from ._contract import DocumentNotFound
from ._contract import Expected
from ._contract import NotFound
from ._contract import OutcomeUnknown
from ._contract import Store
from ._contract import StoreError
from ._contract import StoreMisuse
from ._contract import StoreUnavailable
from ._contract import Updated
from ._contract import UpdateResult
from ._contract import document_key
from ._contract import freeze_body
from ._contract import is_flat
from ._contract import private_body
from ._contract import validate_expected
from ._contract import validate_key
from ._contract import validate_patch
from ._memory import MemoryStore
from ._points import CONTROLLED
from ._points import IO_THREADS
from ._points import Control
from ._points import Point
from ._points import checkpoint
from ._points import outside_loop
from ._points import run_io
from ._read_check_write import ReadCheckWriteStore
from ._sqlite import SqliteStore
from ._sqlite import SqliteUnavailable
from ._sqlite import fresh_sqlite_stores
from ._wrapper import ForkableStore
from ._wrapper import StoreWrapper
from ._wrapper import can_fork

__all__ = [
    "CONTROLLED",
    "IO_THREADS",
    "Conflict",
    "Control",
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
    "document_key",
    "freeze_body",
    "fresh_sqlite_stores",
    "is_flat",
    "outside_loop",
    "private_body",
    "run_io",
    "validate_expected",
    "validate_key",
    "validate_patch",
]


def __getattr__(name: str) -> object:
    # Lazy, so that `import stores` (and `import harness`) never pulls in azure.
    if name == "CosmosStore":
        from .cosmos import CosmosStore

        return CosmosStore
    raise AttributeError(f"module 'stores' has no attribute {name!r}")
