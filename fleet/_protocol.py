"""What the harness needs of a coordinator: the six fleet operations.

``fleet.Coordinator`` is one implementation; a user's coordinator is another (``claimcheck run
--coordinator MODULE:FACTORY``).  It keeps its own document layout and its own code; the
harness only calls these methods and checks their answers against the reference model.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from typing import Any
from typing import Protocol

from stores import Store

from ._results import FleetResult

__all__ = ["OPERATIONS", "Clock", "CoordinatorFactory", "FleetCoordinator"]

#: The harness's clock, as a coordinator factory receives it: the time of the latest
#: operation the harness started (abstract ticks).  Operations also get ``now`` explicitly.
Clock = Callable[[], int]

#: The method names a coordinator must have, in the order of the model's operations.
OPERATIONS = (
    "enqueue_job",
    "try_claim_job",
    "renew_lease",
    "complete_job",
    "release_job",
    "reap_expired",
)


class FleetCoordinator(Protocol):
    """A job/lease coordinator the harness can check.

    Every method is a coroutine; every answer but ``reap_expired``'s is a ``FleetResult`` whose
    ``kind`` says what happened (``claimed``/``renewed`` carry a ``Lease`` and the epoch).
    ``reap_expired`` returns the ids of the jobs it put back in the queue.  A store error that
    leaves the outcome unknown (``stores.OutcomeUnknown``, ``StoreUnavailable``) may propagate:
    the harness then lets the call take effect or not, as Jepsen does with a crashed client.
    """

    async def enqueue_job(self, job_id: str) -> FleetResult: ...

    async def try_claim_job(
        self, job_id: str, worker_id: str, *, now: int | None = None, ttl: int | None = None
    ) -> FleetResult: ...

    async def renew_lease(
        self,
        job_id: str,
        worker_id: str,
        epoch: int,
        *,
        now: int | None = None,
        ttl: int | None = None,
    ) -> FleetResult: ...

    async def complete_job(
        self, job_id: str, worker_id: str, epoch: int, *, now: int | None = None
    ) -> FleetResult: ...

    async def release_job(
        self, job_id: str, worker_id: str, epoch: int, *, now: int | None = None
    ) -> FleetResult: ...

    async def reap_expired(self, now: int | None = None) -> Sequence[str]: ...


#: Makes a coordinator over ``store`` (a fresh one per schedule) with the harness's clock.
CoordinatorFactory = Callable[[Store, Clock], Any]
