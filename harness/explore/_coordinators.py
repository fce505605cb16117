"""The coordinator under test: claimcheck's own ``fleet.Coordinator``, or a user's.

A user's coordinator (``claimcheck run --coordinator MODULE:FACTORY``, ``explore(...,
coordinator=...)``, ``--harness-coordinator``) is any object with the six operations of
``fleet.FleetCoordinator``.  ``FACTORY(store, clock)`` makes one per schedule, over that
schedule's fresh store; ``clock()`` is the time of the latest operation the harness started
(operations also get ``now`` explicitly).  Decisions:

* **Its own document layout.**  The harness never reads or writes a user's documents.  A
  scenario reaches its initial state through the coordinator's own operations (every shipped
  scenario's set-up is operations); a workload that starts from a written state needs the
  coordinator's optional ``seed_state(state: models.FleetState)`` coroutine.
* **The final state through its own operations.**  After the actors, one probe per job (a
  claim by ``claimcheck-probe`` far in the future) is appended to the history: its answer
  says whether the job is done and at which epoch, and the linearizability check must explain
  it like every other answer.  Run documents are ``fleet``'s own and are not checked.
* **Fresh per schedule, never forked.**  A user's coordinator may keep state of its own, so
  each schedule builds a new one on a new store and runs the set-up again.
* **Its answers are checked for shape.**  An answer that is not a ``FleetResult`` for the
  job asked about (or, for a reap, not a sequence of job ids) is a finding of kind
  ``actor-raised`` naming the coordinator (``BadAnswer``), not a crash of the harness.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import threading
from collections.abc import Callable
from collections.abc import Coroutine
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from fleet import OPERATIONS
from fleet import Coordinator
from fleet import CoordinatorFactory
from fleet import FleetResult
from models import FleetOp
from models import FleetState
from models import Probe
from models import Reap
from models import apply
from models import strict_match
from stores import MemoryStore
from stores import Store

from .._findings import BadAnswer
from .._findings import Finding
from .._findings import who_raised
from .._loading import SpecError
from .._loading import resolve
from ..runtime import drive
from ._scenarios import ActorLog
from ._scenarios import Caller
from ._scenarios import Scenario
from ._scenarios import Unknown
from ._scenarios import actor_coroutine
from ._scenarios import describe_op
from ._scenarios import describe_result
from ._scenarios import perform
from ._verdict import observe

__all__ = [
    "PROBE_WORKER",
    "CoordinatorLike",
    "CoordinatorMisuse",
    "CoordinatorSpec",
    "ScenarioClock",
    "SetupFinding",
    "UserRun",
    "as_spec",
    "checked_answer",
    "load_coordinator",
]

#: The worker name of the final-state probes (a name no scenario uses).
PROBE_WORKER = "claimcheck-probe"

_KINDS = frozenset(
    {"enqueued", "exists", "claimed", "conflict", "not_found", "not_claimable", "renewed",
     "completed", "released", "lost"}
)  # fmt: skip


_FLEET = Path(inspect.getfile(Coordinator)).resolve().parent
_STDLIB = Path(os.__file__).resolve().parent

#: Seconds a coordinator factory may take to return its first coordinator.
FACTORY_TIMEOUT = 10.0

#: The event counter of one run (see ``actor_coroutine``).
Tick = Callable[[], int]


class CoordinatorMisuse(ValueError):
    """A coordinator (or its factory) that cannot be used: bad input, exit 2 from the CLI."""


class ScenarioClock:
    """The clock a user's coordinator gets: the ``now`` of the latest operation started."""

    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now

    def reached(self, now: int) -> None:
        self.now = max(self.now, now)


