"""The conformance suite for store backends: ``run_store_conformance(make_store)``.

Layout: ``_suite`` (the plan, the verdicts, ``run_store_conformance``), ``_checks`` (one
function per check), ``_validator`` (``ValidatingStore``, which turns garbage results into
evidence), ``_watchdog`` (runs a check in a thread and names a hung operation), ``_factory``
(``load_factory``: ``MODULE:FACTORY`` to a store factory).  Depends on ``explore``, ``check``,
``backends``, ``runtime``.
"""

from ._factory import FactoryError
from ._factory import load_factory
from ._suite import CHECKS
from ._suite import ConformanceCheck
from ._suite import ConformanceResult
from ._suite import NonConformance
from ._suite import get_cached_result
from ._suite import run_store_conformance
from ._validator import ValidatingStore

__all__ = [
    "CHECKS",
    "ConformanceCheck",
    "ConformanceResult",
    "FactoryError",
    "NonConformance",
    "ValidatingStore",
    "get_cached_result",
    "load_factory",
    "run_store_conformance",
]
