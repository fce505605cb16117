"""Unmodified asyncio and trio code under the scheduler (issue 12, the runtime part).

Every point where a task gives the loop back is one decision of the seeded scheduler; I/O
completes before the next decision; sleeps run on virtual time; a state where every task waits
forever is a deadlock finding; blocking the thread, mixing the two loops and code the stepper
cannot place are clear errors.  The example stores are in ``tests/async_stores.py``.
"""

from __future__ import annotations

import asyncio
import math
import socket
import time
from collections.abc import Callable
from collections.abc import Generator
from collections.abc import Iterator
from typing import Any

import pytest
import trio
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from harness import explore
from harness import replay
from harness.runtime import ActorError
from harness.runtime import BlockingActor
from harness.runtime import Deadlocked
from harness.runtime import DeterminismCheck
from harness.runtime import Execution
from harness.runtime import ExhaustiveScheduler
from harness.runtime import HypothesisScheduler
from harness.runtime import IOStalled
from harness.runtime import Limits
from harness.runtime import MixedRuntimes
from harness.runtime import NeedsRuntime
from harness.runtime import PctScheduler
from harness.runtime import RandomScheduler
from harness.runtime import ReplayScheduler
from harness.runtime import Runtime
from harness.runtime import RuntimeMisuse
from harness.runtime import Scheduler
from harness.runtime import drive
from harness.runtime import independent
from harness.runtime import run_actors
from harness.runtime import use_runtime
from stores import Expected
from stores import MemoryStore
from stores import run_io
from tests.async_stores import AioLockStore
from tests.async_stores import KvServer
from tests.async_stores import KvStores
from tests.async_stores import NaiveAioStore
from tests.async_stores import NaiveTrioStore
from tests.async_stores import TrioLockStore
from tests.async_stores import TrioSleepStore
from tests.async_stores import TrioThreadStore
from tests.async_stores import kv_server

Actor = Callable[[], Any]


def every_schedule(make: Callable[[], list[Actor]], **options: Any) -> list[Execution]:
    scheduler = ExhaustiveScheduler(**options)
    out = []
    while scheduler.new_execution():
        execution = run_actors(make(), scheduler)
        if not execution.pruned:
            out.append(execution)
    return out


# -- asyncio -----------------------------------------------------------------------------------


def sleepers(n: int, sleeps: int, log: list[int] | None = None) -> list[Actor]:
    def make(i: int) -> Actor:
        async def actor() -> int:
            for _ in range(sleeps):
                await asyncio.sleep(0)
                if log is not None:
                    log.append(i)
            return i

        return actor

    return [make(i) for i in range(n)]


def test_every_asyncio_yield_is_one_decision_and_exhaustive_sees_every_interleaving() -> None:
    runs = every_schedule(lambda: sleepers(2, 2), reduction=False)
    # Each actor's first sleep is its priming (no decision); two steps each are left: C(4,2).
    assert len({r.schedule for r in runs}) == 6
    assert all(sorted(r.schedule) == [0, 0, 1, 1] for r in runs)
    assert all(r.points == (("asyncio", "*", None, True),) * 4 for r in runs)
    assert all(r.results == (0, 1) for r in runs)


def test_a_step_that_is_not_a_store_point_is_dependent_on_every_store_operation() -> None:
    runs = every_schedule(lambda: sleepers(2, 1))
    step = runs[0].points[0]
    assert not independent(step, ("get", "p", "x", False))
    assert not independent(("list_partition", "q", None, False), step)


def test_the_same_seed_gives_the_same_asyncio_schedule() -> None:
    def schedule(seed: int) -> tuple[int, ...]:
        log: list[int] = []
        execution = run_actors(sleepers(3, 4, log), RandomScheduler(seed))
        assert tuple(log) == execution.schedule
        return execution.schedule

    assert schedule(5) == schedule(5)
    assert len({schedule(s) for s in range(8)}) > 1