@attrs.frozen(kw_only=True)
class CoordinatorSpec:
    """How each schedule gets its coordinator: ``fleet.Coordinator(store, **options)``, or
    ``factory(store, clock)`` for a user's (``name`` is its ``MODULE:FACTORY``)."""

    options: Mapping[str, Any] = attrs.field(factory=dict)
    factory: CoordinatorFactory | None = None
    name: str | None = None

    @property
    def user(self) -> bool:
        return self.factory is not None

    def build(self, store: Store, clock: ScenarioClock) -> Any:
        if self.factory is None:
            return Coordinator(store, partition="jobs", **self.options)
        label = str(self.name or getattr(self.factory, "__qualname__", repr(self.factory)))
        if inspect.iscoroutinefunction(self.factory):
            raise CoordinatorMisuse(
                f"the coordinator factory {label} is async; it must return the coordinator "
                "itself (a plain function or a class)"
            )
        try:
            made = self.factory(store, clock)
        except Exception as error:
            raise CoordinatorMisuse(
                f"the coordinator factory {label} raised {type(error).__name__}: {error}; it "
                "must return a coordinator for the store and clock it is given"
            ) from None
        _check_operations(made, label)
        return made

    def try_it(self, timeout: float = FACTORY_TIMEOUT) -> None:
        """Build one coordinator on a ``MemoryStore``, within ``timeout`` seconds: a factory
        that hangs, raises or makes no coordinator is bad input before anything runs."""
        outcome: list[BaseException | None] = []

        def build() -> None:
            try:
                self.build(MemoryStore(), ScenarioClock())
            except BaseException as error:
                outcome.append(error)
            else:
                outcome.append(None)

        # A daemon thread: a factory that never returns must not keep the process alive.
        thread = threading.Thread(target=build, name="claimcheck-coordinator-factory", daemon=True)
        thread.start()
        thread.join(timeout)
        if not outcome:
            raise CoordinatorMisuse(
                f"the coordinator factory {self.name} did not return within {timeout:g} s; it "
                "must return a coordinator without waiting for anything"
            )
        if outcome[0] is not None:
            raise outcome[0]

    async def seed(self, coord: Any, state: FleetState) -> None:
        """Bring a user's coordinator to ``state`` through its ``seed_state`` hook."""
        hook = getattr(coord, "seed_state", None)
        if hook is None:
            raise CoordinatorMisuse(
                f"this workload starts from a written state, and the coordinator {self.name} "
                "has no seed_state(state) coroutine to write it in its own layout; add one, "
                "or check a scenario whose set-up is operations"
            )
        await hook(state)


#: How the harness calls each operation (``_scenarios.perform``): a coordinator's methods
#: must accept these arguments.
_CALLS: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
    "enqueue_job": (("j",), {}),
    "try_claim_job": (("j", "w"), {"now": 0, "ttl": 1}),
    "renew_lease": (("j", "w", 1), {"now": 0, "ttl": 1}),
    "complete_job": (("j", "w", 1), {"now": 0}),
    "release_job": (("j", "w", 1), {"now": 0}),
    "reap_expired": ((), {"now": 0}),
}


def _check_operations(made: object, label: str) -> None:
    """``made`` has the six operations, as coroutines the harness can call as it does."""
    missing = [name for name in OPERATIONS if not callable(getattr(made, name, None))]
    if missing:
        raise CoordinatorMisuse(
            f"the coordinator factory {label} returned {type(made).__name__}, which has no "
            f"{', '.join(missing)}; a coordinator needs the operations of "
            "fleet.FleetCoordinator"
        )
    for name, (args, kwargs) in _CALLS.items():
        method = getattr(made, name)
        try:
            inspect.signature(method).bind(*args, **kwargs)
        except TypeError as error:
            shown = ", ".join([*map(repr, args), *(f"{k}={v!r}" for k, v in kwargs.items())])
            raise CoordinatorMisuse(
                f"{type(made).__name__}.{name} cannot be called as {name}({shown}) ({error}); "
                "give it the signature of fleet.FleetCoordinator"
            ) from None
        except ValueError:
            continue  # no signature to read (a builtin): the call will tell


def source_files(coord: object) -> tuple[Path, ...]:
    """The coordinator's code: the folders its class and base classes are written in (its
    helpers usually sit beside it), ``fleet`` and the standard library left out."""
    folders = []
    for cls in type(coord).__mro__:
        with contextlib.suppress(TypeError, OSError):
            folder = Path(inspect.getfile(cls)).resolve().parent
            if folder not in folders and folder != _FLEET and folder != _STDLIB:
                folders.append(folder)
    return tuple(folders)


