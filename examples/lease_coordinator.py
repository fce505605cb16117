"""A job/lease coordinator as a user would write it: plain asyncio, its own document layout.

This is what ``claimcheck run --coordinator examples.lease_coordinator:make`` checks: not
``fleet.Coordinator`` but somebody else's code, which the harness knows only through the six
fleet operations (``fleet.FleetCoordinator``).  Its documents are nothing like ``fleet``'s:
one document ``lease/<job>`` per job in partition ``leases``, ``{"state": "free" | "held" |
"finished", "holder": str | None, "fence": int, "until": int | None}``, and no run documents.

Between reading a job and writing it back, the code awaits other things (``asyncio.sleep(0)``
stands for the logging, metrics and RPCs real code awaits there), so under the scheduler other
tasks run in that gap.  :func:`make` writes with ``update_if_match`` on the etag it read, and
is correct.  :func:`make_naive` is the control: it checks what it read and then writes with an
unconditional ``replace``, the read-check-write that lets two claimers both win.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from fleet import FleetResult
from fleet import Kind
from fleet import Lease
from stores import Conflict
from stores import Doc
from stores import DocumentExists
from stores import Expected
from stores import Store
from stores import Updated

__all__ = ["LeaseCoordinator", "make", "make_naive"]

PARTITION = "leases"
#: Lost compare-and-sets in a row before an operation answers ``conflict`` (each one means
#: another writer succeeded, so a fair schedule never gets here).
RETRIES = 8


def _key(job_id: str) -> str:
    return f"lease/{job_id}"


class LeaseCoordinator:
    """See the module docstring.  ``naive=True`` writes without a condition (the control)."""

    def __init__(
        self, store: Store, clock: Callable[[], int], *, naive: bool = False, ttl: int = 10
    ) -> None:
        self.store = store
        self.clock = clock
        self.naive = naive
        self.ttl = ttl

    async def _write(self, doc: Doc, fields: dict[str, Any]) -> bool:
        """Write ``fields`` over ``doc`` as read: True when it landed."""
        await asyncio.sleep(0)  # whatever the caller awaits between its read and its write
        if self.naive:
            await self.store.replace(doc.id, PARTITION, {**doc.body, **fields})
            return True
        result = await self.store.update_if_match(
            doc.id, PARTITION, Expected(etag=doc.etag), fields
        )
        if isinstance(result, Conflict):
            return False
        return isinstance(result, Updated)

    async def enqueue_job(self, job_id: str) -> FleetResult:
        body = {"state": "free", "holder": None, "fence": 0, "until": None}
        try:
            await self.store.create(_key(job_id), PARTITION, body)
        except DocumentExists:
            return FleetResult(kind="exists", job_id=job_id)
        return FleetResult(kind="enqueued", job_id=job_id, epoch=0)

    async def try_claim_job(
        self, job_id: str, worker_id: str, *, now: int | None = None, ttl: int | None = None
    ) -> FleetResult:
        t = self.clock() if now is None else now
        until = t + (self.ttl if ttl is None else ttl)
        for _ in range(RETRIES):
            doc = await self.store.get(_key(job_id), PARTITION)
            if doc is None:
                return FleetResult(kind="not_found", job_id=job_id)
            body = doc.body
            if body["state"] == "finished" or (body["state"] == "held" and body["until"] > t):
                return FleetResult(kind="not_claimable", job_id=job_id, epoch=body["fence"])
            fence = body["fence"] + 1
            fields = {"state": "held", "holder": worker_id, "fence": fence, "until": until}
            if await self._write(doc, fields):
                lease = Lease(job_id=job_id, worker_id=worker_id, epoch=fence, expires_at=until)
                return FleetResult(kind="claimed", job_id=job_id, epoch=fence, lease=lease)
        return FleetResult(kind="conflict", job_id=job_id)

    async def _fenced(
        self,
        job_id: str,
        worker_id: str,
        epoch: int,
        now: int | None,
        fields: Callable[[int], dict[str, Any]],
        kind: Kind,
    ) -> FleetResult:
        """Write ``fields(now)`` if ``worker_id`` still holds ``job_id`` at ``epoch``."""
        t = self.clock() if now is None else now
        for _ in range(RETRIES):
            doc = await self.store.get(_key(job_id), PARTITION)
            if doc is None:
                return FleetResult(kind="lost", job_id=job_id, epoch=epoch)
            body = doc.body
            if (
                body["state"] != "held"
                or body["holder"] != worker_id
                or body["fence"] != epoch
                or body["until"] <= t
            ):
                return FleetResult(kind="lost", job_id=job_id, epoch=epoch, detail="fenced")
            new = fields(t)
            if await self._write(doc, new):
                lease = None
                if kind == "renewed":
                    lease = Lease(
                        job_id=job_id, worker_id=worker_id, epoch=epoch, expires_at=new["until"]
                    )
                return FleetResult(kind=kind, job_id=job_id, epoch=epoch, lease=lease)
        return FleetResult(kind="conflict", job_id=job_id, epoch=epoch)

    async def renew_lease(
        self,
        job_id: str,
        worker_id: str,
        epoch: int,
        *,
        now: int | None = None,
        ttl: int | None = None,
    ) -> FleetResult:
        extend = self.ttl if ttl is None else ttl
        return await self._fenced(
            job_id, worker_id, epoch, now, lambda t: {"until": t + extend}, "renewed"
        )

    async def complete_job(
        self, job_id: str, worker_id: str, epoch: int, *, now: int | None = None
    ) -> FleetResult:
        done = {"state": "finished", "holder": None, "until": None}
        return await self._fenced(job_id, worker_id, epoch, now, lambda _t: done, "completed")

    async def release_job(
        self, job_id: str, worker_id: str, epoch: int, *, now: int | None = None
    ) -> FleetResult:
        free = {"state": "free", "holder": None, "until": None}
        return await self._fenced(job_id, worker_id, epoch, now, lambda _t: free, "released")

    async def reap_expired(self, now: int | None = None) -> tuple[str, ...]:
        t = self.clock() if now is None else now
        reaped = []
        for listed in await self.store.list_partition(PARTITION):
            doc: Doc | None = listed
            for _ in range(RETRIES):
                if doc is None or doc.body["state"] != "held" or doc.body["until"] > t:
                    break
                if await self._write(doc, {"state": "free", "holder": None, "until": None}):
                    reaped.append(doc.id.removeprefix("lease/"))
                    break
                doc = await self.store.get(listed.id, PARTITION)
        return tuple(reaped)


def make(store: Store, clock: Callable[[], int]) -> LeaseCoordinator:
    """The correct coordinator: every write is conditional on the etag it read."""
    return LeaseCoordinator(store, clock)


def make_naive(store: Store, clock: Callable[[], int]) -> LeaseCoordinator:
    """The control: read, check, await, then an unconditional replace."""
    return LeaseCoordinator(store, clock, naive=True)
