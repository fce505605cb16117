"""The conformance suite for store backends: ``run_store_conformance(make_store)``.

Layout: ``_suite`` (the plan, the verdicts, ``run_store_conformance``), the checks
(``_sequential``: the contract and its tokens; ``_isolation``: bodies and partitions;
``_labels``: honest scheduling labels; ``_races``: compare-and-set and create races, under
threads and schedules; ``_checks``: the exploring checks; ``_endurance``: thousands of calls on
one store), ``_cases`` (sequential cases, one fresh store each, with a program as reproducer),
``_validator`` (``ValidatingStore``, which turns garbage results into evidence), ``_watchdog``
(runs user code in a daemon thread and names every call in flight when one hangs),
``_stores`` (the ``Keeper``: every store made, validated and released), ``_parallel`` (the
pieces of a check side by side, deterministically), ``_factory`` (the factory is user code:
``load_factory`` turns ``MODULE:FACTORY`` into a store factory, ``probe_factory`` calls it once
before the checks; either raises ``FactoryError``).  Depends on ``explore``, ``check``,
``backends``, ``runtime``.
"""

from ._clock import CountingStore
from ._clock import HistoryClock
from ._factory import FactoryError
from ._factory import factory_name
from ._factory import load_factory
from ._factory import probe_factory
from ._labels import LabelAudit
from ._suite import CHECKS
from ._suite import ConformanceCheck
from ._suite import ConformanceResult
from ._suite import NonConformance
from ._suite import get_cached_result
from ._suite import run_store_conformance
from ._validator import ValidatingStore
from ._watchdog import DEFAULT_TIMEOUT

__all__ = [
    "CHECKS",
    "DEFAULT_TIMEOUT",
    "ConformanceCheck",
    "ConformanceResult",
    "CountingStore",
    "FactoryError",
    "HistoryClock",
    "LabelAudit",
    "NonConformance",
    "ValidatingStore",
    "factory_name",
    "get_cached_result",
    "load_factory",
    "probe_factory",
    "run_store_conformance",
]
