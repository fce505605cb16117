"""A concurrent batch of coordinator operations, recorded as a history and checked.

Used by the Hypothesis state machine (``harness.stateful``): from a known model state, a few
actors each run a few fleet operations under a scheduler; the run is recorded and checked
exactly as a scenario run is (``_verdict``), from that model state.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import attrs

from fleet import Coordinator
from models import FleetLinearModel
from models import FleetOp
from models import FleetState
from stores import Store
from stores import StoreWrapper

from .._findings import who_raised
from ..check import CheckResult
from ..check import Operation
from ..check import check_operations
from ..runtime import ActorError
from ..runtime import Execution
from ..runtime import ScheduleToken
from ..runtime import drive
from ..runtime import encode
from ..runtime import run_actors
from ..runtime.schedulers import Scheduler
from ._documents import observed_state
from ._scenarios import actor_coroutine
from ._scenarios import adhoc_scenario
from ._verdict import CHECK_TIMEOUT
from ._verdict import history_of

__all__ = ["BatchOutcome", "run_batch"]


def _unfaulted(store: Store) -> Store:
    """The store to read the final state from: past a fault layer, which is under test only
    while the actors run."""
    return store.inner if isinstance(store, StoreWrapper) and store.injects_faults else store


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
    """Run ``actors`` concurrently on ``coord`` (whose store holds ``before``) and check them.

    The actors are the scenario actors (``actor_coroutine``) and the check is the one every
    scenario run gets (``_verdict.history_of``), so the batch's token replays exactly what ran.
    """
    tick = itertools.count().__next__
    names = [name for name, _ in actors]
    execution = run_actors([actor_coroutine(coord, ops, tick=tick) for _, ops in actors], scheduler)
    errors = tuple(
        f"actor {name}: {who_raised(r.error)}"
        for name, r in zip(names, execution.results, strict=True)
        if isinstance(r, ActorError)
    )
    logs = [[] if isinstance(r, ActorError) else r for r in execution.results]
    final = observed_state(drive(_unfaulted(coord.store).list_partition(coord.partition)))
    operations, _ = history_of(names, logs, final, before)
    check = check_operations(FleetLinearModel(before), operations, timeout=CHECK_TIMEOUT)
    scenario = adhoc_scenario(before, actors)
    token = encode(
        ScheduleToken(
            scenario=scenario.name,
            store=store_name,
            size=len(actors),
            steps=execution.schedule,
            data=execution.data,
        )
    )
    return BatchOutcome(
        operations=tuple(operations),
        execution=execution,
        check=check,
        final=final,
        errors=errors,
        token=token,
    )