def test_asyncio_primitives_run_under_control_and_replay_step_for_step() -> None:
    def make() -> list[Actor]:
        lock, event, queue = asyncio.Lock(), asyncio.Event(), asyncio.Queue[int]()
        shared: list[str] = []

        async def producer() -> list[str]:
            async with lock:
                shared.append("p")
                await asyncio.sleep(0)
            for n in range(3):
                await queue.put(n)
            child = asyncio.create_task(asyncio.sleep(0, result="child"))
            future = asyncio.get_running_loop().create_future()
            asyncio.get_running_loop().call_soon(future.set_result, "future")
            shared.extend([await child, await future, await asyncio.to_thread(str.upper, "thread")])
            event.set()
            return shared

        async def consumer() -> int:
            async with lock:
                shared.append("c")
            total = sum([await queue.get() for _ in range(3)])
            await event.wait()
            return total

        return [producer, consumer]

    for seed in range(10):
        first = run_actors(make(), PctScheduler(seed))
        again = run_actors(make(), ReplayScheduler(first.schedule, first.data))
        assert (again.schedule, again.points, again.results) == (
            first.schedule,
            first.points,
            first.results,
        )
        produced, total = first.results
        assert total == 3
        assert [x for x in produced if x not in "pc"] == ["child", "future", "THREAD"]
        assert first.owners == (0,)  # the task the producer spawned is numbered after the actors


def test_asyncio_sleep_and_timeouts_run_on_virtual_time() -> None:
    async def sleeper() -> float:
        await asyncio.sleep(3600)
        return asyncio.get_running_loop().time()

    async def waiter() -> str:
        try:
            await asyncio.wait_for(asyncio.Event().wait(), timeout=30)
        except TimeoutError:
            return f"timed out at {asyncio.get_running_loop().time()}"
        return "woken"

    started = time.perf_counter()
    execution = run_actors([sleeper, waiter], RandomScheduler(0))
    assert execution.results == (3600.0, "timed out at 30.0")
    assert execution.deadlock is None
    assert time.perf_counter() - started < 60  # virtual: an hour did not pass


def test_store_points_keep_their_labels_inside_asyncio_actors() -> None:
    store = MemoryStore()
    drive(store.create("x", "p", {"n": 0}))

    async def actor() -> int:
        await asyncio.sleep(0)
        doc = await store.get("x", "p")
        assert doc is not None
        result = await store.update_if_match("x", "p", Expected(rev=doc.rev), {"n": 1})
        return int(result.ok)

    execution = run_actors([actor], ExhaustiveScheduler())
    assert ("get", "p", "x", False) in execution.points
    assert ("update_if_match", "p", "x", True) in execution.points
    assert execution.results == (1,)


def test_a_task_spawned_between_store_points_hands_the_run_to_asyncio_at_once() -> None:
    def make() -> list[Actor]:
        store = MemoryStore()

        async def spawner() -> int:
            task = asyncio.create_task(store.create("x", "p", {}))
            await store.get("y", "p")  # the stepper's point, now asyncio's
            await task
            return len(await store.list_partition("p"))

        async def reader() -> bool:
            return await store.get("x", "p") is not None

        return [spawner, reader]

    runs = every_schedule(make, reduction=False)
    assert {r.results for r in runs} == {(1, True), (1, False)}  # the create races the read
    assert all(r.owners == (0,) for r in runs)  # task 2 was spawned by actor 0
    assert any(2 in r.schedule for r in runs)


def test_the_old_workaround_asyncio_run_inside_run_io_still_works() -> None:
    async def remote() -> str:
        await asyncio.sleep(0)
        return "answer"

    async def actor() -> str:
        return await run_io(lambda: asyncio.run(remote()), "get", "p", "x", False)

    async def aio_actor() -> str:
        await asyncio.sleep(0)
        return await actor()

    execution = run_actors([actor, aio_actor], RandomScheduler(0))
    assert execution.results == ("answer", "answer")
    assert ("get", "p", "x", False) in execution.points


def test_drive_runs_asyncio_set_up_code_to_completion() -> None:
    async def setup() -> str:
        await asyncio.sleep(10)
        return await asyncio.to_thread(lambda: "ready")

    assert drive(setup()) == "ready"


# -- deadlocks -----------------------------------------------------------------------------------


def lock_order() -> list[Actor]:
    first, second = asyncio.Lock(), asyncio.Lock()

    def make(a: asyncio.Lock, b: asyncio.Lock) -> Actor:
        async def actor() -> None:
            async with a:
                await asyncio.sleep(0)
                async with b:
                    pass

        return actor

    return [make(first, second), make(second, first)]


def test_a_lock_order_deadlock_is_a_finding_with_its_trace_not_a_hang() -> None:
    execution = run_actors(lock_order(), RandomScheduler(0))
    deadlock = execution.deadlock
    assert deadlock is not None
    assert [(w.task, w.awaits) for w in deadlock.waiting] == [
        (0, "Lock.acquire"),
        (1, "Lock.acquire"),
    ]
    assert all("test_async_runtime.py" in w.where for w in deadlock.waiting)
    assert all(
        isinstance(r, ActorError) and isinstance(r.error, Deadlocked) for r in execution.results
    )
    violation = deadlock.violation(("alice", "bob"))
    assert violation.kind == "deadlock"
    assert "alice waits on Lock.acquire" in violation.sentence
    again = run_actors(lock_order(), ReplayScheduler(execution.schedule))
    assert again.deadlock == deadlock


