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

import inspect
from collections.abc import Coroutine
from collections.abc import Mapping
from typing import Any

import attrs

from fleet import OPERATIONS
from fleet import Coordinator
from fleet import CoordinatorFactory
from fleet import FleetResult
from models import FleetOp
from models import FleetState
from models import Reap
from stores import MemoryStore
from stores import Store

from .._findings import BadAnswer
from .._loading import SpecError
from .._loading import resolve

__all__ = [
    "PROBE_TIME",
    "PROBE_WORKER",
    "CoordinatorLike",
    "CoordinatorMisuse",
    "CoordinatorSpec",
    "ScenarioClock",
    "as_spec",
    "checked_answer",
    "load_coordinator",
]

#: The worker name of the final-state probes (a name no scenario uses).
PROBE_WORKER = "claimcheck-probe"
#: When the probes run: after every lease any scenario grants has run out.
PROBE_TIME = 1 << 40

_KINDS = frozenset(
    {"enqueued", "exists", "claimed", "conflict", "not_found", "not_claimable", "renewed",
     "completed", "released", "lost"}
)  # fmt: skip


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
        label = self.name or getattr(self.factory, "__qualname__", repr(self.factory))
        try:
            made = self.factory(store, clock)
        except Exception as error:
            raise CoordinatorMisuse(
                f"the coordinator factory {label} raised {type(error).__name__}: {error}; it "
                "must return a coordinator for the store and clock it is given"
            ) from None
        missing = [name for name in OPERATIONS if not callable(getattr(made, name, None))]
        if missing:
            raise CoordinatorMisuse(
                f"the coordinator factory {label} returned {type(made).__name__}, which has no "
                f"{', '.join(missing)}; a coordinator needs the operations of "
                "fleet.FleetCoordinator"
            )
        return made

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
        loaded.build(MemoryStore(), ScenarioClock())
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
    name = getattr(coordinator, "__qualname__", None)
    return CoordinatorSpec(factory=coordinator, name=name)


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
