"""Store conformance: point the suite at a backend, get a verdict with evidence.

``run_store_conformance(make_store)`` is a plain function (no pytest) that takes a factory of
fresh, empty stores and runs, in order:

1. ``sequential contract``: every documented behaviour of the ``Store`` protocol, one call
   at a time (tokens bump on write, stale tokens conflict and write nothing, not-found, no
   ABA across delete and re-create, create never overwrites, listing, misuse errors);
2. ``atomicity (threads)``: 12 trio tasks read one document, then race ``update_if_match``
   with the same token, in worker threads for I/O backends: exactly one may win;
3. ``random`` / ``pct`` / ``exhaustive``: controlled schedules of the claim race;
4. ``linearizability``: concurrent get / compare-and-set histories under random schedules,
   checked against the compare-and-set register model;
5. ``fleet``: every shipped scenario with the coordinator, against the reference model;
6. ``faults`` (when ``faults=True``): the claim race behind the scheduler-driven fault layer.

Every store the suite touches is wrapped in a validator: a result of the wrong type or shape
(a ``Doc`` for another id, a rev that is not an int, ...) is a non-conformance with the
offending value as evidence.  An exception that is not part of the contract is reported with
its type and message, never as a crash of the harness.  Each check runs in a watchdog thread:
an operation that takes longer than ``timeout`` seconds is reported as a hang, naming the
operation (the stuck thread is abandoned; it is a daemon).

The result is a :class:`ConformanceResult`; with ``raise_on_failure=True`` (the default) a
failing result raises :class:`NonConformance`, an ``AssertionError`` carrying the result and
the reproducer of the first failure.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import trio

from models import CasRegisterModel
from models._register import RegCas, RegCasResult, RegGet, RegPut, RegValue, RegWritten
from stores import (
    Conflict,
    Doc,
    DocumentExists,
    DocumentNotFound,
    Expected,
    NotFound,
    Store,
    StoreMisuse,
    StoreUnavailable,
    Updated,
    UpdateResult,
)

from ..backends import FaultyStore
from ..check import HistoryRecorder, Operation, check_operations
from ..explore import Counterexample, explore, scenario_names
from ..runtime import ActorError, drive, run_actors
from ..runtime.schedulers import RandomScheduler

__all__ = [
    "CHECKS",
    "ConformanceCheck",
    "ConformanceResult",
    "FactoryError",
    "MalformedResult",
    "NonConformance",
    "get_cached_result",
    "load_factory",
    "run_store_conformance",
]

StoreFactory = Callable[[], Store]

CHECKS = (
    "sequential contract",
    "atomicity (threads)",
    "random schedules",
    "pct schedules",
    "exhaustive schedules",
    "linearizability",
    "fleet scenarios",
    "faults",
)


class FactoryError(Exception):
    """The factory cannot be imported or called (exit 2 from the CLI)."""


class MalformedResult(AssertionError):
    """A store operation returned a value the contract does not allow."""


class _Hang(AssertionError):
    pass


@attrs.frozen(kw_only=True)
class ConformanceCheck:
    """One check's verdict; ``evidence`` says what was seen, ``counterexample`` how to replay."""

    name: str
    passed: bool
    evidence: str
    seconds: float
    counterexample: Counterexample | None = None
    infrastructure: bool = False


