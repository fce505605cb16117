"""The job/lease coordinator under test.

Layout: ``_coordinator`` (``Coordinator``: enqueue, claim, renew, complete, release, reap),
``_results`` (``FleetResult``, ``Lease``).  Written against ``stores.Store`` only.
"""

from ._coordinator import MAX_RETRIES
from ._coordinator import Coordinator
from ._coordinator import ManualClock
from ._coordinator import run_id
from ._results import FleetResult
from ._results import Kind
from ._results import Lease

__all__ = ["MAX_RETRIES", "Coordinator", "FleetResult", "Kind", "Lease", "ManualClock", "run_id"]
