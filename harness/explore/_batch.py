"""A concurrent batch of coordinator operations, recorded as a history and checked.

Used by the Hypothesis state machine (``harness.stateful``): from a known model state, a few
actors each run a few fleet operations under a scheduler; every operation is recorded with
logical invoke/return times; the history is checked for linearizability against the fleet
model starting from that state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from fleet import Coordinator
from models import FleetLinearModel, FleetOp, FleetState, Inspect, Observation
from stores import Doc, Expected, OutcomeUnknown, Store, StoreUnavailable, UpdateResult

from ..check import CheckResult, HistoryRecorder, Operation, check_operations
from ..runtime import ActorError, Execution, ScheduleToken, drive, encode, run_actors
from ..runtime.schedulers import Scheduler
from ._scenarios import Observed, adhoc_scenario, observed_state, perform

__all__ = ["BatchOutcome", "observe", "run_batch"]


def _unfaulted(store: Store) -> Store:
    """The store to read the final state from: past a fault layer, which is under test only
    while the actors run."""
    inner = getattr(store, "inner", None)
    return inner if type(store).__name__ == "FaultyStore" and inner is not None else store


def observe(result: Observed) -> Observation:
    """A coordinator answer in the model's terms."""
    if isinstance(result, tuple):
        return Observation(kind="reaped", reaped=tuple(result))
    return Observation(kind=result.kind, epoch=result.epoch, expires_at=result.expires_at)


class _Clock:
    """Logical time: the number of store operations completed so far.

    A return is stamped ``2k`` and an invoke ``2k + 1`` (k = operations completed), so an
    operation that returned before another was invoked is strictly earlier, even though both
    happened "at" k: the checker's intervals are closed.
    """

    def __init__(self) -> None:
        self.completed = 0

    def invoke_time(self) -> int:
        return 2 * self.completed + 1

    def return_time(self) -> int:
        return 2 * self.completed


class _CountingStore:
    """Counts completed operations of ``inner`` for :class:`_Clock`; adds no scheduling point."""

    def __init__(self, inner: Store, clock: _Clock) -> None:
        self.inner = inner
        self.clock = clock

    async def _count(self, coro: Any) -> Any:
        try:
            return await coro
        finally:
            self.clock.completed += 1

    async def create(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        doc: Doc = await self._count(self.inner.create(id, partition_key, body))
        return doc

    async def get(self, id: str, partition_key: str) -> Doc | None:
        doc: Doc | None = await self._count(self.inner.get(id, partition_key))
        return doc

    async def replace(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        doc: Doc = await self._count(self.inner.replace(id, partition_key, body))
        return doc

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        result: UpdateResult = await self._count(
            self.inner.update_if_match(id, partition_key, expected, patch)
        )
        return result

    async def delete(self, id: str, partition_key: str) -> bool:
        done: bool = await self._count(self.inner.delete(id, partition_key))
        return done

    async def list_partition(self, partition_key: str) -> list[Doc]:
        docs: list[Doc] = await self._count(self.inner.list_partition(partition_key))
        return docs


@attrs.frozen(kw_only=True)
class BatchOutcome:
    """A batch as it ran: its history, the linearizability verdict, and how to replay it."""

    operations: tuple[Operation[Any, Any], ...]
    execution: Execution
    check: CheckResult
    final: FleetState
    errors: tuple[str, ...]
    token: str

    @property
    def ok(self) -> bool:
        return self.check.is_linearizable and not self.errors


def run_batch(
    coord: Coordinator,
    before: FleetState,
    actors: Sequence[tuple[str, Sequence[FleetOp]]],
    scheduler: Scheduler,
    *,
    store_name: str,
) -> BatchOutcome:
    """Run ``actors`` concurrently on ``coord`` (whose store holds ``before``) and check them."""
    clock = _Clock()
    counted = coord.with_store(_CountingStore(coord.store, clock))
    recorder = HistoryRecorder()

    def make(name: str, ops: Sequence[FleetOp]) -> Any:
        async def actor() -> None:
            for op in ops:
                handle = recorder.invoke(name, op, time=clock.invoke_time())
                try:
                    result = await perform(counted, op)
                except (OutcomeUnknown, StoreUnavailable):
                    # The caller never learned: the checker lets it take effect or not.
                    recorder.unknown(handle)
                    return
                recorder.ok(handle, observe(result), time=clock.return_time())

        return actor

    execution = run_actors([make(name, ops) for name, ops in actors], scheduler)
    errors = tuple(
        f"actor {name} raised {type(r.error).__name__}: {r.error}"
        for (name, _), r in zip(actors, execution.results, strict=True)
        if isinstance(r, ActorError)
    )
    final = observed_state(drive(_unfaulted(coord.store).list_partition(coord.partition)))
    # Each job's final state is recorded as one more operation, after every other returned,
    # so the checker must also explain the state the store ended in.
    end = clock.return_time() + 1
    for job_id in sorted({j for j, _ in before.jobs} | {j for j, _ in final.jobs}):
        handle = recorder.invoke("harness", Inspect(job_id=job_id), time=end)
        recorder.ok(handle, Observation(kind="state", job=final.job(job_id)), time=end + 1)
        end += 2
    operations = tuple(recorder.operations())
    check = check_operations(FleetLinearModel(before), operations, timeout=10.0)
    scenario = adhoc_scenario(before, actors)
    token = encode(
        ScheduleToken(
            scenario=scenario.name,
            store=store_name,
            size=len(actors),
            steps=execution.schedule,
        )
    )
    return BatchOutcome(
        operations=operations,
        execution=execution,
        check=check,
        final=final,
        errors=errors,
        token=token,
    )
