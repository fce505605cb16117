"""Endurance: one store, thousands of mixed operations, first one at a time, then at once.

Some bugs need many operations on one instance: a connection that is not returned to its pool
on one path, so that operation N waits forever; a file or socket opened per call and never
closed.  No other check gives one store more than a few dozen operations.  Here one store gets
``sequential`` operations one at a time, then ``concurrent`` more from ``tasks`` trio tasks at
once (worker threads for ``run_io`` stores).  Every answer is checked against a model of what
the store holds (each task owns its documents, so the model stays exact), every operation is
under the per-operation timeout, and a failure names the operation's number.

Growth of open file descriptors (``/proc/self/fd``, where there is one) and of threads is
measured across the run and reported.  Over the one-at-a-time operations after a warm-up, a
store that keeps growing either is leaking; the concurrent phase may open one connection per
worker thread, so its allowance is larger.
"""

from __future__ import annotations

import os
import random
import threading

from stores import IO_THREADS
from stores import Conflict
from stores import Doc
from stores import DocumentExists
from stores import DocumentNotFound
from stores import Expected
from stores import NotFound
from stores import Store
from stores import Updated

from ..runtime import drive
from ._cases import expect
from ._labels import plain
from ._races import race
from ._stores import Keeper
from ._watchdog import Watch

__all__ = ["check_endurance"]

#: Operations before the baseline of the leak measure (lazily opened connections, caches).
_WARM_UP = 100
#: Growth allowed over the one-at-a-time phase after the warm-up.
_SEQUENTIAL_FDS, _SEQUENTIAL_THREADS = 16, 4
#: Growth allowed over the whole run (a connection, and its files, per worker thread).
_TOTAL_FDS, _TOTAL_THREADS = 4 * IO_THREADS + 32, IO_THREADS + 8


def _fds() -> int | None:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return None


def _usage() -> tuple[int | None, int]:
    return _fds(), threading.active_count()


class _Counter:
    """Numbers the operations of the run, and tells the watchdog how far it got."""

    def __init__(self, watch: Watch, total: int) -> None:
        self.watch = watch
        self.total = total
        self.issued = 0

    def next(self, what: str) -> int:
        self.issued += 1
        self.watch.progress = f"endurance: operation #{self.issued} of {self.total}, {what}"
        return self.issued


class _Driver:
    """Mixed operations on ``keys`` (partition, id), checked against a model of them."""

    def __init__(self, store: Store, keys: list[tuple[str, str]], rng: random.Random) -> None:
        self.store = store
        self.keys = keys
        self.rng = rng
        self.docs: dict[tuple[str, str], Doc] = {}
        self.stale: dict[tuple[str, str], Doc] = {}

    async def step(self, number: int) -> None:
        key = self.rng.choice(self.keys)
        kind = self.rng.choices(_KINDS, _WEIGHTS)[0]
        try:
            await getattr(self, kind)(key, number)
        except AssertionError as error:
            raise AssertionError(
                f"endurance: operation #{number} ({kind} of {key}): {error}"
            ) from None
        except Exception as error:
            error.add_note(f"endurance: operation #{number} ({kind} of {key})")
            raise

    async def get(self, key: tuple[str, str], n: int) -> None:
        doc = await self.store.get(key[1], key[0])
        want = self.docs.get(key)
        expect(
            (doc is None) == (want is None) and (doc is None or doc == want),
            f"get gave {doc!r}, the last write made {want!r}",
        )

    async def create(self, key: tuple[str, str], n: int) -> None:
        try:
            doc = await self.store.create(key[1], key[0], {"n": n})
        except DocumentExists:
            expect(key in self.docs, "create raised DocumentExists, but the document was deleted")
            return
        expect(key not in self.docs, "create of an existing document did not raise")
        expect(plain(doc.body) == {"n": n}, f"create wrote {plain(doc.body)}, not {{'n': {n}}}")
        self.docs[key] = doc

    async def update(self, key: tuple[str, str], n: int) -> None:
        current = self.docs.get(key)
        expected = Expected(rev=current.rev, etag=current.etag) if current else Expected(rev=1)
        result = await self.store.update_if_match(key[1], key[0], expected, {"n": n})
        if current is None:
            expect(isinstance(result, NotFound), f"update of a missing document gave {result!r}")
            return
        expect(isinstance(result, Updated), f"update with current tokens gave {result!r}")
        assert isinstance(result, Updated)
        self.stale[key], self.docs[key] = current, result.doc

    async def stale_update(self, key: tuple[str, str], n: int) -> None:
        old = self.stale.get(key)
        if old is None or key not in self.docs:
            return await self.get(key, n)
        result = await self.store.update_if_match(key[1], key[0], Expected(rev=old.rev), {"n": n})
        expect(isinstance(result, Conflict), f"update with a stale rev gave {result!r}")

    async def replace(self, key: tuple[str, str], n: int) -> None:
        try:
            doc = await self.store.replace(key[1], key[0], {"n": n, "replaced": True})
        except DocumentNotFound:
            expect(key not in self.docs, "replace of an existing document raised DocumentNotFound")
            return
        expect(key in self.docs, "replace of a missing document did not raise DocumentNotFound")
        self.stale[key], self.docs[key] = self.docs[key], doc

    async def delete(self, key: tuple[str, str], n: int) -> None:
        done = await self.store.delete(key[1], key[0])
        expect(done == (key in self.docs), f"delete answered {done}")
        if self.docs.pop(key, None) is not None:
            self.stale.pop(key, None)

    async def list_partition(self, key: tuple[str, str], n: int) -> None:
        listed = {d.id: d for d in await self.store.list_partition(key[0])}
        for (pk, id), doc in self.docs.items():
            if pk == key[0]:
                expect(listed.get(id) == doc, f"list_partition gave {listed.get(id)!r} for {id!r}")
        for pk, id in self.keys:
            if pk == key[0] and (pk, id) not in self.docs:
                expect(id not in listed, f"list_partition holds the deleted {id!r}")