def load_coordinator(spec: str, *, try_it: bool = False) -> CoordinatorSpec:
    """``"package.module:factory"`` -> the spec of the user's coordinator it names.

    ``try_it`` builds one coordinator on a ``MemoryStore`` first, so that a factory that
    raises or makes no coordinator is bad input before anything runs (the CLI, the plugin)."""
    try:
        factory = resolve(spec, "coordinator factory", "mypkg.fleet:make_coordinator")
    except SpecError as error:
        raise CoordinatorMisuse(str(error)) from None
    if not callable(factory):
        raise CoordinatorMisuse(
            f"{spec!r} is not callable; it must be a factory (store, clock) -> coordinator"
        )
    loaded = CoordinatorSpec(factory=factory, name=spec)
    if try_it:
        loaded.try_it()
    return loaded


#: What callers may pass as the coordinator: a spec, ``fleet.Coordinator`` options,
#: ``MODULE:FACTORY``, or a factory ``(store, clock) -> coordinator``.
CoordinatorLike = CoordinatorSpec | Mapping[str, Any] | str | CoordinatorFactory | None


def as_spec(coordinator: CoordinatorLike) -> CoordinatorSpec:
    """The spec of what a caller passed (see :data:`CoordinatorLike`)."""
    if isinstance(coordinator, CoordinatorSpec):
        return coordinator
    if isinstance(coordinator, str):
        return load_coordinator(coordinator)
    if coordinator is None or isinstance(coordinator, Mapping):
        return CoordinatorSpec(options=dict(coordinator or {}))
    return CoordinatorSpec(factory=coordinator, name=spec_of(coordinator))


def spec_of(factory: object) -> str | None:
    """``module:qualname`` of ``factory`` when that names it back (what ``--coordinator``
    takes, so that printed reproducers paste); None for a lambda, a closure or a local."""
    module = getattr(factory, "__module__", None)
    qualname = getattr(factory, "__qualname__", None)
    if not module or not qualname or "<" in qualname:
        return None
    try:
        found = resolve(f"{module}:{qualname}", "coordinator factory", "")
    except SpecError:
        return None
    return f"{module}:{qualname}" if found is factory else None


async def checked_answer(op: FleetOp, call: Coroutine[Any, Any, Any]) -> Any:
    """Await a user's coordinator call and check the shape of its answer (``BadAnswer``)."""
    if not inspect.isawaitable(call):
        raise BadAnswer(f"{_method(op)} returned {call!r}, not a coroutine: make it async")
    answer = await call
    if isinstance(op, Reap):
        if isinstance(answer, list | tuple) and all(isinstance(j, str) for j in answer):
            return tuple(answer)
        raise BadAnswer(f"reap_expired returned {answer!r}, expected the ids of the reaped jobs")
    if not isinstance(answer, FleetResult):
        raise BadAnswer(f"{_method(op)} returned {answer!r}, expected a fleet.FleetResult")
    if answer.kind not in _KINDS or answer.job_id != getattr(op, "job_id", None):
        raise BadAnswer(
            f"{_method(op)} returned {answer!r} for job {getattr(op, 'job_id', '?')!r}, "
            f"expected a FleetResult of that job with a kind among {sorted(_KINDS)}"
        )
    if answer.kind in ("claimed", "renewed") and (answer.epoch is None or answer.lease is None):
        raise BadAnswer(f"{_method(op)} answered {answer.kind} without an epoch and a lease")
    return answer


def _method(op: FleetOp) -> str:
    return {
        "Enqueue": "enqueue_job",
        "Claim": "try_claim_job",
        "Renew": "renew_lease",
        "Complete": "complete_job",
        "Release": "release_job",
        "Reap": "reap_expired",
    }[type(op).__name__]


class SetupFinding(Finding):
    """A user's coordinator answered a set-up call, made alone, unlike the reference model:
    the scenario cannot reach the state it starts from, and no schedule is to blame."""