def test_awaiting_what_never_completes_is_a_deadlock_even_under_drive() -> None:
    async def forever() -> None:
        await asyncio.get_running_loop().create_future()

    execution = run_actors([forever], PctScheduler(1))
    assert execution.deadlock is not None
    assert execution.deadlock.waiting[0].actor == 0
    with pytest.raises(Deadlocked, match="deadlock after step 0"):
        drive(forever())


def test_a_deadlock_after_virtual_time_has_run_out_names_only_the_stuck_actor() -> None:
    async def sleeper() -> str:
        await asyncio.sleep(5)
        return "slept"

    async def stuck() -> None:
        await asyncio.Event().wait()

    execution = run_actors([sleeper, stuck], RandomScheduler(3))
    assert execution.results[0] == "slept"
    assert execution.deadlock is not None
    assert [w.task for w in execution.deadlock.waiting] == [1]
    assert execution.deadlock.waiting[0].awaits == "Event.wait"


# -- bad input -----------------------------------------------------------------------------------


def test_time_sleep_in_an_asyncio_actor_is_named_as_blocking() -> None:
    async def polite() -> None:
        await asyncio.sleep(0)

    async def rude() -> None:
        await asyncio.sleep(0)
        try:
            time.sleep(1)
        except Exception:  # a swallowed refusal still fails the run
            pass

    with pytest.raises(BlockingActor, match=r"actor 1 called time\.sleep\(1\) inside a step"):
        run_actors([polite, rude], RandomScheduler(0))
    time.sleep(0)  # restored outside the run


@pytest.fixture
def listener() -> Iterator[int]:
    server = socket.create_server(("127.0.0.1", 0))
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


def test_a_blocking_socket_in_an_asyncio_actor_is_named_as_blocking(listener: int) -> None:
    async def actor() -> None:
        await asyncio.sleep(0)
        with socket.create_connection(("127.0.0.1", listener)) as conn:
            conn.recv(1)

    with pytest.raises(BlockingActor, match=r"actor 0 called a blocking socket\.connect"):
        run_actors([actor], RandomScheduler(0))


def test_a_step_that_never_gives_the_loop_back_is_named_past_the_limit() -> None:
    async def busy() -> int:
        await asyncio.sleep(0)
        return sum(range(10_000))

    with pytest.raises(BlockingActor, match=r"actor 0 ran for .* in one step"):
        run_actors([busy], RandomScheduler(0), limits=Limits(blocking_step=0.0))


def test_a_request_whose_reply_never_comes_is_reported_not_waited_for_forever(
    listener: int,
) -> None:
    async def actor() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", listener)
        writer.write(b"ping\n")
        try:
            return await reader.readline()  # the listener never answers
        finally:
            writer.close()

    with pytest.raises(IOStalled, match="did not complete"):
        run_actors([actor], RandomScheduler(0), limits=Limits(io_timeout=0.2))


def test_asyncio_and_trio_in_one_actor_is_a_clear_error() -> None:
    async def both() -> None:
        await asyncio.sleep(0)
        await trio.sleep(0)

    with pytest.raises(
        MixedRuntimes, match=r"awaited .*CancelShieldedCheckpoint.* in an asyncio run"
    ):
        run_actors([both], RandomScheduler(0))

    async def trio_then_asyncio() -> None:
        await trio.sleep(0)
        await asyncio.sleep(0)

    with pytest.raises(MixedRuntimes, match="awaited None in a trio run"):
        run_actors([trio_then_asyncio], RandomScheduler(0))


def test_asyncio_and_trio_actors_in_one_run_is_a_clear_error() -> None:
    async def aio() -> None:
        await asyncio.sleep(0)

    async def tri() -> None:
        await trio.sleep(0)

    with pytest.raises(MixedRuntimes, match="actor 0 awaits asyncio and actor 1 trio"):
        run_actors([aio, tri], RandomScheduler(0))