@attrs.frozen(kw_only=True)
class ConformanceResult:
    backend: str
    checks: tuple[ConformanceCheck, ...]

    @property
    def conforms(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> tuple[ConformanceCheck, ...]:
        return tuple(c for c in self.checks if not c.passed)

    @property
    def infrastructure_failed(self) -> bool:
        return any(c.infrastructure for c in self.failures)

    def render(self) -> str:
        width = max(len(c.name) for c in self.checks)
        lines = [f"conformance of {self.backend}:"]
        for c in self.checks:
            verdict = "pass" if c.passed else ("INFRA" if c.infrastructure else "FAIL")
            lines.append(f"  {c.name:<{width}}  {verdict:<5}  {c.evidence}")
        for c in self.failures:
            if c.counterexample is not None:
                lines.append("")
                lines.append(c.counterexample.render())
        verdict = "conforms" if self.conforms else f"does NOT conform ({len(self.failures)} failed)"
        lines.append(f"{self.backend} {verdict}")
        return "\n".join(lines)


class NonConformance(AssertionError):
    """The backend failed at least one check; carries the result and its reproducers."""

    def __init__(self, result: ConformanceResult) -> None:
        super().__init__(result.render())
        self.result = result


# -- the validating wrapper -----------------------------------------------------------------


def _bad(op: str, what: str, value: object) -> MalformedResult:
    return MalformedResult(f"{op} returned {what}: {value!r} ({type(value).__name__})")


class _Watch:
    """What operation is in flight, and since when (for the hang watchdog)."""

    def __init__(self) -> None:
        self.current: tuple[str, float] | None = None


class ValidatingStore:
    """Delegates to ``inner`` and checks every result against the contract's types."""

    def __init__(self, inner: Store, watch: _Watch | None = None) -> None:
        self.inner = inner
        self.watch = watch

    def _doc(self, op: str, doc: object, id: str, partition_key: str) -> Doc:
        if not isinstance(doc, Doc):
            raise _bad(op, "something that is not a stores.Doc", doc)
        if doc.id != id or doc.partition_key != partition_key:
            raise _bad(op, f"a Doc for another document (wanted {partition_key}/{id})", doc)
        if not isinstance(doc.body, Mapping):
            raise _bad(op, "a Doc whose body is not a mapping", doc.body)
        if not isinstance(doc.etag, str) or not doc.etag:
            raise _bad(op, "a Doc whose etag is not a non-empty str", doc.etag)
        if isinstance(doc.rev, bool) or not isinstance(doc.rev, int) or doc.rev < 1:
            raise _bad(op, "a Doc whose rev is not a positive int", doc.rev)
        return doc

    async def _call(self, op: str, coro: Any) -> Any:
        if self.watch is not None:
            self.watch.current = (op, time.monotonic())
        try:
            return await coro
        finally:
            if self.watch is not None:
                self.watch.current = None

    async def create(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        doc = await self._call(f"create({id})", self.inner.create(id, partition_key, body))
        return self._doc(f"create({id})", doc, id, partition_key)

    async def get(self, id: str, partition_key: str) -> Doc | None:
        doc = await self._call(f"get({id})", self.inner.get(id, partition_key))
        return None if doc is None else self._doc(f"get({id})", doc, id, partition_key)

    async def replace(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        doc = await self._call(f"replace({id})", self.inner.replace(id, partition_key, body))
        return self._doc(f"replace({id})", doc, id, partition_key)

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        op = f"update_if_match({id})"
        result = await self._call(
            op, self.inner.update_if_match(id, partition_key, expected, patch)
        )
        if isinstance(result, Updated):
            self._doc(op, result.doc, id, partition_key)
        elif not isinstance(result, Conflict | NotFound):
            raise _bad(op, "something that is not Updated, Conflict or NotFound", result)
        return result  # type: ignore[no-any-return]

    async def delete(self, id: str, partition_key: str) -> bool:
        done = await self._call(f"delete({id})", self.inner.delete(id, partition_key))
        if not isinstance(done, bool):
            raise _bad(f"delete({id})", "something that is not a bool", done)
        return done

    async def list_partition(self, partition_key: str) -> list[Doc]:
        op = f"list_partition({partition_key})"
        docs = await self._call(op, self.inner.list_partition(partition_key))
        if not isinstance(docs, list):
            raise _bad(op, "something that is not a list", docs)
        for doc in docs:
            if not isinstance(doc, Doc) or doc.partition_key != partition_key:
                raise _bad(op, "a list holding something other than this partition's Docs", doc)
        return docs


# -- running checks with a watchdog ---------------------------------------------------------


def _watched(fn: Callable[[], str], watch: _Watch, timeout: float) -> str:
    """Run ``fn`` in a daemon thread; raise ``_Hang`` if one operation exceeds ``timeout``."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as error:  # handed to the caller's thread below
            box["error"] = error

    thread = threading.Thread(target=target, daemon=True, name="claimcheck-conformance")
    thread.start()
    while thread.is_alive():
        thread.join(0.05)
        current = watch.current
        if current is not None and time.monotonic() - current[1] > timeout:
            raise _Hang(
                f"{current[0]} did not return within {timeout:g} s (hung); the check was "
                "abandoned. A store must answer or raise within the per-operation timeout."
            )
    if "error" in box:
        raise box["error"]
    return str(box["value"])


# -- the checks -------------------------------------------------------------------------------


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def _sequential(make: StoreFactory) -> str:
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
    return f"{count} assertions over 1 store"


def _atomicity(make: StoreFactory, trials: int = 5, racers: int = 12) -> str:
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
    return f"{trials} trials x {racers} racers: exactly 1 winner each"


def _explore_check(strategy: str, make: StoreFactory, seed: int, budget: int, name: str) -> str:
    result = explore(
        "claim-race",
        name,
        strategy,
        seed=seed,
        budget=budget,
        factory=lambda wrap: wrap(make()),
    )
    if result.counterexample is not None:
        raise _Finding(result.counterexample)
    complete = " (complete)" if result.complete else ""
    return f"{result.schedules} schedules{complete}, no violation"


class _Finding(AssertionError):
    def __init__(self, counterexample: Counterexample) -> None:
        super().__init__(counterexample.violations[0])
        self.counterexample = counterexample


def _register_history(make: StoreFactory, seed: int) -> list[Operation[Any, Any]]:
    """One random schedule of 4 actors doing get-then-cas twice on two documents."""
    from ..explore import BatchClock as _Clock
    from ..explore import CountingStore as _CountingStore

    clock = _Clock()
    store = _CountingStore(make(), clock)
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


def _linearizability(make: StoreFactory, seed: int, schedules: int) -> str:
    total = 0
    for n in range(schedules):
        ops = _register_history(make, seed + n)
        total += len(ops)
        check = check_operations(CasRegisterModel(), ops, timeout=10.0)
        if not check.is_linearizable:
            raise AssertionError(
                f"history {n} (seed {seed + n}) is {check.verdict}: {check.explanation}"
            )
    return f"{schedules} histories, {total} operations, all linearizable"


def _fleet(make: StoreFactory, seed: int, budget: int, name: str) -> str:
    explored = 0
    for scenario in scenario_names():
        result = explore(
            scenario, name, "random", seed=seed, budget=budget, factory=lambda wrap: wrap(make())
        )
        if result.counterexample is not None:
            raise _Finding(result.counterexample)
        explored += result.schedules
    return f"{explored} schedules over {len(scenario_names())} scenarios, no violation"


def _faults(make: StoreFactory, seed: int, budget: int, name: str) -> str:
    result = explore(
        "claim-race",
        name,
        "random",
        seed=seed,
        budget=budget,
        factory=lambda wrap: FaultyStore(wrap(make())),
    )
    if result.counterexample is not None:
        raise _Finding(result.counterexample)
    return f"{result.schedules} schedules with injected faults, no violation"


def run_store_conformance(
    make_store: StoreFactory,
    *,
    name: str = "custom",
    factory_spec: str | None = None,
    seed: int = 0,
    budget: int = 200,
    faults: bool = False,
    timeout: float = 10.0,
    raise_on_failure: bool = True,
    on_check: Callable[[ConformanceCheck], None] | None = None,
) -> ConformanceResult:
    """Run the conformance suite on stores from ``make_store`` (see the module docstring).

    ``budget`` bounds the schedules of each exploring check; ``timeout`` is the per-operation
    hang limit in seconds.  ``name`` labels the backend in reports and reproducers;
    ``factory_spec`` (``MODULE:FACTORY``) makes printed replay commands runnable.
    """
    if not callable(make_store):
        raise FactoryError(f"make_store must be a callable returning a Store, got {make_store!r}")
    watch = _Watch()

    def make() -> Store:
        try:
            store = make_store()
        except (StoreUnavailable, OSError) as error:
            raise _Infrastructure(f"the factory could not make a store: {error}") from error
        return ValidatingStore(store, watch)

    plan: list[tuple[str, Callable[[], str]]] = [
        ("sequential contract", lambda: _sequential(make)),
        ("atomicity (threads)", lambda: _atomicity(make)),
        ("random schedules", lambda: _explore_check("random", make, seed, budget, name)),
        ("pct schedules", lambda: _explore_check("pct", make, seed, budget, name)),
        ("exhaustive schedules", lambda: _explore_check("exhaustive", make, seed, budget, name)),
        ("linearizability", lambda: _linearizability(make, seed, max(10, budget // 10))),
        ("fleet scenarios", lambda: _fleet(make, seed, max(20, budget // 4), name)),
    ]
    if faults:
        plan.append(("faults", lambda: _faults(make, seed, budget, name)))
    checks: list[ConformanceCheck] = []
    for check_name, fn in plan:
        started = time.monotonic()
        counterexample: Counterexample | None = None
        infrastructure = False
        try:
            evidence = _watched(fn, watch, timeout)
            passed = True
        except _Finding as finding:
            passed, evidence = False, str(finding)
            counterexample = attrs.evolve(finding.counterexample, factory_spec=factory_spec)
        except (_Hang, MalformedResult) as error:
            passed, evidence = False, str(error)
        except _Infrastructure as error:
            passed, evidence, infrastructure = False, str(error), True
        except StoreUnavailable as error:
            passed, evidence, infrastructure = False, f"store unavailable: {error}", True
        except AssertionError as error:
            passed, evidence = False, str(error) or "assertion failed"
        except Exception as error:
            passed = False
            evidence = f"the store raised {type(error).__name__}: {error}"
        finally:
            watch.current = None
        check = ConformanceCheck(
            name=check_name,
            passed=passed,
            evidence=" ".join(evidence.split()),
            seconds=time.monotonic() - started,
            counterexample=counterexample,
            infrastructure=infrastructure,
        )
        checks.append(check)
        if on_check is not None:
            on_check(check)
    result = ConformanceResult(backend=name, checks=tuple(checks))
    if raise_on_failure and not result.conforms:
        raise NonConformance(result)
    return result


class _Infrastructure(Exception):
    pass


_RESULTS: dict[tuple[str, int], ConformanceResult] = {}


def get_cached_result(spec: str, *, seed: int) -> ConformanceResult:
    """The suite's result for ``spec``, run once per process (the pytest plugin's items share
    it, one item per check)."""
    key = (spec, seed)
    if key not in _RESULTS:
        _RESULTS[key] = run_store_conformance(
            load_factory(spec),
            name="custom",
            factory_spec=spec,
            seed=seed,
            raise_on_failure=False,
        )
    return _RESULTS[key]


def load_factory(spec: str) -> StoreFactory:
    """``"package.module:attribute"`` -> the factory it names (a callable returning a Store)."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise FactoryError(
            f"store factory {spec!r} is not MODULE:FACTORY; pass e.g. mypkg.stores:make_store"
        )
    try:
        module = importlib.import_module(module_name)
    except Exception as error:
        raise FactoryError(
            f"cannot import module {module_name!r} for store factory {spec!r}: "
            f"{type(error).__name__}: {error}"
        ) from None
    factory = module
    for part in attr.split("."):
        try:
            factory = getattr(factory, part)
        except AttributeError:
            raise FactoryError(f"module {module_name!r} has no attribute {attr!r}") from None
    if not callable(factory):
        raise FactoryError(f"{spec!r} is not callable; it must return a fresh, empty Store")
    return factory