_KINDS = ("get", "create", "update", "stale_update", "replace", "delete", "list_partition")
_WEIGHTS = (30, 15, 20, 8, 10, 10, 7)


def _keys(prefix: str, count: int) -> list[tuple[str, str]]:
    return [(f"e{i % 2}", f"{prefix}k{i}") for i in range(count)]


def check_endurance(
    keeper: Keeper, seed: int, sequential: int = 600, concurrent: int = 1400, tasks: int = 12
) -> str:
    """Run the endurance check on one store; the evidence, or ``AssertionError``."""
    counter = _Counter(keeper.watch, sequential + concurrent)
    with keeper.opened() as store:
        usage = [_usage()]
        driver = _Driver(store, _keys("s", 16), random.Random(seed))
        for _ in range(sequential):
            drive(driver.step(counter.next("one at a time")))
            if counter.issued == min(_WARM_UP, sequential):
                usage.append(_usage())
        usage.append(_usage())
        _expect_no_leak(usage[1], usage[2], _SEQUENTIAL_FDS, _SEQUENTIAL_THREADS, sequential)
        drivers = [
            _Driver(store, _keys(f"t{t}-", 4), random.Random(f"{seed}-{t}")) for t in range(tasks)
        ]
        share = [concurrent // tasks + (t < concurrent % tasks) for t in range(tasks)]

        async def task(t: int) -> None:
            for _ in range(share[t]):
                await drivers[t].step(counter.next(f"{tasks} tasks at once"))

        race(tasks, task)
        usage.append(_usage())
    keeper.watch.progress = None
    _expect_no_leak(usage[0], usage[3], _TOTAL_FDS, _TOTAL_THREADS, sequential + concurrent)
    fds = " -> ".join("?" if u[0] is None else str(u[0]) for u in usage)
    threads = " -> ".join(str(u[1]) for u in usage)
    return (
        f"{sequential + concurrent} operations on one store ({sequential} one at a time, "
        f"{concurrent} from {tasks} tasks at once); open fds {fds}, threads {threads} "
        f"(start, after {_WARM_UP}, after {sequential}, end)"
    )


def _expect_no_leak(
    before: tuple[int | None, int], after: tuple[int | None, int], fds: int, threads: int, ops: int
) -> None:
    if before[0] is not None and after[0] is not None:
        grew = after[0] - before[0]
        expect(
            grew <= fds,
            f"endurance: open file descriptors grew from {before[0]} to {after[0]} by operation "
            f"#{ops} on one store (allowed: {fds}); a file, socket or connection is opened per "
            "call and never closed",
        )
    expect(
        after[1] - before[1] <= threads,
        f"endurance: threads grew from {before[1]} to {after[1]} by operation #{ops} on one "
        f"store (allowed: {threads}); a thread is started per call and never ends",
    )