@attrs.define
class UserRun:
    """One schedule of a user's coordinator: its store, its clock, one coordinator per actor
    (as separate worker processes would have: actors share the store, not the coordinator
    object) and one for the harness's own calls, whose log (set-up, then probes) joins the
    history."""

    spec: CoordinatorSpec
    store: Store
    clock: ScenarioClock
    harness: Any
    jobs: frozenset[str]
    probe_time: int
    #: Where the coordinator's code lives: its errors are blamed on it (``who_raised``).
    files: tuple[Path, ...] = ()
    log: ActorLog = attrs.field(factory=list)

    @classmethod
    def start(
        cls, spec: CoordinatorSpec, store: Store, scenario: Scenario, size: int, tick: Tick
    ) -> UserRun:
        """Build the harness's coordinator, reach the scenario's initial state and run its
        set-up through it (``SetupFinding`` when an answer is not the model's)."""
        clock = ScenarioClock()
        setup = scenario.setup(size)
        ops = [*setup, *(op for _, actor in scenario.actors(size) for op in actor)]
        jobs = {op.job_id for op in ops if not isinstance(op, Reap)}
        jobs |= {job_id for job_id, _ in scenario.initial.jobs}
        # After every lease the scenario can grant has run out, and no later.
        ends = [op.now + getattr(op, "ttl", 0) for op in ops if hasattr(op, "now")]
        harness = spec.build(store, clock)
        run = cls(
            spec=spec, store=store, clock=clock, harness=harness, jobs=frozenset(jobs),
            probe_time=max(ends, default=0) + 1, files=source_files(harness),
        )  # fmt: skip
        try:
            if scenario.initial.jobs:
                drive(spec.seed(run.harness, scenario.initial))
            run.log = drive(actor_coroutine(run.harness, setup, None, tick, run.caller())())
        except CoordinatorMisuse:
            raise
        except Exception as error:
            # Set-up is sequential: nothing raced, so this is no schedule's finding.
            raise CoordinatorMisuse(
                f"during the set-up of scenario {scenario.name}, "
                f"{who_raised(error, run.files)}; a coordinator must answer sequential calls"
            ) from None
        run._check_setup(scenario)
        return run

    def _check_setup(self, scenario: Scenario) -> None:
        state = scenario.initial
        for op, answer, _, _ in self.log:
            state, want = apply(state, op)
            if not isinstance(answer, Unknown) and strict_match(want, observe(answer)):
                continue
            raise SetupFinding(
                f"set-up of scenario {scenario.name}: {describe_op(op)} answered "
                f"{describe_result(answer)}, but made alone it must answer "
                f"{describe_result(want)} (the reference model); the coordinator "
                f"{self.spec.name} cannot reach the state the scenario starts from"
            )

    def actor(self) -> tuple[Any, Caller]:
        """A coordinator of its own for one actor, and how the actor calls it."""
        coord = self.spec.build(self.store, self.clock)
        return coord, self.caller(coord)

    def caller(self, coord: Any = None) -> Caller:
        coord = self.harness if coord is None else coord
        jobs = self.jobs

        async def call(op: FleetOp) -> Any:
            self.clock.reached(getattr(op, "now", 0))
            answer = await checked_answer(op, perform(coord, op))
            if isinstance(op, Reap) and (set(answer) - jobs or len(set(answer)) < len(answer)):
                raise BadAnswer(
                    f"reap_expired returned {list(answer)!r}: ids of jobs it does not know, or "
                    "one twice; it must answer the ids of the jobs it requeued, each once"
                )
            return answer

        return call

    def finish(self, tick: Tick) -> ActorLog:
        """Set-up and probes: the calls the harness made itself, in order."""
        probes = [
            Probe(job_id=job_id, worker_id=PROBE_WORKER, now=self.probe_time, ttl=1)
            for job_id in sorted(self.jobs)
        ]
        return [
            *self.log,
            *drive(actor_coroutine(self.harness, probes, None, tick, self.caller())()),
        ]
