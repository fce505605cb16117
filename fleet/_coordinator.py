"""The job/lease coordinator under test, written against ``stores.Store`` only."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from stores import Doc, DocumentExists, Expected, NotFound, Store, StoreMisuse, Updated

from ._results import FleetResult, Kind, Lease

__all__ = ["Coordinator", "ManualClock", "run_id"]

#: How often renew/complete/release/reap re-read after losing a compare-and-set to another
#: writer before giving up.  Each lost race means somebody else's write succeeded, so under
#: any fair schedule this bound is never reached; it only stops a pathological livelock.
MAX_RETRIES = 16


def run_id(job_id: str, epoch: int) -> str:
    """The id of the run document of ``job_id`` at ``epoch`` (one run per epoch)."""
    return f"{job_id}~run~{epoch}"


class ManualClock:
    """An injectable clock that only moves when told to (time is an int of abstract ticks)."""

    def __init__(self, now: int = 0) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, ticks: int) -> int:
        self.now += ticks
        return self.now


class Coordinator:
    """Hands jobs to workers through claims and renewable, fenced leases.

    Documents (all in partition ``partition``):

    * job ``<job_id>``: ``{"kind": "job", "status": "queued"|"leased"|"done", "epoch": int,
      "worker": str|None, "expires_at": int|None, "completed_epoch": int|None}``.  The lease is
      the ``worker``/``epoch``/``expires_at`` fields of the job document itself, so the one
      conditional write that decides a claim also grants the lease: a separate lease document
      would need a second write that cannot be atomic with the first.
    * run ``<job_id>~run~<epoch>``: ``{"kind": "run", "job": ..., "epoch": ..., "worker": ...,
      "started_at": ...}``, derived idempotently from a won claim (created if missing; an
      existing run of that epoch is left as it is).

    Every state change is one ``update_if_match`` on the job document with the rev and etag that
    were read; that makes ``epoch`` a fencing token: a holder of a stale epoch reads a document
    whose epoch differs and is refused, and a write based on an outdated read loses the
    compare-and-set.  Time is the ``now`` argument, or the injected ``clock`` when omitted.
    """

    def __init__(
        self,
        store: Store,
        *,
        partition: str = "jobs",
        lease_ttl: int = 10,
        clock: Callable[[], int] | None = None,
    ) -> None:
        if not isinstance(lease_ttl, int) or lease_ttl <= 0:
            raise StoreMisuse(f"lease_ttl must be a positive int of ticks, got {lease_ttl!r}.")
        self.store = store
        self.partition = partition
        self.lease_ttl = lease_ttl
        self._clock = clock

    def _now(self, now: int | None) -> int:
        if now is not None:
            return now
        if self._clock is None:
            raise StoreMisuse(
                "no time given: pass now=<int> or construct Coordinator(..., clock=callable)."
            )
        return self._clock()

    def _ttl(self, ttl: int | None) -> int:
        return self.lease_ttl if ttl is None else ttl

    async def enqueue_job(self, job_id: str, *, payload: Any = None) -> FleetResult:
        body: dict[str, Any] = {
            "kind": "job",
            "status": "queued",
            "epoch": 0,
            "worker": None,
            "expires_at": None,
            "completed_epoch": None,
        }
        if payload is not None:
            body["payload"] = payload
        try:
            await self.store.create(job_id, self.partition, body)
        except DocumentExists:
            return FleetResult(kind="exists", job_id=job_id)
        return FleetResult(kind="enqueued", job_id=job_id, epoch=0)

    async def try_claim_job(
        self, job_id: str, worker_id: str, *, now: int | None = None, ttl: int | None = None
    ) -> FleetResult:
        """Claim a queued job, or a leased one whose lease has expired, with ONE conditional
        write.  ``conflict`` means another writer changed the job between our read and write."""
        t, ttl = self._now(now), self._ttl(ttl)
        doc = await self.store.get(job_id, self.partition)
        if doc is None:
            return FleetResult(kind="not_found", job_id=job_id)
        body = doc.body
        if body["status"] == "done":
            return FleetResult(
                kind="not_claimable", job_id=job_id, epoch=body["epoch"], detail="done"
            )
        if body["status"] == "leased" and body["expires_at"] > t:
            return FleetResult(
                kind="not_claimable", job_id=job_id, epoch=body["epoch"], detail="leased"
            )
        epoch = body["epoch"] + 1
        lease = Lease(job_id=job_id, worker_id=worker_id, epoch=epoch, expires_at=t + ttl)
        result = await self.store.update_if_match(
            job_id,
            self.partition,
            Expected(etag=doc.etag, rev=doc.rev),
            {"status": "leased", "epoch": epoch, "worker": worker_id, "expires_at": t + ttl},
        )
        if isinstance(result, NotFound):
            return FleetResult(kind="not_found", job_id=job_id)
        if not isinstance(result, Updated):
            return FleetResult(kind="conflict", job_id=job_id)
        await self._derive_run(job_id, epoch, worker_id, t)
        return FleetResult(kind="claimed", job_id=job_id, epoch=epoch, lease=lease)

    async def _derive_run(self, job_id: str, epoch: int, worker_id: str, now: int) -> None:
        # Idempotent: a retry, or a second derivation after a crash, finds the run already there.
        body = {
            "kind": "run",
            "job": job_id,
            "epoch": epoch,
            "worker": worker_id,
            "started_at": now,
        }
        try:
            await self.store.create(run_id(job_id, epoch), self.partition, body)
        except DocumentExists:
            pass

    async def _fenced_update(
        self,
        job_id: str,
        worker_id: str,
        epoch: int,
        now: int,
        patch: Callable[[Mapping[str, Any]], Mapping[str, Any]],
        ok_kind: Kind,
    ) -> tuple[FleetResult, Doc | None]:
        """Re-read, check that (worker, epoch) still holds a live lease, write conditionally."""
        for _ in range(MAX_RETRIES):
            doc = await self.store.get(job_id, self.partition)
            if doc is None:
                return FleetResult(
                    kind="lost", job_id=job_id, epoch=epoch, detail="not_found"
                ), None
            body = doc.body
            refusal = _refusal(body, worker_id, epoch, now)
            if refusal:
                return FleetResult(kind="lost", job_id=job_id, epoch=epoch, detail=refusal), None
            result = await self.store.update_if_match(
                job_id, self.partition, Expected(etag=doc.etag, rev=doc.rev), patch(body)
            )
            if isinstance(result, Updated):
                return FleetResult(kind=ok_kind, job_id=job_id, epoch=epoch), result.doc
            if isinstance(result, NotFound):
                return FleetResult(
                    kind="lost", job_id=job_id, epoch=epoch, detail="not_found"
                ), None
        return FleetResult(kind="lost", job_id=job_id, epoch=epoch, detail="contention"), None

    async def renew_lease(
        self,
        job_id: str,
        worker_id: str,
        epoch: int,
        *,
        now: int | None = None,
        ttl: int | None = None,
    ) -> FleetResult:
        t, ttl = self._now(now), self._ttl(ttl)
        result, _ = await self._fenced_update(
            job_id, worker_id, epoch, t, lambda _body: {"expires_at": t + ttl}, "renewed"
        )
        if not result.ok:
            return result
        lease = Lease(job_id=job_id, worker_id=worker_id, epoch=epoch, expires_at=t + ttl)
        return FleetResult(kind="renewed", job_id=job_id, epoch=epoch, lease=lease)

    async def complete_job(
        self, job_id: str, worker_id: str, epoch: int, *, now: int | None = None
    ) -> FleetResult:
        patch = {"status": "done", "worker": None, "expires_at": None, "completed_epoch": epoch}
        result, _ = await self._fenced_update(
            job_id, worker_id, epoch, self._now(now), lambda _body: patch, "completed"
        )
        return result

    async def release_job(
        self, job_id: str, worker_id: str, epoch: int, *, now: int | None = None
    ) -> FleetResult:
        patch = {"status": "queued", "worker": None, "expires_at": None}
        result, _ = await self._fenced_update(
            job_id, worker_id, epoch, self._now(now), lambda _body: patch, "released"
        )
        return result

    async def reap_expired(self, now: int | None = None) -> tuple[str, ...]:
        """Put every job whose lease expired at or before ``now`` back in the queue."""
        t = self._now(now)
        reaped: list[str] = []
        for doc in await self.store.list_partition(self.partition):
            if doc.body.get("kind") != "job":
                continue
            current: Doc | None = doc
            for _ in range(MAX_RETRIES):
                if current is None or not _expired(current.body, t):
                    break
                result = await self.store.update_if_match(
                    current.id,
                    self.partition,
                    Expected(etag=current.etag, rev=current.rev),
                    {"status": "queued", "worker": None, "expires_at": None},
                )
                if result.ok:
                    reaped.append(current.id)
                    break
                # Someone wrote in between (a renew, a claim): decide again on fresh data.
                current = await self.store.get(doc.id, self.partition)
        return tuple(reaped)

    async def get_job(self, job_id: str) -> Doc | None:
        return await self.store.get(job_id, self.partition)

    async def list_documents(self) -> list[Doc]:
        return await self.store.list_partition(self.partition)


def _expired(body: Mapping[str, Any], now: int) -> bool:
    return bool(body["status"] == "leased" and body["expires_at"] <= now)


def _refusal(body: Mapping[str, Any], worker_id: str, epoch: int, now: int) -> str:
    """Why (worker, epoch) may not act on this job at ``now``; empty when it may."""
    if body["epoch"] != epoch:
        return "stale_epoch"
    if body["status"] != "leased" or body["worker"] != worker_id:
        return "not_holder"
    if body["expires_at"] <= now:
        return "expired"
    return ""
