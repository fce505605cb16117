"""Findings as data, the one fleet checker, and schedulers that own their strategy."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Mapping
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from fleet import FleetResult
from fleet import Lease
from harness import explore
from harness import replay
from harness.check import Finding
from harness.check import HistoryNotLinearizable
from harness.check import OpRef
from harness.check import Violation
from harness.explore import BatchFinding
from harness.explore import ScheduleFinding
from harness.explore import check_run
from harness.explore import get_scenario
from harness.explore import initial_state
from harness.runtime import DeterminismCheck
from harness.runtime import ExhaustiveScheduler
from harness.runtime import NondeterminismError
from harness.runtime import PctScheduler
from harness.runtime import RandomScheduler
from harness.runtime import SchedulerBase
from harness.runtime import run_actors
from models import Claim
from stores import Doc
from stores import Expected
from stores import MemoryStore
from stores import StoreWrapper
from stores import UpdateResult
from stores import checkpoint

ROOT = Path(__file__).resolve().parent.parent
KV_BAD = ROOT.parent / "shared" / "histories" / "porcupine" / "kv" / "c10-bad.txt"


def test_a_double_assignment_is_a_value_naming_its_job_and_its_two_claims() -> None:
    result = explore("claim-race", "rcw-memory", "random", seed=0, budget=50)
    cx = result.counterexample
    assert cx is not None
    first = cx.violations[0]
    assert first.kind == "double-assignment"
    assert first.subject == "j1"
    assert set(first.operations) == {OpRef(actor="w0", index=0), OpRef(actor="w1", index=0)}
    assert str(first) == first.sentence == "double assignment: job j1 epoch 1 claimed by w0 and w1"
    # The timeline marks exactly the operations the violation names: no substring matching.
    marked = {(op.actor, op.label) for op in cx.timeline if op.violating}
    assert marked == {("w0", "w0 claim(j1, now=0)"), ("w1", "w1 claim(j1, now=0)")}


def test_a_violation_replays_equal_as_data() -> None:
    cx = explore("multi-job", "rcw-memory", "pct", seed=1, budget=100).counterexample
    assert cx is not None
    again = replay(cx.token)
    assert again is not None
    assert again.violations == cx.violations
    assert all(isinstance(v, Violation) for v in again.violations)


def _log(*calls: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    return list(calls)


def _job_doc(status: str, epoch: int, worker: str | None) -> Doc:
    body = {
        "kind": "job",
        "status": status,
        "epoch": epoch,
        "worker": worker,
        "expires_at": 10 if worker else None,
        "completed_epoch": None,
    }
    return Doc(id="j1", partition_key="jobs", body=body, etag="e", rev=2)


def _run_doc(epoch: int, worker: str) -> Doc:
    body = {"kind": "run", "job": "j1", "epoch": epoch, "worker": worker, "started_at": 0}
    return Doc(id=f"j1~run~{epoch}", partition_key="jobs", body=body, etag="r", rev=1)


def test_the_scenario_check_respects_real_time_order() -> None:
    # w0's claim returned "not claimable" before w1's claim was even invoked, and w1 won.  In
    # some sequential order (w1 first) both answers make sense, so a check that ignores real
    # time passes this; but w0 finished first, so it must have found the job queued.
    before = initial_state(get_scenario("claim-race"), 2)
    lost = FleetResult(kind="not_claimable", job_id="j1", detail="leased")
    won = FleetResult(
        kind="claimed",
        job_id="j1",
        epoch=1,
        lease=Lease(job_id="j1", worker_id="w1", epoch=1, expires_at=10),
    )
    w0 = _log((Claim(job_id="j1", worker_id="w0", now=0, ttl=10), lost, 0, 1))
    w1 = _log((Claim(job_id="j1", worker_id="w1", now=0, ttl=10), won, 2, 3))
    docs = [_job_doc("leased", 1, "w1"), _run_doc(1, "w1")]
    violations = check_run(before, ["w0", "w1"], [w0, w1], docs)
    assert [v.kind for v in violations] == ["not-linearizable"]
    assert OpRef(actor="w0", index=0) in violations[0].operations
    # The same answers with overlapping calls are linearizable (w1, then w0).
    w0_overlapping = _log((Claim(job_id="j1", worker_id="w0", now=0, ttl=10), lost, 0, 3))
    w1_overlapping = _log((Claim(job_id="j1", worker_id="w1", now=0, ttl=10), won, 1, 2))
    assert check_run(before, ["w0", "w1"], [w0_overlapping, w1_overlapping], docs) == ()


def test_a_missing_run_document_is_named_when_every_outcome_is_known() -> None:
    before = initial_state(get_scenario("claim-race"), 2)
    won = FleetResult(
        kind="claimed",
        job_id="j1",
        epoch=1,
        lease=Lease(job_id="j1", worker_id="w1", epoch=1, expires_at=10),
    )
    w0 = _log((Claim(job_id="j1", worker_id="w0", now=0, ttl=10), won, 0, 1))
    violations = check_run(before, ["w0"], [w0], [_job_doc("leased", 1, "w0")])
    assert [v.kind for v in violations] == ["missing-run"]
    assert violations[0].subject == "j1"


def test_every_finding_shares_one_base_class() -> None:
    for finding in (ScheduleFinding, BatchFinding, HistoryNotLinearizable, NondeterminismError):
        assert issubclass(finding, Finding)
        assert issubclass(finding, AssertionError)


class _Flaky(StoreWrapper):
    """Every other read, counted across all instances, takes an extra scheduling point: what a
    store that consults a clock or a global does to a schedule."""

    reads = itertools.count()
    forkable = False  # a fresh store per schedule, as a server-backed store has

    async def get(self, id: str, partition_key: str) -> Doc | None:
        if next(self.reads) % 2:
            await checkpoint("get", partition_key, id, False)
        return await super().get(id, partition_key)


def test_the_determinism_check_is_a_wrapper_that_catches_a_nondeterministic_store() -> None:
    with pytest.raises(NondeterminismError, match=r"schedule #1 is not deterministic: step \d+"):
        explore(
            "claim-race",
            "memory",
            "random",
            budget=20,
            factory=lambda wrap: wrap(_Flaky(MemoryStore())),
            check_determinism=True,
        )


def test_the_determinism_check_counts_each_schedule_once() -> None:
    checked = explore("zombie-lease", "memory", "random", seed=3, budget=40, check_determinism=True)
    plain = explore("zombie-lease", "memory", "random", seed=3, budget=40)
    assert checked.schedules == plain.schedules == 40
    exhaustive = explore("claim-race", "memory", "exhaustive", budget=None, check_determinism=True)
    assert exhaustive.complete
    assert (
        exhaustive.schedules == explore("claim-race", "memory", "exhaustive", budget=None).schedules
    )


def test_a_failing_schedule_is_repeated_before_it_is_reported() -> None:
    cx = explore(
        "claim-race", "rcw-memory", "random", seed=0, budget=50, check_determinism=True
    ).counterexample
    assert cx is not None
    assert cx.violations[0].kind == "double-assignment"


def test_schedulers_declare_what_exploration_asks_of_them() -> None:
    assert ExhaustiveScheduler().sees_every_step
    assert ExhaustiveScheduler().complete
    assert not ExhaustiveScheduler(preemption_bound=1).complete
    assert ExhaustiveScheduler().unreduced() is not None
    assert RandomScheduler(1).uniform is not None
    assert not RandomScheduler(1).complete
    assert PctScheduler(1).uniform is None
    assert PctScheduler(1).unreduced() is None
    wrapped = DeterminismCheck(ExhaustiveScheduler())
    assert wrapped.complete
    assert wrapped.name == "exhaustive"
    assert wrapped.seed is None


def test_pct_measures_its_own_schedule_length() -> None:
    pct = PctScheduler(0, initial_steps=2)
    store = MemoryStore()

    async def reader() -> None:
        for _ in range(10):
            await store.get("x", "p")

    pct.new_execution()
    run_actors([reader, reader], pct)
    assert pct.max_steps == 20


class _Alternate(SchedulerBase):
    """A third-party strategy: only the protocol, no private state for anyone to read."""

    name = "alternate"

    def next_actor(self, enabled: Sequence[int], pending: Sequence[Any], step: int) -> int:
        return enabled[step % len(enabled)]

    def next_int(self, bound: int, ordinary: int = 1) -> int:
        return 0


def test_a_strategy_written_against_the_protocol_alone_drives_the_runtime() -> None:
    store = MemoryStore()
    seen: list[str] = []

    def actor(name: str) -> Any:
        async def run() -> None:
            for _ in range(2):
                await store.get(name, "p")
                seen.append(name)

        return run

    execution = run_actors([actor("a"), actor("b")], _Alternate())
    assert execution.schedule == (0, 1, 0, 1)
    assert seen == ["a", "b", "a", "b"]


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--store", "rcw-memory", "--scenario", "claim-race", "--budget", "50"],
        ["check-history", "--format", "porcupine-kv", str(KV_BAD)],
    ],
    ids=["run", "check-history"],
)
def test_piping_into_a_reader_that_has_gone_keeps_the_verdict_and_says_nothing(
    args: list[str],
) -> None:
    # The read end is closed before the command starts, so its very first write fails: the
    # deterministic form of `claimcheck ... | head -1` closing early.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "harness", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    assert proc.returncode == 1, proc.stderr  # the finding's exit code, unchanged by the pipe
    assert "Broken pipe" not in proc.stderr
    assert "Traceback" not in proc.stderr


def test_report_assets_are_real_files_inlined_into_the_page(tmp_path: Path) -> None:
    from harness.explore import CheckRow
    from harness.report import write_report

    _, html_path = write_report(
        [CheckRow(store="memory", control=False, check="c", failed=False, evidence="e")],
        name="r",
        directory=tmp_path,
        title="t",
        meta={},
    )
    page = html_path.read_text("utf-8")
    assets = resources.files("harness.report").joinpath("assets")
    for name in ("report.css", "report.js"):
        assert assets.joinpath(name).read_text("utf-8") in page


class _Raiser(StoreWrapper):
    """A store whose compare-and-set raises something outside the contract."""

    forkable = False

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        raise KeyError("internal index corrupted")


def test_an_actor_error_names_who_raised_it() -> None:
    cx = explore(
        "claim-race", "x", "random", budget=5, factory=lambda wrap: wrap(_Raiser(MemoryStore()))
    ).counterexample
    assert cx is not None
    first = cx.violations[0]
    assert first.kind == "actor-raised"
    assert "the store raised KeyError: 'internal index corrupted' (tests/" in first.sentence
