"""Cosmos store throughput against the embedded endpoint, keep-alive on next to keep-alive off.

Two servers are started in the same run: one as ``stores.emulator`` starts it (library API,
HTTP keep-alive on) and one answering ``connection: close`` like the package's CLI, so every
request pays a new TCP connection and TLS handshake.  Both are measured through the client the
store itself uses (its SDK client, pinned-TLS transport, pool of ``IO_THREADS`` connections):

1. SDK point reads/s and SDK conditional replaces/s (``If-Match`` on the etag), sequential and
   with ``IO_THREADS`` (16) threads, each thread on its own document (no 412s).
2. The store as trio drives it: ``get`` (one request) and ``update_if_match`` (a read plus a
   conditional replace: two requests), with 1 task and with 16 tasks.

Target: >= 400/s for SDK point reads and conditional replaces, keep-alive on.  Next to each rate:
the CPU time per operation of this (client) process and of the server process, which does not
depend on what else the machine is running; the client's share is the ceiling (the SDK holds the
GIL while it works).  Each rate is the best of a few fixed 1 s windows; loops are bounded in
time and only talk to 127.0.0.1.  Run: ``.venv/bin/python bench/bench_cosmos.py``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Awaitable
from collections.abc import Callable
from functools import partial

import attrs
import trio
from azure.core import MatchConditions

from stores import IO_THREADS
from stores import Expected
from stores.cosmos import CosmosStore
from stores.emulator import PACKAGE
from stores.emulator import PACKAGE_VERSION
from stores.emulator import EmulatorHandle
from stores.emulator import start_emulator

WINDOW = 1.0  # seconds per measurement
REPS_KEEP_ALIVE = 5
REPS_CLOSE = 1  # ~18 req/s: one window is enough for the reference figure
TARGET = 400.0
PK = "bench"

Op = Callable[[int], object]
AsyncOp = Callable[[], Awaitable[object]]


@attrs.frozen(kw_only=True)
class Figure:
    rate: float  # operations per second
    client_ms: float  # CPU ms of this process per operation
    server_ms: float  # CPU ms of the server process per operation


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc (Linux)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def best(window: Callable[[], int], reps: int, server: EmulatorHandle) -> Figure:
    """Run ``window`` (it returns how many operations it did) ``reps`` times; keep the fastest."""
    figures = []
    for _ in range(reps):
        client0, server0 = cpu_seconds(os.getpid()), cpu_seconds(server.pid)
        start = time.perf_counter()
        done = window()
        elapsed = time.perf_counter() - start
        figures.append(
            Figure(
                rate=done / elapsed,
                client_ms=1000 * (cpu_seconds(os.getpid()) - client0) / max(done, 1),
                server_ms=1000 * (cpu_seconds(server.pid) - server0) / max(done, 1),
            )
        )
    return max(figures, key=lambda f: f.rate)


def thread_window(make: Callable[[CosmosStore, int], Op], store: CosmosStore, n: int) -> int:
    """One window: ``n`` threads, each calling its own op in a loop; total calls made."""
    ops = [make(store, i) for i in range(n)]
    counts = [0] * len(ops)
    gate = threading.Barrier(len(ops))
    stop_at = time.perf_counter() + WINDOW + 0.05  # a little slack for the gate

    def worker(i: int) -> None:
        gate.wait()
        n = 0
        while time.perf_counter() < stop_at:
            ops[i](n)
            n += 1
        counts[i] = n

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(ops))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts)


def trio_window(make: Callable[[CosmosStore, int], AsyncOp], store: CosmosStore, n: int) -> int:
    """One window: ``n`` trio tasks, each awaiting its own op in a loop; total calls made."""
    ops = [make(store, i) for i in range(n)]
    counts = [0] * len(ops)

    async def main() -> None:
        stop_at = time.perf_counter() + WINDOW

        async def task(i: int) -> None:
            while time.perf_counter() < stop_at:
                await ops[i]()
                counts[i] += 1

        async with trio.open_nursery() as nursery:
            for i in range(len(ops)):
                nursery.start_soon(task, i)

    trio.run(main)
    return sum(counts)


def sdk_point_read(store: CosmosStore, i: int) -> Op:
    container = store._container  # the store's own client, transport and pool
    return lambda n: container.read_item(item=f"doc-{i}", partition_key=PK)


def sdk_conditional_replace(store: CosmosStore, i: int) -> Op:
    container = store._container
    item = dict(container.read_item(item=f"doc-{i}", partition_key=PK))

    def op(n: int) -> None:
        nonlocal item
        body = {"id": item["id"], "pk": PK, "rev": item["rev"] + 1, "n": n}
        item = dict(
            container.replace_item(
                item=item["id"],
                body=body,
                etag=item["_etag"],
                match_condition=MatchConditions.IfNotModified,
            )
        )

    return op


def store_get(store: CosmosStore, i: int) -> AsyncOp:
    return lambda: store.get(f"doc-{i}", PK)


def store_update_if_match(store: CosmosStore, i: int) -> AsyncOp:
    # Chain the expected rev from the last write, as a lease holder would: one call per op.
    rev = [0]

    async def op() -> object:
        if not rev[0]:
            doc = await store.get(f"doc-{i}", PK)
            assert doc is not None
            rev[0] = doc.rev
        result = await store.update_if_match(f"doc-{i}", PK, Expected(rev=rev[0]), {"n": rev[0]})
        assert result.ok, result
        rev[0] += 1
        return result

    return op


SDK_OPS: dict[str, Callable[[CosmosStore, int], Op]] = {
    "SDK point read": sdk_point_read,
    "SDK conditional replace": sdk_conditional_replace,
}
STORE_OPS: dict[str, Callable[[CosmosStore, int], AsyncOp]] = {
    "store get (trio)": store_get,
    "store update_if_match (trio, 2 requests)": store_update_if_match,
}


def measure(keep_alive: bool) -> dict[tuple[str, int], Figure]:
    reps = REPS_KEEP_ALIVE if keep_alive else REPS_CLOSE
    figures: dict[tuple[str, int], Figure] = {}
    with (
        start_emulator(keep_alive=keep_alive) as server,
        CosmosStore.for_emulator(server, database="bench") as store,
    ):
        for i in range(IO_THREADS):
            trio.run(store.create, f"doc-{i}", PK, {"n": 0})
        for name, make in SDK_OPS.items():
            for threads in (1, IO_THREADS):
                window = partial(thread_window, make, store, threads)
                figures[name, threads] = best(window, reps, server)
        if keep_alive:
            for name, make_async in STORE_OPS.items():
                for tasks in (1, IO_THREADS):
                    window = partial(trio_window, make_async, store, tasks)
                    figures[name, tasks] = best(window, reps, server)
    return figures


def main() -> None:
    on = measure(keep_alive=True)
    off = measure(keep_alive=False)
    print(
        f"Cosmos store on the embedded endpoint ({PACKAGE} {PACKAGE_VERSION}) on {os.cpu_count()} cores"
    )
    print(
        f"ops/s, best of {REPS_KEEP_ALIVE} x {WINDOW:g} s with keep-alive, 1 x {WINDOW:g} s with close;"
    )
    print("CPU ms per op of the client (this process) and of the server, keep-alive on")
    header = (
        f"  {'operation':<41} {'threads':>7} {'keep-alive':>10} {'close':>6}"
        f" {'client':>7} {'server':>7}  target"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    for (name, threads), fig in on.items():
        ref = f"{off[name, threads].rate:>6,.0f}" if (name, threads) in off else f"{'-':>6}"
        target = ""
        if name.startswith("SDK"):
            target = f">= {TARGET:,.0f} {'met' if fig.rate >= TARGET else 'MISSED'}"
        print(
            f"  {name:<41} {threads:>7} {fig.rate:>10,.0f} {ref}"
            f" {fig.client_ms:>7.2f} {fig.server_ms:>7.2f}  {target}"
        )
    print("  close: every request on a new TLS connection, as the package's CLI serves it")


if __name__ == "__main__":
    main()
