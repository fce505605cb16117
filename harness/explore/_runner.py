"""Running one schedule of a scenario on a store, and checking it.

A :class:`ScheduleRunner` is made once per exploration and runs many schedules: it shares the
verdict memo (``RunChecker``) and, when the store can fork, a store on which the set-up already
ran, so each schedule starts from a fork instead of re-running set-up.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

import attrs

from fleet import Coordinator
from stores import ForkableStore
from stores import Store
from stores import StoreWrapper
from stores import can_fork

from .._findings import Violation
from .._findings import who_raised
from ..backends import FaultyStore
from ..backends import Wrap
from ..backends import identity
from ..runtime import ActorError
from ..runtime import Execution
from ..runtime import Scheduler
from ..runtime import drive
from ..runtime import run_actors
from ._coordinators import CoordinatorLike
from ._coordinators import UserRun
from ._coordinators import as_spec
from ._documents import seed_documents
from ._scenarios import Caller
from ._scenarios import OpHook
from ._scenarios import Scenario
from ._scenarios import actor_coroutine
from ._scenarios import perform
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

    Traced runs (``wrap`` given) always build and set up a fresh store.  ``coordinator`` is
    what ``_coordinators.as_spec`` takes: ``fleet.Coordinator`` options, or a user's
    coordinator (built fresh for every schedule; see ``_coordinators``).
    """

    def __init__(
        self,
        scenario: Scenario,
        size: int,
        factory: StoreFactory,
        coordinator: CoordinatorLike = None,
    ) -> None:
        self.scenario = scenario
        self.size = size
        self.factory = factory
        self.spec = as_spec(coordinator)
        self.options = dict(self.spec.options)
        self.named = scenario.actors(size)
        self.names = tuple(name for name, _ in self.named)
        self.checker = RunChecker(scenario, size, self.names, user=self.spec.user)
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
        # One event counter per run, shared by the actors: their logs form one history.
        tick = itertools.count().__next__
        user: UserRun | None = None
        coords: list[tuple[Any, Caller | None]]
        if self.spec.user:
            user = UserRun.start(self.spec, self.factory(wrap), self.scenario, self.size, tick)
            self.checker.coordinator_files = user.files
            coords = [user.actor() for _ in self.named]
        else:
            coord = self._coordinator(wrap)
            coords = [(coord, None) for _ in self.named]
        if after_setup is not None:
            after_setup()
        actors = [
            actor_coroutine(
                coords[i][0], ops, None if hooks is None else hooks[i], tick, coords[i][1]
            )
            for i, (_, ops) in enumerate(self.named)
        ]
        execution = run_actors(actors, scheduler)
        if execution.pruned:
            return Run(execution=execution, names=self.names, violations=())
        if execution.deadlock is not None:
            # Every actor waits on something nobody will provide: that is the finding (the
            # deadlocked actors' results are ActorError(Deadlocked), not answers to check).
            deadlock = execution.deadlock.violation(self.names)
            return Run(execution=execution, names=self.names, violations=(deadlock,))
        store = coords[0][0].store if user is None else user.store
        faults = tuple(store.injected) if isinstance(store, FaultyStore) else ()
        if user is not None:
            verdict = self._user_verdict(execution, user, tick)
        else:
            verdict = self.checker(execution.results, drive(coords[0][0].list_documents()))
        return Run(execution=execution, names=self.names, violations=verdict, faults=faults)

    def _user_verdict(
        self, execution: Execution, user: UserRun, tick: Callable[[], int]
    ) -> tuple[Violation, ...]:
        if any(isinstance(result, ActorError) for result in execution.results):
            return self.checker(execution.results, None, user.log)  # no state to probe
        try:
            probes = user.finish(tick)
        except Exception as error:
            who = who_raised(error, user.files)
            sentence = f"the final probe (a claim after every lease ran out, made alone): {who}"
            return (Violation(kind="actor-raised", subject=None, sentence=sentence),)
        return self.checker(execution.results, None, probes)


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
    coordinator: CoordinatorLike = None,
) -> Run:
    """Run one schedule of ``scenario`` on a fresh store from ``factory`` and check it."""
    return ScheduleRunner(scenario, size, factory, coordinator).run(scheduler, wrap)
