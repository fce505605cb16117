"""Users' coordinators with bugs or misuse, for tests/test_user_coordinator.py."""

from __future__ import annotations

import threading
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


class LiarW0(LeaseCoordinator):
    """Worker w0 says it won a claim it lost: only a search that tells w0 from w1 sees it."""

    async def try_claim_job(
        self, job_id: str, worker_id: str, *, now: int | None = None, ttl: int | None = None
    ) -> FleetResult:
        answer = await super().try_claim_job(job_id, worker_id, now=now, ttl=ttl)
        if worker_id == "w0" and answer.kind == "not_claimable":
            until = (now or 0) + (ttl or self.ttl)
            lease = Lease(job_id=job_id, worker_id=worker_id, epoch=1, expires_at=until)
            return FleetResult(kind="claimed", job_id=job_id, epoch=1, lease=lease)
        return answer


class AlwaysConflict(LeaseCoordinator):
    """Never grants anything: every claim 'lost a race'."""

    async def try_claim_job(self, job_id: str, *args: Any, **kwargs: Any) -> FleetResult:
        return FleetResult(kind="conflict", job_id=job_id)


class DoneAtWrongEpoch(LeaseCoordinator):
    """Completes a job but stores epoch 99: a refusal's epoch gives it away."""

    async def complete_job(
        self, job_id: str, worker_id: str, epoch: int, *, now: int | None = None
    ) -> FleetResult:
        answer = await super().complete_job(job_id, worker_id, epoch, now=now)
        if answer.kind == "completed":
            doc = await self.store.get(f"lease/{job_id}", PARTITION)
            assert doc is not None
            await self.store.replace(doc.id, PARTITION, {**doc.body, "fence": 99})
        return answer


class GhostReaper(LeaseCoordinator):
    async def reap_expired(self, now: int | None = None) -> tuple[str, ...]:
        return ("ghost",)


class NoNow(LeaseCoordinator):
    async def try_claim_job(self, job_id: str, worker_id: str) -> FleetResult:  # type: ignore[override]
        return await super().try_claim_job(job_id, worker_id, now=0)


class HelperRaises(LeaseCoordinator):
    async def try_claim_job(self, *args: Any, **kwargs: Any) -> Any:
        return _helper()


def _helper() -> Any:
    raise LookupError("a helper beside the coordinator failed")


#: Every coordinator these factories made, by class name (tests count them).
MADE: dict[str, int] = {}


def counted(store: Store, clock: Callable[[], int]) -> LeaseCoordinator:
    MADE["counted"] = MADE.get("counted", 0) + 1
    return LeaseCoordinator(store, clock)


def liar_w0(store: Store, clock: Callable[[], int]) -> LiarW0:
    return LiarW0(store, clock)


def always_conflict(store: Store, clock: Callable[[], int]) -> AlwaysConflict:
    return AlwaysConflict(store, clock)


def done_at_wrong_epoch(store: Store, clock: Callable[[], int]) -> DoneAtWrongEpoch:
    return DoneAtWrongEpoch(store, clock)


def ghost_reaper(store: Store, clock: Callable[[], int]) -> GhostReaper:
    return GhostReaper(store, clock)


def no_now(store: Store, clock: Callable[[], int]) -> NoNow:
    return NoNow(store, clock)


def helper_raises(store: Store, clock: Callable[[], int]) -> HelperRaises:
    return HelperRaises(store, clock)


async def async_factory(store: Store, clock: Callable[[], int]) -> LeaseCoordinator:
    return LeaseCoordinator(store, clock)


def hanging_factory(store: Store, clock: Callable[[], int]) -> LeaseCoordinator:
    threading.Event().wait()  # never set
    raise AssertionError("unreachable")


class Spinning(LeaseCoordinator):
    """Retries a claim it can never win, forever."""

    async def try_claim_job(self, job_id: str, *args: Any, **kwargs: Any) -> FleetResult:
        while True:
            await self.store.get(f"lease/{job_id}", PARTITION)


def spinning(store: Store, clock: Callable[[], int]) -> Spinning:
    return Spinning(store, clock)
