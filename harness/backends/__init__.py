"""The backends layer: named stores and the wrappers the harness puts around them.

Layout: ``_registry`` (the names ``claimcheck run --store`` accepts and how each is opened),
``_faults`` (``FaultyStore``: faults as scheduler-drawn data choices), ``_namespace``
(``NamespacedStore``: a private partition namespace per schedule on a shared server).  Depends
on ``runtime`` (fault choices are scheduler choices) and ``stores``.
"""

from ._faults import FaultyStore
from ._namespace import NamespacedStore
from ._registry import Backend
from ._registry import UnknownBackend
from ._registry import Wrap
from ._registry import backend_names
from ._registry import coordinator_options
from ._registry import get_backend
from ._registry import identity

__all__ = [
    "Backend",
    "FaultyStore",
    "NamespacedStore",
    "UnknownBackend",
    "Wrap",
    "backend_names",
    "coordinator_options",
    "get_backend",
    "identity",
]
