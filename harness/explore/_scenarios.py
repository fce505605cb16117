"""Scenarios shipped with the harness, and how their actors run.

A scenario is data: set-up operations run sequentially, then a few actors, each a short
sequence of fleet operations (``models`` op values) run concurrently under the scheduler.  An
operation with ``epoch=WON`` means "the epoch this actor won for that job" and is skipped when
the actor won nothing.  Because scenarios are made of model operations, their check comes from
the reference model (``_verdict``): each actor logs its calls as a history, which must be
linearizable under ``models.FleetLinearModel``.
"""

from __future__ import annotations

import base64
import itertools
import json
import zlib
from collections.abc import Callable
from collections.abc import Coroutine
from collections.abc import Hashable
from collections.abc import Sequence
from typing import Any
from typing import cast

import attrs

from fleet import FleetCoordinator
from fleet import FleetResult
from models import Claim
from models import Complete
from models import Enqueue
from models import FleetOp
from models import FleetState
from models import JobState
from models import ModelResult
from models import Reap
from models import Release
from models import Renew
from stores import OutcomeUnknown
from stores import StoreUnavailable

from ..runtime import MAX_ACTORS

__all__ = [
    "WON",
    "ActorLog",
    "Caller",
    "Scenario",
    "Unknown",
    "UnknownScenario",
    "actor_coroutine",
    "adhoc_scenario",
    "describe_op",
    "describe_result",
    "get_scenario",
    "perform",
    "scenario_names",
]

#: Placeholder epoch: "the epoch this actor won for this job".
WON = -1


@attrs.frozen(kw_only=True)
class Unknown:
    """The coordinator call ended in a store error: it may or may not have taken effect."""

    error: str


Observed = FleetResult | tuple[str, ...]
#: One actor's calls: the operation, its answer, and the event numbers of its invoke and its
#: return (one counter per run, shared by every actor, so real-time order is kept).
ActorLog = list[tuple[FleetOp, "Observed | Unknown", int, int]]


class UnknownScenario(LookupError):
    """A scenario name that claimcheck does not know."""


@attrs.frozen(kw_only=True)
class Scenario:
    """The store starts in state ``initial`` (written as documents), ``setup(size)`` runs
    sequentially, then ``actors(size)`` run concurrently.

    ``size`` is the number of actors; every shipped scenario takes any size from its minimum to
    ``MAX_ACTORS`` (what a schedule token can name).
    """

    name: str
    description: str
    default_size: int
    min_size: int
    max_size: int
    setup: Callable[[int], tuple[FleetOp, ...]]
    actors: Callable[[int], list[tuple[str, tuple[FleetOp, ...]]]]
    initial: FleetState = attrs.field(factory=FleetState)


def _fixed(*ops: FleetOp) -> Callable[[int], tuple[FleetOp, ...]]:
    return lambda _size: ops


def _claim_race(size: int) -> list[tuple[str, tuple[FleetOp, ...]]]:
    return [(f"w{i}", (Claim(job_id="j1", worker_id=f"w{i}", now=0, ttl=10),)) for i in range(size)]


def _zombie(size: int) -> list[tuple[str, tuple[FleetOp, ...]]]:
    # A claimed epoch 1 at t=0 (lease until 10).  A is slow: it still thinks it is t=5 when it
    # renews and completes, while the reaper and B act at t=10.  Fencing must stop A.
    return [
        (
            "A",
            (
                Renew(job_id="j1", worker_id="A", epoch=1, now=5, ttl=10),
                Complete(job_id="j1", worker_id="A", epoch=1, now=6),
            ),
        ),
        ("reaper", (Reap(now=10),)),
        *[
            (name, (Claim(job_id="j1", worker_id=name, now=10, ttl=10),))
            for name in _names(size - 2)
        ],
    ]


def _names(count: int) -> list[str]:
    """Claimers other than A: "B" alone, or B0, B1, ... when there are several."""
    return ["B"] if count == 1 else [f"B{i}" for i in range(count)]


