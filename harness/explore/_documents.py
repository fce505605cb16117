"""``fleet.Coordinator``'s documents in the model's terms, both ways: the state a store holds
(:func:`observed_state`) and a state written into a store (:func:`seed_documents`)."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from fleet import Coordinator
from fleet import run_id
from models import FleetState
from models import JobState
from stores import Doc

__all__ = ["observed_state", "seed_documents"]


async def seed_documents(coord: Coordinator, state: FleetState) -> None:
    """Write ``state`` into the coordinator's store as the documents the coordinator keeps
    (the inverse of :func:`observed_state`)."""
    for job_id, job in state.jobs:
        body = {
            "kind": "job",
            "status": job.status,
            "epoch": job.epoch,
            "worker": job.worker,
            "expires_at": job.expires_at,
            "completed_epoch": job.completed_epoch,
        }
        await coord.store.create(job_id, coord.partition, body)
        for epoch, worker in enumerate(job.runs, 1):
            run = {"kind": "run", "job": job_id, "epoch": epoch, "worker": worker, "started_at": 0}
            await coord.store.create(run_id(job_id, epoch), coord.partition, run)


def observed_state(docs: Sequence[Doc]) -> FleetState:
    """The fleet state a store holds, in the model's terms (runs from run documents)."""
    runs: dict[tuple[str, int], str] = {}
    jobs: dict[str, Mapping[str, Any]] = {}
    for doc in docs:
        if doc.body.get("kind") == "run":
            runs[(doc.body["job"], doc.body["epoch"])] = doc.body["worker"]
        elif doc.body.get("kind") == "job":
            jobs[doc.id] = doc.body
    out: dict[str, JobState] = {}
    for job_id, body in jobs.items():
        top = max([body["epoch"], *(e for (j, e) in runs if j == job_id)])
        out[job_id] = JobState(
            status=body["status"],
            epoch=body["epoch"],
            worker=body["worker"],
            expires_at=body["expires_at"],
            completed_epoch=body["completed_epoch"],
            runs=tuple(runs.get((job_id, e), "<missing>") for e in range(1, top + 1)),
        )
    return FleetState(jobs=tuple(sorted(out.items())))
