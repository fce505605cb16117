"""Users' coordinators with bugs or misuse, for tests/test_user_coordinator.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from examples.lease_coordinator import PARTITION
from examples.lease_coordinator import LeaseCoordinator
from fleet import FleetResult
from fleet import Lease
from stores import Store


class Forgetful(LeaseCoordinator):
    """Answers a won claim with the next fence but keeps the old fence in the document: every
    answer looks right, and only the state it leaves behind (seen by the final probes, whose
    claim gets the same epoch again) is wrong."""

    async def try_claim_job(
        self, job_id: str, worker_id: str, *, now: int | None = None, ttl: int | None = None
    ) -> FleetResult:
        t = self.clock() if now is None else now
        doc = await self.store.get(f"lease/{job_id}", PARTITION)
        if doc is None:
            return FleetResult(kind="not_found", job_id=job_id)
        if doc.body["state"] != "free":
            return FleetResult(kind="not_claimable", job_id=job_id, epoch=doc.body["fence"])
        fence = doc.body["fence"] + 1
        until = t + (self.ttl if ttl is None else ttl)
        if not await self._write(doc, {"state": "held", "holder": worker_id, "until": until}):
            return FleetResult(kind="conflict", job_id=job_id)
        lease = Lease(job_id=job_id, worker_id=worker_id, epoch=fence, expires_at=until)
        return FleetResult(kind="claimed", job_id=job_id, epoch=fence, lease=lease)


class Garbage(LeaseCoordinator):
    async def try_claim_job(self, *args: Any, **kwargs: Any) -> Any:
        return None


class Raising(LeaseCoordinator):
    async def try_claim_job(self, *args: Any, **kwargs: Any) -> Any:
        read: dict[str, int] = {}
        return read["status"]


class BrokenEnqueue(LeaseCoordinator):
    async def enqueue_job(self, job_id: str) -> FleetResult:
        raise RuntimeError("no queue configured")


def forgetful(store: Store, clock: Callable[[], int]) -> Forgetful:
    return Forgetful(store, clock)


def garbage(store: Store, clock: Callable[[], int]) -> Garbage:
    return Garbage(store, clock)


def raising(store: Store, clock: Callable[[], int]) -> Raising:
    return Raising(store, clock)


def broken_enqueue(store: Store, clock: Callable[[], int]) -> BrokenEnqueue:
    return BrokenEnqueue(store, clock)


def factory_raises(store: Store, clock: Callable[[], int]) -> Any:
    raise LookupError("no config")


def not_a_coordinator(store: Store, clock: Callable[[], int]) -> Any:
    return object()


NOT_CALLABLE = 42