def _complete_after_expiry(size: int) -> list[tuple[str, tuple[FleetOp, ...]]]:
    return [
        ("A", (Complete(job_id="j1", worker_id="A", epoch=1, now=9),)),
        *[
            (
                name,
                (
                    Claim(job_id="j1", worker_id=name, now=10, ttl=10),
                    Complete(job_id="j1", worker_id=name, epoch=WON, now=11),
                ),
            )
            for name in _names(size - 1)
        ],
    ]


def _renew_setup(size: int) -> tuple[FleetOp, ...]:
    # Epochs 1 .. size-2 go to stale holders h0, h1, ... (each lease runs out before the next
    # claim); the live holder L takes the next epoch, with a lease until 2 * (size - 2) + 10.
    stale = size - 2
    ops: list[FleetOp] = [Enqueue(job_id="j1")]
    ops += [Claim(job_id="j1", worker_id=f"h{i}", now=2 * i, ttl=1) for i in range(stale)]
    ops.append(Claim(job_id="j1", worker_id="L", now=2 * stale, ttl=10))
    return tuple(ops)


def _renew_contention(size: int) -> list[tuple[str, tuple[FleetOp, ...]]]:
    stale = size - 2
    now = 2 * stale + 9  # one tick before the live lease runs out
    return [
        *[
            (f"h{i}", (Renew(job_id="j1", worker_id=f"h{i}", epoch=i + 1, now=now, ttl=10),))
            for i in range(stale)
        ],
        ("L", (Renew(job_id="j1", worker_id="L", epoch=stale + 1, now=now, ttl=10),)),
        # A claimer arrives just as the live lease runs out: it races the live renewal.
        ("C", (Claim(job_id="j1", worker_id="C", now=now + 1, ttl=10),)),
    ]


def _stale_incarnation(size: int) -> list[tuple[str, tuple[FleetOp, ...]]]:
    # A held epoch 1 until 5 and took the job again at 6 (epoch 2, until 16): the same worker,
    # two epochs.  Its stale incarnation must be fenced by the epoch, not by the worker's name.
    # Claimers arrive once the live lease is over, released or run out, and race each other.
    return [
        (
            "A@1",
            (
                Renew(job_id="j1", worker_id="A", epoch=1, now=7, ttl=10),
                Complete(job_id="j1", worker_id="A", epoch=1, now=8),
            ),
        ),
        (
            "A@2",
            (
                Renew(job_id="j1", worker_id="A", epoch=2, now=7, ttl=10),
                Release(job_id="j1", worker_id="A", epoch=2, now=9),
            ),
        ),
        *[
            (name, (Claim(job_id="j1", worker_id=name, now=20, ttl=10),))
            for name in _names(size - 2)
        ],
    ]


def _multi_job(size: int) -> list[tuple[str, tuple[FleetOp, ...]]]:
    actors: list[tuple[str, tuple[FleetOp, ...]]] = []
    for i in range(size):
        worker = f"w{i}"
        order = ("j1", "j2") if i % 2 == 0 else ("j2", "j1")
        ops: list[FleetOp] = [Claim(job_id=j, worker_id=worker, now=0, ttl=10) for j in order]
        ops += [Complete(job_id=j, worker_id=worker, epoch=WON, now=1) for j in order]
        actors.append((worker, tuple(ops)))
    return actors


_SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            name="claim-race",
            description="N claimers race for one freshly enqueued job",
            default_size=2,
            min_size=2,
            max_size=MAX_ACTORS,
            setup=_fixed(Enqueue(job_id="j1")),
            actors=_claim_race,
        ),
        Scenario(
            name="zombie-lease",
            description="a worker whose lease expired renews and completes while a reaper "
            "requeues the job and another worker claims it",
            default_size=3,
            min_size=3,
            max_size=MAX_ACTORS,
            setup=_fixed(Enqueue(job_id="j1"), Claim(job_id="j1", worker_id="A", now=0, ttl=10)),
            actors=_zombie,
        ),
        Scenario(
            name="complete-after-expiry",
            description="a worker completes just as its lease expires and another claims",
            default_size=2,
            min_size=2,
            max_size=MAX_ACTORS,
            setup=_fixed(Enqueue(job_id="j1"), Claim(job_id="j1", worker_id="A", now=0, ttl=10)),
            actors=_complete_after_expiry,
        ),
        Scenario(
            name="multi-job",
            description="N workers claim and complete two jobs in opposite orders",
            default_size=3,
            min_size=2,
            max_size=MAX_ACTORS,
            setup=_fixed(Enqueue(job_id="j1"), Enqueue(job_id="j2")),
            actors=_multi_job,
        ),
        Scenario(
            name="stale-incarnation",
            description="a worker that took a job again renews and completes with its old "
            "epoch while its new incarnation renews and releases; then claimers race",
            default_size=4,
            min_size=3,
            max_size=MAX_ACTORS,
            setup=_fixed(
                Enqueue(job_id="j1"),
                Claim(job_id="j1", worker_id="A", now=0, ttl=5),
                Claim(job_id="j1", worker_id="A", now=6, ttl=10),
            ),
            actors=_stale_incarnation,
        ),
        Scenario(
            name="renew-contention",
            description="holders of stale epochs renew while the live holder renews and a "
            "claimer arrives as the live lease runs out",
            default_size=4,
            min_size=3,
            max_size=MAX_ACTORS,
            setup=_renew_setup,
            actors=_renew_contention,
        ),
    )
}


def symmetry_classes(scenario: Scenario, size: int) -> tuple[Hashable, ...]:
    """A class per actor: actors in one class run the same program up to their own names.

    Claimers of one job are the common case.  An actor named by the initial state or the
    set-up (a lease holder) is in a class of its own, since swapping its name would change
    the state; so is an actor whose operations mention another actor.
    """
    named = scenario.actors(size)
    names = {name for name, _ in named}
    mentioned = {getattr(op, "worker_id", None) for op in scenario.setup(size)}
    for _, job in scenario.initial.jobs:
        mentioned |= {job.worker, *job.runs}
    classes: list[Hashable] = []
    for index, (name, ops) in enumerate(named):
        program = []
        alone = name in mentioned
        for op in ops:
            fields = attrs.asdict(op)
            if fields.pop("worker_id", name) != name or set(fields.values()) & names:
                alone = True
            program.append((type(op).__name__, tuple(sorted(fields.items()))))
        classes.append(("alone", index) if alone else tuple(program))
    return tuple(classes)


def scenario_names() -> list[str]:
    return list(_SCENARIOS)


_OPS: dict[str, type[Any]] = {
    cls.__name__: cls for cls in (Enqueue, Claim, Renew, Complete, Release, Reap)
}


def _encode_ops(ops: Sequence[FleetOp]) -> list[list[Any]]:
    return [[type(op).__name__, attrs.asdict(op)] for op in ops]


def adhoc_scenario(
    initial: FleetState,
    actors: Sequence[tuple[str, Sequence[FleetOp]]],
    setup: Sequence[FleetOp] = (),
) -> Scenario:
    """A one-off scenario (a Hypothesis batch, a shrunk finding) whose name encodes it
    completely, so that its schedule token replays it with ``claimcheck replay`` like a
    shipped scenario.  ``setup`` runs sequentially before the actors, as a shipped scenario's
    does (a shrunk finding keeps its scenario's set-up)."""
    payload: dict[str, Any] = {
        "initial": [[job_id, attrs.asdict(job)] for job_id, job in initial.jobs],
        "actors": [[name, _encode_ops(ops)] for name, ops in actors],
    }
    if setup:
        payload["setup"] = _encode_ops(setup)
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    name = "x-" + base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")
    return _adhoc(name, initial, [(n, tuple(ops)) for n, ops in actors], tuple(setup))


def _adhoc(
    name: str,
    initial: FleetState,
    actors: list[tuple[str, tuple[FleetOp, ...]]],
    setup: tuple[FleetOp, ...] = (),
) -> Scenario:
    return Scenario(
        name=name,
        description="an ad-hoc workload",
        default_size=len(actors),
        min_size=len(actors),
        max_size=len(actors),
        setup=_fixed(*setup),
        actors=lambda _size: list(actors),
        initial=initial,
    )


#: An ad-hoc workload is a handful of operations: a token that inflates past this is hostile.
_MAX_ADHOC_BYTES = 1 << 20
_STATUSES = ("queued", "leased", "done")


