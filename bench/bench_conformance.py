"""Conformance kit benchmark: mutation score, time to a verdict, and the cost of slow I/O.

Runs the default suite (``run_store_conformance`` with its default budget and timeout) on

1. every broken store of the zoo (``tests/zoo.py``): caught/total (the mutation score), and the
   median and worst time to a verdict (target: median under 5 s);
2. the correct stores of the zoo: each must conform (a flag is a false alarm); the in-memory
   store's time to conform (target: a few seconds);
3. a correct store whose every call is a blocking call of 50 ms (``tests.zoo.SlowStore``,
   through ``run_io``): its time to a verdict (target: under 120 s; 288 s before the checks'
   pieces ran side by side).

Each figure is printed next to its target.  ``--quick`` skips the 50 ms store (about a minute
and a half).  Run: ``.venv/bin/python bench/bench_conformance.py`` (or ``make bench``).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.conformance import run_store_conformance
from tests.zoo import BROKEN
from tests.zoo import HARMLESS
from tests.zoo import SlowStore


def _timed(factory: object) -> tuple[float, bool, str]:
    started = time.perf_counter()
    result = run_store_conformance(factory, name="zoo", raise_on_failure=False)  # type: ignore[arg-type]
    first = result.failures[0].name if result.failures else "-"
    return time.perf_counter() - started, result.conforms, first


def main() -> None:
    times: list[float] = []
    caught = 0
    print(f"{'broken store':<42} {'caught':<7} {'first failing check':<24} seconds")
    for name, factory in BROKEN.items():
        took, conforms, first = _timed(factory)
        times.append(took)
        caught += not conforms
        print(f"{name:<42} {'yes' if not conforms else 'NO':<7} {first:<24} {took:.2f}")
    median = statistics.median(times)
    print(
        f"mutation score {caught}/{len(BROKEN)} (target {len(BROKEN)}/{len(BROKEN)}); "
        f"time to verdict: median {median:.2f} s (target < 5 s), worst {max(times):.2f} s"
    )
    for name, factory in HARMLESS.items():
        took, conforms, _ = _timed(factory)
        verdict = "conforms" if conforms else "FLAGGED (false alarm)"
        target = "  (target: a few seconds)" if name == "memory" else ""
        print(f"{name:<42} {verdict:<22} {took:.2f} s{target}")
    if "--quick" in sys.argv:
        return
    took, conforms, _ = _timed(lambda: SlowStore(latency=0.05))
    verdict = "conforms" if conforms else "FLAGGED (false alarm)"
    print(
        f"{'50 ms a call (run_io, blocking)':<42} {verdict:<22} {took:.1f} s "
        "(target < 120 s; 288 s before)"
    )


if __name__ == "__main__":
    main()
