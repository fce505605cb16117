"""What the coordinator answers: one value type for every operation."""

from __future__ import annotations

from typing import Literal

import attrs

__all__ = ["FleetResult", "Kind", "Lease"]

Kind = Literal[
    "enqueued",
    "exists",
    "claimed",
    "conflict",
    "not_found",
    "not_claimable",
    "renewed",
    "completed",
    "released",
    "lost",
]

_OK_KINDS = frozenset({"enqueued", "claimed", "renewed", "completed", "released"})


@attrs.frozen(kw_only=True)
class Lease:
    """A worker's right to a job until ``expires_at``; ``epoch`` is its fencing token."""

    job_id: str
    worker_id: str
    epoch: int
    expires_at: int


@attrs.frozen(kw_only=True)
class FleetResult:
    """The outcome of one coordinator operation.

    ``kind`` says what happened; ``lease`` is set for ``claimed`` and ``renewed``; ``epoch`` is
    the epoch the operation acted on (or found); ``detail`` says why a request was refused
    (``"done"``, ``"leased"``, ``"stale_epoch"``, ``"expired"``, ...), for humans only.
    """

    kind: Kind
    job_id: str
    epoch: int | None = None
    lease: Lease | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.kind in _OK_KINDS

    @property
    def expires_at(self) -> int | None:
        return None if self.lease is None else self.lease.expires_at
