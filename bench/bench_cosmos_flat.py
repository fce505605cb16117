"""Per-schedule cost over a long Cosmos run: the first 100 schedules next to the last 100.

One exhaustive exploration of ``multi-job`` on the ``cosmos`` backend (the embedded endpoint,
or ``COSMOS_ENDPOINT``/``COSMOS_KEY``), opened once, as ``claimcheck run --store cosmos
--scenario multi-job --scheduler exhaustive`` runs it.  The wall-clock time between schedules
is recorded; the figure is the mean cost of schedules 1-100 and of the last 100, and their
ratio.  Reference: flat, i.e. a ratio near 1.  Before each schedule's namespace was purged
(``harness.backends.NamespacedStore.close``), every schedule left its documents in the shared
container, the embedded endpoint's queries scan every document of a container, and the cost grew
with the run: 46.5 ms per schedule for the first 100, 185.8 ms for schedules 901-1,000 (6 s for
150 schedules, 61 s for 1,000, 188 s for 1,500).

Run: ``.venv/bin/python bench/bench_cosmos_flat.py [SCHEDULES]`` (default 2,000; a few
minutes).  Only 127.0.0.1 is contacted (unless COSMOS_ENDPOINT names an account).
"""

from __future__ import annotations

import os
import sys
import time

from harness import explore
from harness.backends import get_backend

SCHEDULES = 2000
WINDOW = 100
SCENARIO = "multi-job"
REFERENCE = "flat (ratio near 1); before namespaces were purged: 46.5 -> 185.8 ms over 1,000 (3.99)"


def main(schedules: int) -> None:
    if schedules < 2 * WINDOW:
        raise SystemExit(f"need at least {2 * WINDOW} schedules, got {schedules}")
    stamps: list[float] = []

    def on_schedule(done: int) -> None:
        stamps.append(time.perf_counter())

    with get_backend("cosmos").open() as factory:
        started = time.perf_counter()
        result = explore(
            SCENARIO,
            "cosmos",
            "exhaustive",
            budget=schedules,
            factory=factory,
            on_schedule=on_schedule,
        )
        took = time.perf_counter() - started
    ran = len(stamps)
    if ran < 2 * WINDOW:
        raise SystemExit(f"the exploration ended after {ran} schedules; need {2 * WINDOW}")
    first = (stamps[WINDOW - 1] - started) / WINDOW
    last = (stamps[-1] - stamps[-WINDOW - 1]) / WINDOW
    where = os.environ.get("COSMOS_ENDPOINT") or "the embedded endpoint"
    print(
        f"cosmos {SCENARIO} exhaustive on {where}, {os.cpu_count()} cores: {ran} schedules "
        f"({result.pruned} pruned runs) in {took:.1f} s"
    )
    print(f"  per schedule, schedules 1-{WINDOW}:          {1000 * first:7.1f} ms")
    print(f"  per schedule, schedules {ran - WINDOW + 1}-{ran}: {1000 * last:7.1f} ms")
    print(f"  ratio last/first: {last / first:.2f}   reference: {REFERENCE}")
    if result.counterexample is not None:
        print("  (the exploration found a violation: see `claimcheck run` for the reproducer)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else SCHEDULES)
