"""The job/lease coordinator under test.

Layout: ``_coordinator`` (``Coordinator``: enqueue, claim, renew, complete, release, reap),
``_results`` (``FleetResult``, ``Lease``).  Written against ``stores.Store`` only.
"""

from ._coordinator import MAX_RETRIES, Coordinator, ManualClock, run_id
from ._results import FleetResult, Kind, Lease

__all__ = ["MAX_RETRIES", "Coordinator", "FleetResult", "Kind", "Lease", "ManualClock", "run_id"]
