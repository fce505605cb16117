"""The coordinator on MemoryStore and the reference model, side by side, step by step."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine
from hypothesis.stateful import initialize
from hypothesis.stateful import invariant
from hypothesis.stateful import rule

from fleet import Coordinator
from fleet import FleetResult
from harness import drive
from harness.explore import observed_state
from models import Claim
from models import Complete
from models import Enqueue
from models import FleetModel
from models import FleetOp
from models import Reap
from models import Release
from models import Renew
from models import check_invariants
from stores import MemoryStore

JOBS = st.sampled_from(["j1", "j2", "j3"])
WORKERS = st.sampled_from(["w1", "w2", "w3"])
EPOCHS = st.integers(0, 4)
TTLS = st.integers(1, 12)


class CoordinatorMatchesModel(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.coord = Coordinator(MemoryStore())
        self.model = FleetModel()
        self.now = 0

    def check(self, op: FleetOp, coro: Any) -> None:
        got = drive(coro)
        want = self.model.run(op)
        if isinstance(got, tuple):
            assert want.kind == "reaped"
            assert sorted(got) == sorted(want.reaped), (op, got, want)
            return
        assert isinstance(got, FleetResult)
        assert got.kind == want.kind, (op, got, want)
        if got.kind in ("claimed", "renewed"):
            assert (got.epoch, got.expires_at) == (want.epoch, want.expires_at), (op, got, want)

    @rule(job=JOBS)
    def enqueue(self, job: str) -> None:
        self.check(Enqueue(job_id=job), self.coord.enqueue_job(job))

    @rule(job=JOBS, worker=WORKERS, ttl=TTLS)
    def claim(self, job: str, worker: str, ttl: int) -> None:
        op = Claim(job_id=job, worker_id=worker, now=self.now, ttl=ttl)
        self.check(op, self.coord.try_claim_job(job, worker, now=self.now, ttl=ttl))

    @rule(job=JOBS, worker=WORKERS, epoch=EPOCHS, ttl=TTLS)
    def renew(self, job: str, worker: str, epoch: int, ttl: int) -> None:
        op = Renew(job_id=job, worker_id=worker, epoch=epoch, now=self.now, ttl=ttl)
        self.check(op, self.coord.renew_lease(job, worker, epoch, now=self.now, ttl=ttl))

    @rule(job=JOBS, worker=WORKERS, epoch=EPOCHS)
    def complete(self, job: str, worker: str, epoch: int) -> None:
        op = Complete(job_id=job, worker_id=worker, epoch=epoch, now=self.now)
        self.check(op, self.coord.complete_job(job, worker, epoch, now=self.now))

    @rule(job=JOBS, worker=WORKERS, epoch=EPOCHS)
    def release(self, job: str, worker: str, epoch: int) -> None:
        op = Release(job_id=job, worker_id=worker, epoch=epoch, now=self.now)
        self.check(op, self.coord.release_job(job, worker, epoch, now=self.now))

    @rule()
    def reap(self) -> None:
        self.check(Reap(now=self.now), self.coord.reap_expired(self.now))

    @rule(ticks=st.integers(1, 8))
    def advance_clock(self, ticks: int) -> None:
        self.now += ticks

    @invariant()
    def store_state_is_model_state(self) -> None:
        state = observed_state(drive(self.coord.list_documents()))
        assert state == self.model.state
        assert check_invariants(state) == []


CoordinatorMatchesModel.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None
)
TestCoordinatorMatchesModel = CoordinatorMatchesModel.TestCase


# --- the concurrent machine: batches under Hypothesis-drawn schedules -------------------------

from hypothesis import HealthCheck  # noqa: E402
from hypothesis import Phase  # noqa: E402
from hypothesis.stateful import run_state_machine_as_test  # noqa: E402

from harness import replay  # noqa: E402
from harness.stateful import BatchFinding  # noqa: E402
from harness.stateful import fleet_machine  # noqa: E402
from stores import ReadCheckWriteStore  # noqa: E402

MemoryMachine = fleet_machine(MemoryStore, store_name="memory")
MemoryMachine.TestCase.settings = settings(max_examples=100, stateful_step_count=25, deadline=None)
TestConcurrentMachineOnMemory = MemoryMachine.TestCase


def test_concurrent_machine_catches_the_control_and_shrinks_it(harness_seed: int) -> None:
    machine = fleet_machine(lambda: ReadCheckWriteStore(MemoryStore()), store_name="rcw-memory")
    config = settings(
        deadline=None,
        max_examples=200,
        stateful_step_count=8,
        database=None,
        derandomize=False,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    from hypothesis import seed

    with pytest.raises(BatchFinding) as caught:
        seed(harness_seed)(lambda: run_state_machine_as_test(machine, settings=config))()
    finding = caught.value
    ops = [op for _, actor_ops in finding.actors for op in actor_ops]
    # Minimal: two claims of one job by two different workers.
    assert len(ops) == 2, ops
    assert all(isinstance(op, Claim) for op in ops)
    assert len({op.job_id for op in ops}) == 1  # type: ignore[union-attr]
    assert len({op.worker_id for op in ops}) == 2  # type: ignore[union-attr]
    assert f"claimcheck replay {finding.token}" in str(finding)
    assert finding.token.startswith("cc1.x-")
    # The printed token replays the same violation through the CLI path.
    again = replay(finding.token)
    assert again is not None
    assert "double assignment" in again.violations[0].sentence
