"""Running one schedule of a scenario on a store, and checking it.

A :class:`ScheduleRunner` is made once per exploration and runs many schedules: it shares the
verdict memo (``RunChecker``) and, when the store can fork, a store on which the set-up already
ran, so each schedule starts from a fork instead of re-running set-up.
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
from collections.abc import Callable
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from fleet import Coordinator
from models import Claim
from models import FleetOp
from models import Reap
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
from ._coordinators import PROBE_TIME
from ._coordinators import PROBE_WORKER
from ._coordinators import CoordinatorLike
from ._coordinators import CoordinatorMisuse
from ._coordinators import ScenarioClock
from ._coordinators import as_spec
from ._coordinators import checked_answer
from ._scenarios import ActorLog
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

    def _user_coordinator(self, wrap: Wrap, tick: Callable[[], int]) -> _UserRun:
        """A user's coordinator on a fresh store, set up through its own operations."""
        store = self.factory(wrap)
        clock = ScenarioClock()
        coord = self.spec.build(store, clock)
        if not self.checker.coordinator_files:
            self.checker.coordinator_files = _source_files(coord)
        user = _UserRun(coord=coord, store=store, clock=clock)
        setup = actor_coroutine(coord, self.scenario.setup(self.size), None, tick, user.call)
        try:
            if self.scenario.initial.jobs:
                drive(self.spec.seed(coord, self.scenario.initial))
            user.log = drive(setup())
        except CoordinatorMisuse:
            raise
        except Exception as error:
            # Set-up is sequential: nothing raced, so this is no schedule's finding.
            raise CoordinatorMisuse(
                f"during the set-up of scenario {self.scenario.name}, "
                f"{who_raised(error, self.checker.coordinator_files)}; a coordinator must "
                "answer sequential calls"
            ) from None
        return user

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
        user: _UserRun | None = None
        if self.spec.user:
            user = self._user_coordinator(wrap, tick)
            coord: Any = user.coord
        else:
            coord = self._coordinator(wrap)
        if after_setup is not None:
            after_setup()
        call = None if user is None else user.call
        actors = [
            actor_coroutine(coord, ops, None if hooks is None else hooks[i], tick, call)
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
        store = coord.store if user is None else user.store
        faults = tuple(store.injected) if isinstance(store, FaultyStore) else ()
        if user is not None:
            verdict = self._user_verdict(execution, user, tick)
        else:
            verdict = self.checker(execution.results, drive(coord.list_documents()))
        return Run(execution=execution, names=self.names, violations=verdict, faults=faults)

    def _user_verdict(
        self, execution: Execution, user: _UserRun, tick: Callable[[], int]
    ) -> tuple[Violation, ...]:
        if any(isinstance(result, ActorError) for result in execution.results):
            return self.checker(execution.results, None, user.log)  # no state to probe
        try:
            probes = user.finish(self._jobs(), tick)
        except Exception as error:
            who = who_raised(error, self.checker.coordinator_files)
            sentence = f"the final probe (a claim far in the future, run alone): {who}"
            return (Violation(kind="actor-raised", subject=None, sentence=sentence),)
        return self.checker(execution.results, None, probes)

    def _jobs(self) -> list[str]:
        """Every job the scenario names: what the final probes ask about."""
        ops = [*self.scenario.setup(self.size), *(op for _, o in self.named for op in o)]
        named = {op.job_id for op in ops if not isinstance(op, Reap)}
        return sorted(named | {job_id for job_id, _ in self.scenario.initial.jobs})


@attrs.define
class _UserRun:
    """One schedule's user coordinator, its store and clock, and the harness's own calls."""

    coord: Any
    store: Store
    clock: ScenarioClock
    log: ActorLog = attrs.field(factory=list)

    async def call(self, op: FleetOp) -> Any:
        self.clock.reached(getattr(op, "now", 0))
        return await checked_answer(op, perform(self.coord, op))

    def finish(self, jobs: Sequence[str], tick: Callable[[], int]) -> ActorLog:
        """Set-up and probes: the calls the harness made itself, in order."""
        probes = [
            Claim(job_id=job_id, worker_id=PROBE_WORKER, now=PROBE_TIME, ttl=1) for job_id in jobs
        ]
        return [*self.log, *drive(actor_coroutine(self.coord, probes, None, tick, self.call)())]


def _source_files(coord: object) -> tuple[Path, ...]:
    """The files a user's coordinator's class (and its bases) is written in."""
    files = []
    for cls in type(coord).__mro__:
        with contextlib.suppress(TypeError, OSError):
            files.append(Path(inspect.getfile(cls)).resolve())
    return tuple(files)


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
