"""The job/lease coordinator under test.

Layout: ``_coordinator`` (``Coordinator``: enqueue, claim, renew, complete, release, reap),
``_results`` (``FleetResult``, ``Lease``), ``_protocol`` (``FleetCoordinator``: what the harness
needs of any coordinator, a user's included).  Written against ``stores.Store`` only.
"""

from ._coordinator import MAX_RETRIES
from ._coordinator import Coordinator
from ._coordinator import ManualClock
from ._coordinator import run_id
from ._protocol import OPERATIONS
from ._protocol import Clock
from ._protocol import CoordinatorFactory
from ._protocol import FleetCoordinator
from ._results import FleetResult
from ._results import Kind
from ._results import Lease

__all__ = [
    "MAX_RETRIES",
    "OPERATIONS",
    "Clock",
    "Coordinator",
    "CoordinatorFactory",
    "FleetCoordinator",
    "FleetResult",
    "Kind",
    "Lease",
    "ManualClock",
    "run_id",
]
