"""The conformance checks, one function per check: each takes a factory of fresh (validated)
stores and returns its evidence, or raises an ``AssertionError`` saying what went wrong."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import trio

from models import CasRegisterModel
from models import RegCas
from models import RegCasResult
from models import RegGet
from models import RegPut
from models import RegValue
from models import RegWritten
from stores import Conflict
from stores import Doc
from stores import DocumentExists
from stores import DocumentNotFound
from stores import Expected
from stores import NotFound
from stores import Store
from stores import StoreMisuse
from stores import Updated

from ..backends import FaultyStore
from ..check import HistoryRecorder
from ..check import Operation
from ..check import check_operations
from ..explore import BatchClock
from ..explore import CountingStore
from ..explore import ScheduleFinding
from ..explore import explore
from ..explore import scenario_names
from ..runtime import ActorError
from ..runtime import drive
from ..runtime import run_actors
from ..runtime.schedulers import RandomScheduler
from ._factory import StoreFactory

__all__ = [
    "Passed",
    "check_atomicity",
    "check_exploration",
    "check_faults",
    "check_fleet",
    "check_linearizability",
    "check_sequential",
]


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


@attrs.frozen(kw_only=True)
class Passed:
    """What a check that passed saw: a sentence, and the schedules it explored (if any)."""

    evidence: str
    schedules: int | None = None


def check_sequential(make: StoreFactory) -> Passed:
    run = drive
    count = 0

    def fresh() -> Store:
        return make()

    # 1. create, get, duplicate create
    s = fresh()
    doc = run(s.create("a", "p", {"x": 1}))
    _expect(dict(doc.body) == {"x": 1}, f"create returned body {dict(doc.body)}, wrote {{'x': 1}}")
    _expect(run(s.get("a", "p")) == doc, "get after create did not return the created Doc")
    _expect(run(s.get("a", "other")) is None, "get in another partition found the document")
    _expect(run(s.get("zz", "p")) is None, "get of a missing id did not return None")
    try:
        run(s.create("a", "p", {"x": 2}))
        raise AssertionError("a second create of the same id did not raise DocumentExists")
    except DocumentExists:
        pass
    _expect(dict(run(s.get("a", "p")).body) == {"x": 1}, "a second create overwrote the document")
    count += 7
    # 2. update_if_match on a match writes and bumps both tokens
    result = run(s.update_if_match("a", "p", Expected(etag=doc.etag, rev=doc.rev), {"x": 3}))
    _expect(isinstance(result, Updated), f"update_if_match with current tokens gave {result!r}")
    assert isinstance(result, Updated)
    _expect(dict(result.doc.body) == {"x": 3}, f"patched body is {dict(result.doc.body)}")
    _expect(result.doc.rev > doc.rev, "a write did not increase rev")
    _expect(result.doc.etag != doc.etag, "a write did not change the etag")
    now = run(s.get("a", "p"))
    _expect(now == result.doc, f"get after update returned {now!r}, not the written Doc")
    count += 5
    # 3. stale tokens: conflict, nothing written -- rev only, etag only, both
    for name, expected in (
        ("rev", Expected(rev=doc.rev)),
        ("etag", Expected(etag=doc.etag)),
        ("both", Expected(etag=doc.etag, rev=doc.rev)),
        ("mixed", Expected(etag=now.etag, rev=doc.rev)),
    ):
        stale = run(s.update_if_match("a", "p", expected, {"x": 99}))
        _expect(
            isinstance(stale, Conflict),
            f"update_if_match with a stale {name} token gave {stale!r}, expected Conflict",
        )
        _expect(run(s.get("a", "p")) == now, f"a stale {name} update_if_match wrote anyway")
        count += 2
    for name in ("rev", "etag"):
        expected = Expected(rev=now.rev) if name == "rev" else Expected(etag=now.etag)
        single = run(s.update_if_match("a", "p", expected, {"y": name}))
        _expect(isinstance(single, Updated), f"{name}-only match gave {single!r}, expected Updated")
        now = run(s.get("a", "p"))
        count += 2
    # 4. not found
    missing = run(s.update_if_match("nope", "p", Expected(rev=1), {"x": 1}))
    _expect(isinstance(missing, NotFound), f"update_if_match of a missing id gave {missing!r}")
    _expect(run(s.get("nope", "p")) is None, "update_if_match of a missing id created it")
    try:
        run(s.replace("nope", "p", {"x": 1}))
        raise AssertionError("replace of a missing id did not raise DocumentNotFound")
    except DocumentNotFound:
        pass
    count += 3
    # 5. no ABA across delete and re-create
    before = run(s.get("a", "p"))
    _expect(run(s.delete("a", "p")) is True, "delete of an existing document did not return True")
    _expect(run(s.delete("a", "p")) is False, "delete of a missing document did not return False")
    again = run(s.create("a", "p", {"x": 1}))
    _expect(again.rev > before.rev, f"rev restarted after delete: {before.rev} then {again.rev}")
    _expect(again.etag != before.etag, "etag reused after delete and re-create")
    for stale_expected in (Expected(rev=before.rev), Expected(etag=before.etag)):
        aba = run(s.update_if_match("a", "p", stale_expected, {"x": 5}))
        _expect(isinstance(aba, Conflict), f"a pre-delete token matched after re-create: {aba!r}")
    count += 6
    # 6. replace bumps tokens; listing
    replaced = run(s.replace("a", "p", {"z": 1}))
    _expect(dict(replaced.body) == {"z": 1}, "replace did not replace the whole body")
    _expect(replaced.rev > again.rev, "replace did not increase rev")
    for id in ("c", "b"):
        run(s.create(id, "p", {}))
    run(s.create("q", "other", {}))
    ids = [d.id for d in run(s.list_partition("p"))]
    _expect(ids == ["a", "b", "c"], f"list_partition gave {ids}, expected ['a', 'b', 'c']")
    count += 6
    # 7. misuse is refused precisely
    for bad_call in (
        lambda: s.update_if_match("a", "p", Expected(rev=1), None),  # type: ignore[arg-type]
        lambda: s.get("", "p"),
    ):
        try:
            run(bad_call())
            raise AssertionError("a call with a bad argument was accepted")
        except StoreMisuse:
            pass
    count += 2
    return Passed(evidence=f"{count} assertions over 1 store")


def check_atomicity(make: StoreFactory, trials: int = 5, racers: int = 12) -> Passed:
    wins: list[int] = []
    for trial in range(trials):
        store = make()
        doc = drive(store.create("race", "p", {"n": 0}))

        async def main(store: Store = store, doc: Doc = doc) -> int:
            read_all = trio.Event()
            reads = 0
            won = 0

            async def racer(i: int) -> None:
                nonlocal reads, won
                seen = await store.get("race", "p")
                assert seen is not None
                reads += 1
                if reads == racers:
                    read_all.set()
                await read_all.wait()
                result = await store.update_if_match(
                    "race", "p", Expected(etag=seen.etag, rev=seen.rev), {"n": i}
                )
                won += result.ok

            async with trio.open_nursery() as nursery:
                for i in range(racers):
                    nursery.start_soon(racer, i)
            return won

        won = trio.run(main)
        wins.append(won)
        _expect(
            won == 1,
            f"trial {trial}: {won} of {racers} concurrent update_if_match calls with the same "
            "token succeeded; exactly one may (the compare-and-set is not atomic)",
        )
        del doc
    return Passed(evidence=f"{trials} trials x {racers} racers: exactly 1 winner each")


def check_exploration(
    strategy: str, make: StoreFactory, seed: int, budget: int, name: str
) -> Passed:
    result = explore(
        "claim-race",
        name,
        strategy,
        seed=seed,
        budget=budget,
        factory=lambda wrap: wrap(make()),
    )
    if result.counterexample is not None:
        raise ScheduleFinding(result.counterexample)
    complete = " (complete)" if result.complete else ""
    return Passed(
        evidence=f"{result.schedules} schedules{complete}, no violation",
        schedules=result.schedules,
    )


def _register_history(make: StoreFactory, seed: int) -> list[Operation[Any, Any]]:
    """One random schedule of 4 actors doing get-then-cas twice on two documents."""
    clock = BatchClock()
    store = CountingStore(make(), clock)
    recorder = HistoryRecorder()
    keys = ("k0", "k1")
    for key in keys:
        h = recorder.invoke("setup", RegPut(key=key, value=0), time=clock.invoke_time())
        doc = drive(store.create(key, "p", {"v": 0}))
        recorder.ok(h, RegWritten(version=doc.rev), time=clock.return_time())

    def actor(name: str, key: str, value: int) -> Callable[[], Any]:
        async def run() -> None:
            for round_ in range(2):
                h = recorder.invoke(name, RegGet(key=key), time=clock.invoke_time())
                seen = await store.get(key, "p")
                assert seen is not None
                got = RegValue(value=seen.body.get("v"), version=seen.rev)
                recorder.ok(h, got, time=clock.return_time())
                new = value * 10 + round_
                cas = RegCas(key=key, expected_version=seen.rev, value=new)
                h = recorder.invoke(name, cas, time=clock.invoke_time())
                result = await store.update_if_match(key, "p", Expected(rev=seen.rev), {"v": new})
                out = (
                    RegCasResult(ok=True, version=result.doc.rev)
                    if isinstance(result, Updated)
                    else RegCasResult(ok=False)
                )
                recorder.ok(h, out, time=clock.return_time())

        return run

    actors = [actor(f"a{i}", keys[i % 2], i + 1) for i in range(4)]
    execution = run_actors(actors, RandomScheduler(seed))
    for r in execution.results:
        if isinstance(r, ActorError):
            raise r.error
    return recorder.operations()


def check_linearizability(make: StoreFactory, seed: int, schedules: int) -> Passed:
    total = 0
    for n in range(schedules):
        ops = _register_history(make, seed + n)
        total += len(ops)
        check = check_operations(CasRegisterModel(), ops, timeout=10.0)
        if not check.is_linearizable:
            raise AssertionError(
                f"history {n} (seed {seed + n}) is {check.verdict}: {check.explanation}"
            )
    return Passed(
        evidence=f"{schedules} histories, {total} operations, all linearizable",
        schedules=schedules,
    )


def check_fleet(make: StoreFactory, seed: int, budget: int, name: str) -> Passed:
    explored = 0
    for scenario in scenario_names():
        result = explore(
            scenario, name, "random", seed=seed, budget=budget, factory=lambda wrap: wrap(make())
        )
        if result.counterexample is not None:
            raise ScheduleFinding(result.counterexample)
        explored += result.schedules
    return Passed(
        evidence=f"{explored} schedules over {len(scenario_names())} scenarios, no violation",
        schedules=explored,
    )


def check_faults(make: StoreFactory, seed: int, budget: int, name: str) -> Passed:
    result = explore(
        "claim-race",
        name,
        "random",
        seed=seed,
        budget=budget,
        factory=lambda wrap: FaultyStore(wrap(make())),
    )
    if result.counterexample is not None:
        raise ScheduleFinding(result.counterexample)
    return Passed(
        evidence=f"{result.schedules} schedules with injected faults, no violation",
        schedules=result.schedules,
    )
