"""Running one schedule of a scenario on a store, and checking it.

A :class:`ScheduleRunner` is made once per exploration and runs many schedules: it shares the
verdict memo (``RunChecker``) and, when the store can fork, a store on which the set-up already
ran, so each schedule starts from a fork instead of re-running set-up.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

import attrs

from fleet import Coordinator
from stores import ForkableStore
from stores import Store
from stores import StoreWrapper
from stores import can_fork

from .._findings import Violation
from ..backends import FaultyStore
from ..backends import Wrap
from ..backends import identity
from ..runtime import Execution
from ..runtime import Scheduler
from ..runtime import drive
from ..runtime import run_actors
from ._scenarios import OpHook
from ._scenarios import Scenario
from ._scenarios import actor_coroutine
from ._scenarios import perform
from ._scenarios import seed_documents
from ._verdict import RunChecker

__all__ = ["Run", "ScheduleRunner", "StoreFactory", "run_schedule"]

#: Opens a fresh, empty store (wrapped by ``wrap``) for one schedule.
StoreFactory = Callable[[Wrap], Store]


@attrs.frozen(kw_only=True)
class Run:
    """One schedule as it ran, with its verdict."""

    execution: Execution
    names: tuple[str, ...]
    violations: tuple[Violation, ...]
    #: Faults a fault layer injected during the run, in order (see ``FaultyStore``).
    faults: tuple[str, ...] = ()


class ScheduleRunner:
    """Runs schedules of one scenario on one backend, sharing what can be shared.

    Traced runs (``wrap`` given) always build and set up a fresh store.
    """

    def __init__(
        self,
        scenario: Scenario,
        size: int,
        factory: StoreFactory,
        coordinator: Mapping[str, Any] | None = None,
    ) -> None:
        self.scenario = scenario
        self.size = size
        self.factory = factory
        self.options = dict(coordinator or {})
        self.named = scenario.actors(size)
        self.names = tuple(name for name, _ in self.named)
        self.checker = RunChecker(scenario, size, self.names)
        self._template: ForkableStore | None = None

    def _coordinator(self, wrap: Wrap) -> Coordinator:
        if wrap is identity and self._template is not None:
            return Coordinator(self._template.fork(), partition="jobs", **self.options)
        coord = Coordinator(self.factory(wrap), partition="jobs", **self.options)
        if self.scenario.initial.jobs:
            drive(seed_documents(coord, self.scenario.initial))
        for op in self.scenario.setup(self.size):
            drive(perform(coord, op))
        if wrap is identity and can_fork(coord.store):
            first = coord.store.fork()
            # A subclass that inherits ``fork`` (a MemoryStore with its own update_if_match,
            # say) would fork into its base class and hide its own behaviour: use forks only
            # when they are the same kind of store, layer by layer.
            if _same_layers(first, coord.store):
                self._template = coord.store
                return Coordinator(first, partition="jobs", **self.options)
        return coord

    def run(
        self,
        scheduler: Scheduler,
        wrap: Wrap = identity,
        after_setup: Callable[[], None] | None = None,
        hooks: Sequence[OpHook] | None = None,
    ) -> Run:
        """Set up, run the actors under ``scheduler``, check the outcome."""
        coord = self._coordinator(wrap)
        if after_setup is not None:
            after_setup()
        # One event counter per run, shared by the actors: their logs form one history.
        tick = itertools.count().__next__
        execution = run_actors(
            [
                actor_coroutine(coord, ops, None if hooks is None else hooks[i], tick)
                for i, (_, ops) in enumerate(self.named)
            ],
            scheduler,
        )
        if execution.pruned:
            return Run(execution=execution, names=self.names, violations=())
        if execution.deadlock is not None:
            # Every actor waits on something nobody will provide: that is the finding (the
            # deadlocked actors' results are ActorError(Deadlocked), not answers to check).
            deadlock = execution.deadlock.violation(self.names)
            return Run(execution=execution, names=self.names, violations=(deadlock,))
        docs = drive(coord.list_documents())
        return Run(
            execution=execution,
            names=self.names,
            violations=self.checker(execution.results, docs),
            faults=tuple(coord.store.injected) if isinstance(coord.store, FaultyStore) else (),
        )


def _same_layers(a: Store, b: Store) -> bool:
    while isinstance(a, StoreWrapper) and isinstance(b, StoreWrapper):
        if type(a) is not type(b):
            return False
        a, b = a.inner, b.inner
    return type(a) is type(b)


def run_schedule(
    scenario: Scenario,
    size: int,
    factory: StoreFactory,
    scheduler: Scheduler,
    wrap: Wrap = identity,
    coordinator: Mapping[str, Any] | None = None,
) -> Run:
    """Run one schedule of ``scenario`` on a fresh store from ``factory`` and check it."""
    return ScheduleRunner(scenario, size, factory, coordinator).run(scheduler, wrap)
