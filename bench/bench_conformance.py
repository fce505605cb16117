"""Conformance kit benchmark: mutation score and time to catch each broken store.

Runs the default suite (``run_store_conformance`` with its default budget) on every broken
store of the zoo (``tests/zoo.py``) and on the correct stores, and prints caught/total, the
median and worst time to a verdict, and the time a correct store takes to conform.

Run: ``.venv/bin/python bench/bench_conformance.py`` (or ``make bench``).
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


def main() -> None:
    times: list[float] = []
    caught = 0
    print(f"{'broken store':<36} {'caught':<7} {'first failing check':<22} seconds")
    for name, factory in BROKEN.items():
        started = time.perf_counter()
        result = run_store_conformance(factory, name="zoo", raise_on_failure=False)
        took = time.perf_counter() - started
        times.append(took)
        caught += not result.conforms
        first = result.failures[0].name if result.failures else "-"
        print(f"{name:<36} {'yes' if not result.conforms else 'NO':<7} {first:<22} {took:.2f}")
    print(
        f"mutation score {caught}/{len(BROKEN)}; time to verdict: median "
        f"{statistics.median(times):.2f} s, worst {max(times):.2f} s"
    )
    for name, factory in HARMLESS.items():
        started = time.perf_counter()
        result = run_store_conformance(factory, name="ok", raise_on_failure=False)
        verdict = "conforms" if result.conforms else "FLAGGED (false alarm)"
        print(f"{name:<36} {verdict:<12} {time.perf_counter() - started:.2f} s (reference)")


if __name__ == "__main__":
    main()
