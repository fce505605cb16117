"""The conformance suite for store backends: ``run_store_conformance(make_store)``.

Layout: ``_suite`` (the checks, the validator that turns garbage results into evidence, the
watchdog that names a hung operation, factory loading).  Depends on ``explore``, ``check``,
``backends``, ``runtime``.
"""

from ._suite import (
    CHECKS,
    ConformanceCheck,
    ConformanceResult,
    FactoryError,
    NonConformance,
    get_cached_result,
    load_factory,
    run_store_conformance,
)

__all__ = [
    "CHECKS",
    "ConformanceCheck",
    "ConformanceResult",
    "FactoryError",
    "NonConformance",
    "get_cached_result",
    "load_factory",
    "run_store_conformance",
]
