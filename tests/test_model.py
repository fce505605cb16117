"""The reference model on its own: the semantics the coordinator is held to."""

from __future__ import annotations

from models import Claim
from models import Complete
from models import Enqueue
from models import FleetModel
from models import FleetState
from models import JobState
from models import Reap
from models import Release
from models import Renew
from models import check_invariants
from models import check_outcomes


def test_claim_renew_complete_lifecycle() -> None:
    m = FleetModel()
    assert m.run(Enqueue(job_id="j")).kind == "enqueued"
    assert m.run(Enqueue(job_id="j")).kind == "exists"
    won = m.run(Claim(job_id="j", worker_id="a", now=0, ttl=10))
    assert (won.kind, won.epoch, won.expires_at) == ("claimed", 1, 10)
    assert m.run(Claim(job_id="j", worker_id="b", now=5, ttl=10)).kind == "not_claimable"
    assert m.run(Renew(job_id="j", worker_id="a", epoch=1, now=9, ttl=10)).expires_at == 19
    assert m.run(Complete(job_id="j", worker_id="a", epoch=1, now=10)).kind == "completed"
    assert m.run(Claim(job_id="j", worker_id="b", now=100, ttl=10)).kind == "not_claimable"
    assert check_invariants(m.state) == []


def test_fencing_refuses_stale_epochs_and_expired_leases() -> None:
    m = FleetModel()
    m.run(Enqueue(job_id="j"))
    m.run(Claim(job_id="j", worker_id="a", now=0, ttl=10))
    assert m.run(Renew(job_id="j", worker_id="a", epoch=1, now=10, ttl=10)).kind == "lost"
    assert m.run(Reap(now=10)).reaped == ("j",)
    assert m.run(Claim(job_id="j", worker_id="b", now=10, ttl=10)).epoch == 2
    for op in (
        Renew(job_id="j", worker_id="a", epoch=1, now=11, ttl=10),
        Complete(job_id="j", worker_id="a", epoch=1, now=11),
        Release(job_id="j", worker_id="a", epoch=1, now=11),
        Complete(job_id="j", worker_id="a", epoch=2, now=11),
    ):
        assert m.run(op).kind == "lost"
    assert m.state.job("j") == JobState(
        status="leased", epoch=2, worker="b", expires_at=20, runs=("a", "b")
    )


def test_expired_lease_is_claimable_before_the_reaper_runs() -> None:
    m = FleetModel()
    m.run(Enqueue(job_id="j"))
    m.run(Claim(job_id="j", worker_id="a", now=0, ttl=10))
    assert m.run(Claim(job_id="j", worker_id="b", now=10, ttl=5)).epoch == 2


def test_invariant_checks_report_broken_states() -> None:
    bad = FleetState(
        jobs=(("j", JobState(status="leased", epoch=2, worker="a", expires_at=5, runs=("a",))),)
    )
    assert check_invariants(bad) == ["job j: 1 runs for epoch 2"]
    assert check_outcomes({"j": [("a", 1), ("b", 1), ("a", 2)]}) == [
        "double assignment: job j epoch 1 claimed by a and b"
    ]