class _BadWorkload(ValueError):
    """What is wrong with a decoded ad-hoc workload, in words."""


def _int(where: str, value: object, *, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if type(value) is not int or value < 0:
        raise _BadWorkload(f"{where} is {value!r}, expected a whole number >= 0")
    return value


def _str(where: str, value: object, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise _BadWorkload(f"{where} is {value!r}, expected a non-empty string")
    return value


def _job(job_id: object, fields: Any) -> tuple[str, JobState]:
    jid = cast(str, _str("a job id", job_id))
    status = fields["status"]
    if status not in _STATUSES:
        raise _BadWorkload(f"job {jid!r} has status {status!r}, expected one of {_STATUSES}")
    runs = fields["runs"]
    if not isinstance(runs, list) or not all(isinstance(r, str) for r in runs):
        raise _BadWorkload(f"job {jid!r} has runs {runs!r}, expected a list of worker names")
    job = JobState(
        status=status,
        epoch=cast(int, _int(f"job {jid!r} epoch", fields["epoch"])),
        worker=_str(f"job {jid!r} worker", fields["worker"], optional=True),
        expires_at=_int(f"job {jid!r} expires_at", fields["expires_at"], optional=True),
        completed_epoch=_int(
            f"job {jid!r} completed_epoch", fields["completed_epoch"], optional=True
        ),
        runs=tuple(runs),
    )
    if set(fields) != {"status", "epoch", "worker", "expires_at", "completed_epoch", "runs"}:
        raise _BadWorkload(f"job {jid!r} has fields {sorted(fields)}")
    return jid, job


def _op(kind: object, fields: Any) -> FleetOp:
    if not isinstance(kind, str) or kind not in _OPS:
        raise _BadWorkload(f"operation {kind!r} is not one of {sorted(_OPS)}")
    if not isinstance(fields, dict):
        raise _BadWorkload(f"{kind} has fields {fields!r}, expected an object")
    for key, value in fields.items():
        if key in ("job_id", "worker_id"):
            _str(f"{kind}.{key}", value)
        elif key == "epoch" and value == WON:
            continue
        else:
            _int(f"{kind}.{key}", value)
    return cast(FleetOp, _OPS[kind](**fields))


def _decode_adhoc(name: str) -> Scenario:
    try:
        text = name[2:]
        inflater = zlib.decompressobj()
        raw = inflater.decompress(
            base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), _MAX_ADHOC_BYTES
        )
        if inflater.unconsumed_tail:
            raise _BadWorkload(f"the workload inflates past {_MAX_ADHOC_BYTES:,} bytes")
        payload = json.loads(raw)
        jobs = tuple(sorted(_job(job_id, fields) for job_id, fields in payload["initial"]))
        actors = [
            (cast(str, _str("an actor name", actor)), tuple(_op(k, f) for k, f in ops))
            for actor, ops in payload["actors"]
        ]
        if not actors or len({a for a, _ in actors}) != len(actors):
            raise _BadWorkload("the actors must be one or more, with distinct names")
        setup = tuple(_op(k, f) for k, f in payload.get("setup", []))
    except _BadWorkload as error:
        raise UnknownScenario(
            f"the ad-hoc scenario in this token is not a valid workload: {error}; copy the "
            "whole token exactly as it was printed."
        ) from None
    except (ValueError, KeyError, TypeError, AttributeError, zlib.error, RecursionError) as error:
        raise UnknownScenario(
            f"the ad-hoc scenario in this token cannot be decoded ({type(error).__name__}); "
            "copy the whole token exactly as it was printed."
        ) from None
    return _adhoc(name, FleetState(jobs=jobs), actors, setup)


def get_scenario(name: str) -> Scenario:
    if name.startswith("x-"):
        return _decode_adhoc(name)
    try:
        return _SCENARIOS[name]
    except KeyError:
        raise UnknownScenario(
            f"unknown scenario {name!r}; choose one of: {', '.join(_SCENARIOS)} "
            "(`claimcheck scenarios` describes them)."
        ) from None


def perform(coord: FleetCoordinator, op: FleetOp) -> Coroutine[Any, Any, Observed]:
    """The coordinator call for one model operation (returned, not awaited: one coroutine
    layer fewer on the hot path of every explored schedule)."""
    if isinstance(op, Claim):
        return coord.try_claim_job(op.job_id, op.worker_id, now=op.now, ttl=op.ttl)
    if isinstance(op, Renew):
        return coord.renew_lease(op.job_id, op.worker_id, op.epoch, now=op.now, ttl=op.ttl)
    if isinstance(op, Complete):
        return coord.complete_job(op.job_id, op.worker_id, op.epoch, now=op.now)
    if isinstance(op, Release):
        return coord.release_job(op.job_id, op.worker_id, op.epoch, now=op.now)
    if isinstance(op, Reap):
        # fleet.Coordinator answers a tuple; a user's may answer a list (``checked_answer``).
        return cast(Coroutine[Any, Any, tuple[str, ...]], coord.reap_expired(now=op.now))
    return coord.enqueue_job(op.job_id)


#: Called at the start (result None) and end of every operation an actor performs.
OpHook = Callable[[FleetOp, "Observed | Unknown | None"], None]


#: How a user's coordinator is called (``_coordinators``): the call, its answer checked.
Caller = Callable[[FleetOp], Coroutine[Any, Any, Observed]]


def actor_coroutine(
    coord: FleetCoordinator,
    ops: Sequence[FleetOp],
    hook: OpHook | None = None,
    tick: Callable[[], int] | None = None,
    call: Caller | None = None,
) -> Callable[[], Coroutine[Any, Any, ActorLog]]:
    """The actor that performs ``ops`` in order and logs each call with its answer.

    ``tick`` numbers invoke and return events; actors of one run must share it (a fresh
    ``itertools.count().__next__`` per run) so that the log is a history.  ``call`` replaces
    ``perform(coord, op)`` (a user's coordinator: its clock moved, its answer checked).
    """
    clock = tick if tick is not None else itertools.count().__next__

    async def actor() -> ActorLog:
        log: ActorLog = []
        won: dict[str, int] = {}
        for spec in ops:
            op = spec
            if isinstance(spec, Renew | Complete | Release) and spec.epoch == WON:
                epoch = won.get(spec.job_id)
                if epoch is None:
                    continue
                op = cast(FleetOp, attrs.evolve(cast(Any, spec), epoch=epoch))
            if hook is not None:
                hook(op, None)
            invoked = clock()
            try:
                result: Observed | Unknown = await (
                    perform(coord, op) if call is None else call(op)
                )
            except (OutcomeUnknown, StoreUnavailable) as error:
                result = Unknown(error=f"{type(error).__name__}: {error}")
            returned = clock()
            if hook is not None:
                hook(op, result)
            if isinstance(result, FleetResult) and result.kind == "claimed":
                assert result.epoch is not None
                won[result.job_id] = result.epoch
            log.append((op, result, invoked, returned))
        return log

    return actor


def describe_op(op: FleetOp) -> str:
    if isinstance(op, Claim):
        return f"{op.worker_id} claim({op.job_id}, now={op.now})"
    if isinstance(op, Renew):
        return f"{op.worker_id} renew({op.job_id}, epoch={op.epoch}, now={op.now})"
    if isinstance(op, Complete):
        return f"{op.worker_id} complete({op.job_id}, epoch={op.epoch}, now={op.now})"
    if isinstance(op, Release):
        return f"{op.worker_id} release({op.job_id}, epoch={op.epoch}, now={op.now})"
    if isinstance(op, Reap):
        return f"reap(now={op.now})"
    return f"enqueue({op.job_id})"


def describe_result(result: Observed | Unknown | ModelResult) -> str:
    if isinstance(result, Unknown):
        return f"unknown outcome ({result.error})"
    if isinstance(result, tuple):
        return f"reaped {list(result)}"
    if isinstance(result, ModelResult) and result.kind == "reaped":
        return f"reaped {list(result.reaped)}"
    text = result.kind
    if result.kind in ("claimed", "renewed"):
        text += f" epoch {result.epoch} until {result.expires_at}"
    elif result.kind in ("completed", "released"):
        text += f" epoch {result.epoch}"
    elif isinstance(result, FleetResult) and result.detail:
        text += f" ({result.detail})"
    return text
