"""The job/lease coordinator under test, written against ``stores.Store`` only."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

from stores import Doc
from stores import DocumentExists
from stores import Expected
from stores import NotFound
from stores import OutcomeUnknown
from stores import Store
from stores import StoreMisuse
from stores import StoreUnavailable
from stores import Updated
from stores import UpdateResult

from ._results import FleetResult
from ._results import Kind
from ._results import Lease

__all__ = ["Coordinator", "ManualClock", "run_id"]

#: How often renew/complete/release/reap re-read after losing a compare-and-set to another
#: writer before giving up.  Each lost race means somebody else's write succeeded, so under
#: any fair schedule this bound is never reached; it only stops a pathological livelock.
MAX_RETRIES = 16

#: Fenced writes (renew, complete, release) a job document remembers, so that a writer whose
#: answer was lost can tell whether its write applied (see ``_fenced_update``).
FENCE_LOG = 8


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

    The job document also carries the token of the last claim (``claim_token``) and reap
    (``reap_token``) and of the last fenced writes (``fence_log``) that applied: after an
    answer was lost, or a retry answered a misleading 412, a re-read tells whether our own
    write applied; where no read can tell, the call raises ``OutcomeUnknown``.

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
        resolve_ambiguity: bool = True,
    ) -> None:
        if not isinstance(lease_ttl, int) or lease_ttl <= 0:
            raise StoreMisuse(f"lease_ttl must be a positive int of ticks, got {lease_ttl!r}.")
        self.store = store
        self.partition = partition
        #: False only for the control in fault tests: then a lost response is surfaced as an
        #: error and a misleading 412 as a conflict, as the pre-fix coordinator did.
        self.resolve_ambiguity = resolve_ambiguity
        self._claims = 0
        self.lease_ttl = lease_ttl
        self._clock = clock

    def with_store(self, store: Store) -> Coordinator:
        """The same coordinator (options, clock) over another store, e.g. a wrapper of this one."""
        return Coordinator(
            store,
            partition=self.partition,
            lease_ttl=self.lease_ttl,
            clock=self._clock,
            resolve_ambiguity=self.resolve_ambiguity,
        )

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
        uncertain = False
        for _ in range(MAX_RETRIES):
            try:
                await self.store.create(job_id, self.partition, body)
            except DocumentExists:
                # After an attempt whose outcome we never learned, "exists" is most likely our
                # own create: either way the job is in the queue, which is what was asked.
                kind: Kind = "enqueued" if uncertain else "exists"
                return FleetResult(kind=kind, job_id=job_id, epoch=0 if uncertain else None)
            except (OutcomeUnknown, StoreUnavailable) as error:
                if not self.resolve_ambiguity:
                    raise
                uncertain = uncertain or isinstance(error, OutcomeUnknown)
                continue
            return FleetResult(kind="enqueued", job_id=job_id, epoch=0)
        return FleetResult(kind="exists" if not uncertain else "enqueued", job_id=job_id)

    async def try_claim_job(
        self, job_id: str, worker_id: str, *, now: int | None = None, ttl: int | None = None
    ) -> FleetResult:
        """Claim a queued job, or a leased one whose lease has expired, with ONE conditional
        write.  ``conflict`` means another writer changed the job between our read and write."""
        t, ttl = self._now(now), self._ttl(ttl)
        try:  # inline first attempt: the retrying helper is off the hot path
            doc = await self.store.get(job_id, self.partition)
        except (OutcomeUnknown, StoreUnavailable):
            if not self.resolve_ambiguity:
                raise
            doc = await self._read(job_id)
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
        self._claims += 1
        token = f"{worker_id}#{epoch}#{self._claims}"
        patch = {
            "status": "leased",
            "epoch": epoch,
            "worker": worker_id,
            "expires_at": t + ttl,
            "claim_token": token,
        }
        expected = Expected(etag=doc.etag, rev=doc.rev)
        try:
            result = await self.store.update_if_match(job_id, self.partition, expected, patch)
        except (OutcomeUnknown, StoreUnavailable):
            if not self.resolve_ambiguity:
                raise
            result = await self._write_resolving(job_id, expected, patch)
        if isinstance(result, NotFound):
            return FleetResult(kind="not_found", job_id=job_id)
        if not isinstance(result, Updated) and not (
            self.resolve_ambiguity and await self._landed(job_id, {"claim_token": token})
        ):
            return FleetResult(kind="conflict", job_id=job_id)
        await self._derive_run(job_id, epoch, worker_id, t)
        return FleetResult(kind="claimed", job_id=job_id, epoch=epoch, lease=lease)

    async def _write_resolving(
        self, job_id: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        """The conditional write, repeated while its outcome is unknown.

        Repeating is safe because the write is conditional on the etag we read: of the lost
        attempt and its repeats, at most one can apply.  A definite ``conflict`` after a lost
        attempt may be our own attempt having applied: callers check with a token they wrote.
        """
        for _ in range(MAX_RETRIES):
            try:
                return await self.store.update_if_match(job_id, self.partition, expected, patch)
            except (OutcomeUnknown, StoreUnavailable):
                if not self.resolve_ambiguity:
                    raise
        return await self.store.update_if_match(job_id, self.partition, expected, patch)

    async def _read(self, job_id: str) -> Doc | None:
        """A read, repeated while the store fails (reads are idempotent)."""
        for _ in range(MAX_RETRIES):
            try:
                return await self.store.get(job_id, self.partition)
            except (OutcomeUnknown, StoreUnavailable):
                if not self.resolve_ambiguity:
                    raise
        return await self.store.get(job_id, self.partition)

    async def _landed(self, job_id: str, fields: Mapping[str, Any]) -> bool:
        """Does the job document now carry ``fields``, i.e. did our own write apply?"""
        doc = await self._read(job_id)
        return doc is not None and all(doc.body.get(k) == v for k, v in fields.items())

    async def _derive_run(self, job_id: str, epoch: int, worker_id: str, now: int) -> None:
        # Idempotent: a retry, or a second derivation after a crash, finds the run already there.
        body = {
            "kind": "run",
            "job": job_id,
            "epoch": epoch,
            "worker": worker_id,
            "started_at": now,
        }
        for _ in range(MAX_RETRIES):
            try:
                await self.store.create(run_id(job_id, epoch), self.partition, body)
            except DocumentExists:
                return
            except (OutcomeUnknown, StoreUnavailable):
                if not self.resolve_ambiguity:
                    raise
                continue  # create is idempotent here: a repeat finds the run already there
            return

    async def _fenced_update(
        self,
        job_id: str,
        worker_id: str,
        epoch: int,
        now: int,
        patch: Callable[[Mapping[str, Any]], Mapping[str, Any]],
        ok_kind: Kind,
    ) -> tuple[FleetResult, Doc | None]:
        """Re-read, check that (worker, epoch) still holds a live lease, write conditionally.

        Every attempt appends a token of its own to the job's ``fence_log`` (the last
        :data:`FENCE_LOG` fenced writes; a claim or a reap leaves it alone).  After a lost
        answer, or a retry's misleading 412, a re-read settles whether our write applied: our
        token in the log says yes; the log still holding what it held when we read, without
        ours, says no.  Only when more fenced writes than the log keeps came since is there no
        telling: the outcome is unknown (``OutcomeUnknown``, raised).
        """
        mine: str | None = None  # the token of our last attempt
        seen: list[Any] = []  # the log as we read it for that attempt
        for _ in range(MAX_RETRIES):
            doc = await self._read(job_id)
            if doc is None:
                return FleetResult(
                    kind="lost", job_id=job_id, epoch=epoch, detail="not_found"
                ), None
            body = doc.body
            log = list(body.get("fence_log") or ())
            if mine is not None and self.resolve_ambiguity:
                if mine in log:
                    # Our previous attempt applied although we were told otherwise.
                    return FleetResult(kind=ok_kind, job_id=job_id, epoch=epoch), doc
                if (seen and seen[-1] not in log) or (not seen and len(log) >= FENCE_LOG):
                    raise OutcomeUnknown(
                        f"{ok_kind} of {job_id} at epoch {epoch}: an attempt may have applied "
                        f"before {FENCE_LOG} other writes; no read can tell"
                    )
            refusal = _refusal(body, worker_id, epoch, now)
            if refusal:
                return FleetResult(kind="lost", job_id=job_id, epoch=epoch, detail=refusal), None
            self._claims += 1
            mine, seen = f"{worker_id}#{epoch}#{ok_kind}#{self._claims}", log
            fields = {**patch(body), "fence_log": [*log, mine][-FENCE_LOG:]}
            result = await self._write_resolving(
                job_id, Expected(etag=doc.etag, rev=doc.rev), fields
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
        for doc in await self._list():
            if doc.body.get("kind") != "job":
                continue
            current: Doc | None = doc
            for _ in range(MAX_RETRIES):
                if current is None or not _expired(current.body, t):
                    break
                self._claims += 1
                token = f"reap#{self._claims}"
                patch = {
                    "status": "queued",
                    "worker": None,
                    "expires_at": None,
                    "reap_token": token,
                }
                expected = Expected(etag=current.etag, rev=current.rev)
                result = await self._write_resolving(current.id, expected, patch)
                if result.ok or (
                    self.resolve_ambiguity and await self._landed(current.id, {"reap_token": token})
                ):
                    reaped.append(current.id)
                    break
                # Someone wrote in between (a renew, a claim): decide again on fresh data.
                current = await self._read(doc.id)
        return tuple(reaped)

    async def _list(self) -> list[Doc]:
        for _ in range(MAX_RETRIES):
            try:
                return await self.store.list_partition(self.partition)
            except (OutcomeUnknown, StoreUnavailable):
                if not self.resolve_ambiguity:
                    raise
        return await self.store.list_partition(self.partition)

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