def test_awaiting_something_of_neither_loop_is_a_clear_misuse() -> None:
    class Alien:
        def __await__(self) -> Generator[str, None, None]:
            yield "curio trap"

    async def actor() -> None:
        await Alien()

    with pytest.raises(RuntimeMisuse, match="'curio trap', which is not a store operation"):
        run_actors([actor], RandomScheduler(0))


def test_trio_needed_before_the_first_await_asks_for_the_runtime_by_name() -> None:
    with pytest.raises(NeedsRuntime, match="runtime='trio'"):
        drive(TrioLockStore().get("x", "p"))
    with use_runtime("trio"):
        assert drive(TrioLockStore().get("x", "p")) is None


def test_an_unknown_runtime_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="runtime must be one of 'auto', 'asyncio', 'trio'"):
        run_actors([], RandomScheduler(0), runtime="curio")  # type: ignore[arg-type]


# -- trio ------------------------------------------------------------------------------------------


def trio_actors() -> list[Actor]:
    send, receive = trio.open_memory_channel[int](0)
    lock = trio.Lock()
    seen: list[str] = []

    async def producer() -> list[str]:
        async with lock:
            seen.append("p")
            await trio.sleep(0)
        async with send:
            for n in range(3):
                await send.send(n)
        seen.append(await trio.to_thread.run_sync(str.upper, "thread"))
        return seen

    async def consumer() -> int:
        async with lock:
            seen.append("c")
        return sum([n async for n in receive])

    return [producer, consumer]


@pytest.mark.parametrize("make", [lambda s: RandomScheduler(s), lambda s: PctScheduler(s)])
def test_trio_primitives_run_under_control_and_replay_step_for_step(
    make: Callable[[int], Scheduler],
) -> None:
    schedules = set()
    for seed in range(8):
        first = run_actors(trio_actors(), make(seed), runtime="trio")
        again = run_actors(
            trio_actors(), ReplayScheduler(first.schedule, first.data), runtime="trio"
        )
        assert (again.schedule, again.points, again.results) == (
            first.schedule,
            first.points,
            first.results,
        )
        assert first.results[1] == 3
        assert first.results[0][-1] == "THREAD"
        schedules.add(first.schedule)
    assert len(schedules) > 1


def test_trio_checkpoints_are_decisions_and_exhaustive_enumerates_them() -> None:
    def make() -> list[Actor]:
        def one(i: int) -> Actor:
            async def actor() -> int:
                await trio.sleep(0)
                await trio.lowlevel.checkpoint()
                await trio.sleep(0)
                return i

            return actor

        return [one(0), one(1)]

    runs = every_schedule(make, reduction=False)
    # The first sleep is each actor's priming; three steps each are left.
    assert len({r.schedule for r in runs}) == math.comb(6, 3)
    assert all(r.points == (("trio", "*", None, True),) * 6 for r in runs)


def test_store_points_keep_their_labels_inside_trio_actors() -> None:
    store = MemoryStore()

    async def actor() -> bool:
        await trio.sleep(0)
        await store.create("x", "p", {})
        return await store.delete("x", "p")

    execution = run_actors([actor], ExhaustiveScheduler())
    # points[s] is what the chosen task was parked on: the sleep, then each store operation.
    assert execution.points == (
        ("trio", "*", None, True),
        ("create", "p", "x", True),
        ("delete", "p", "x", True),
    )
    assert execution.results == (True,)


def test_trio_sleep_runs_on_virtual_time_and_a_trio_deadlock_is_a_finding() -> None:
    async def sleeper() -> float:
        await trio.sleep(3600)
        with trio.move_on_after(5):
            await trio.sleep_forever()
        return trio.current_time()

    async def stuck() -> None:
        await trio.Event().wait()

    execution = run_actors([sleeper, stuck], RandomScheduler(0), runtime="trio")
    assert execution.results[0] == 3605.0
    assert execution.deadlock is not None
    assert [(w.task, w.awaits) for w in execution.deadlock.waiting] == [(1, "Event.wait")]
    assert isinstance(execution.results[1], ActorError)


def test_time_sleep_in_a_trio_actor_is_named_as_blocking() -> None:
    async def rude() -> None:
        await trio.sleep(0)
        time.sleep(0.5)

    with pytest.raises(BlockingActor, match=r"actor 0 called time\.sleep\(0\.5\)"):
        run_actors([rude], RandomScheduler(0))


# -- the example stores: correct ones pass, naive twins are caught --------------------------------

STRATEGIES = ("random", "pct", "exhaustive")


def budget(strategy: str) -> int | None:
    return None if strategy == "exhaustive" else 200


@pytest.fixture(scope="module")
def kv() -> Iterator[KvServer]:
    with kv_server() as server:
        yield server


@pytest.fixture
def stores_of(kv: KvServer) -> Iterator[Callable[[str], Any]]:
    """``stores_of(kind)``: a store factory for ``explore(factory=...)``."""
    opened: list[KvStores] = []

    def make(kind: str) -> Any:
        if kind in ("kv", "naive-kv"):
            opened.append(KvStores(kv, naive=kind == "naive-kv"))
            return opened[-1]
        return make_factory(kind)

    yield make
    for factory in opened:
        factory.close()


def make_factory(kind: str) -> Any:
    cls = {
        "trio-sleep": TrioSleepStore,
        "naive-trio": NaiveTrioStore,
        "trio-thread": TrioThreadStore,
        "trio-lock": TrioLockStore,
        "aio-lock": AioLockStore,
        "naive-aio": NaiveAioStore,
    }[kind]
    return lambda wrap: wrap(cls())


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("kind", ["trio-sleep", "trio-thread", "trio-lock", "aio-lock", "kv"])
def test_correct_async_stores_pass_every_strategy(
    kind: str, strategy: str, stores_of: Callable[[str], Any]
) -> None:
    runtime: Runtime = "trio" if kind == "trio-lock" else "auto"
    with use_runtime(runtime):
        result = explore(
            "claim-race",
            kind,
            strategy,
            seed=3,
            budget=budget(strategy),
            factory=stores_of(kind),
        )
    assert not result.found, result.counterexample
    assert result.schedules > 0
    if strategy == "exhaustive":
        assert result.complete


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("kind", ["naive-trio", "naive-aio", "naive-kv"])
def test_naive_async_stores_are_caught_by_every_strategy(
    kind: str, strategy: str, stores_of: Callable[[str], Any]
) -> None:
    factory = stores_of(kind)
    result = explore("claim-race", kind, strategy, seed=3, budget=budget(strategy), factory=factory)
    assert result.counterexample is not None
    assert {v.kind for v in result.counterexample.violations} & {
        "double-assignment",
        "not-linearizable",
    }
    # The token replays exactly: the same schedule fails the same way.
    again = replay(result.counterexample.token, factory=factory)
    assert again is not None
    assert again.violations == result.counterexample.violations
    assert again.trace == result.counterexample.trace


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("store", ["memory", "rcw-memory"])
def test_store_point_code_explores_alike_under_the_stepper_asyncio_and_trio(
    store: str, strategy: str
) -> None:
    def summary(runtime: Runtime) -> tuple[Any, ...]:
        with use_runtime(runtime):
            r = explore("claim-race", store, strategy, seed=2, budget=budget(strategy))
        token = None if r.counterexample is None else r.counterexample.token
        return (r.schedules, r.pruned, token)

    # Same choices offered at every step, same labels, same reduction, same tokens.
    assert summary("auto") == summary("asyncio") == summary("trio")


@pytest.mark.parametrize("kind", ["aio-lock", "kv", "trio-thread"])
def test_async_stores_are_deterministic_schedule_by_schedule(
    kind: str, stores_of: Callable[[str], Any]
) -> None:
    result = explore(
        "claim-race",
        kind,
        "random",
        seed=11,
        budget=40,
        factory=stores_of(kind),
        check_determinism=True,
    )
    assert not result.found


@settings(max_examples=60, database=None, derandomize=True)
@given(data=st.data())
def lost_update_on_naive_asyncio_store(data: st.DataObject) -> None:
    store = NaiveAioStore()
    drive(store.create("x", "p", {"n": 0}))

    async def increment() -> None:
        doc = await store.get("x", "p")
        assert doc is not None
        await store.update_if_match("x", "p", Expected(rev=doc.rev), {"n": doc.body["n"] + 1})

    run_actors([increment, increment], HypothesisScheduler(data))
    final = drive(store.get("x", "p"))
    assert final is not None
    # Two successful increments of one document must have bumped its rev twice.
    assert final.rev - 1 == sum(1 for _ in range(final.body["n"]))


def test_hypothesis_drives_asyncio_schedules_and_finds_the_lost_update() -> None:
    with pytest.raises(AssertionError):
        lost_update_on_naive_asyncio_store()


def test_the_determinism_check_wraps_asyncio_runs_too() -> None:
    check = DeterminismCheck(RandomScheduler(4))
    for _ in range(6):
        assert check.new_execution()
        run_actors(sleepers(3, 3), check)
