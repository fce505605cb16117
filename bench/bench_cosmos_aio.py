"""Schedules per second of ``claim-race`` on ``cosmos`` and ``cosmos-aio``, in the same run.

Both backends are opened once each (two embedded endpoints, or ``COSMOS_ENDPOINT``/
``COSMOS_KEY``); then rounds alternate between them, each round a random exploration of
``ROUND`` schedules of claim-race (size 2, new seed per round), so that both see the same load.
The figure is schedules per second of wall-clock time over all rounds, per backend, and the
mean wall-clock cost of one schedule.  ``cosmos-aio`` opens a client
of its own per schedule (an account read, a container read, a TLS connection), ``cosmos``
shares one; ``cosmos-aio``'s schedules are longer (every await of a request is a step).

Run: ``.venv/bin/python bench/bench_cosmos_aio.py [ROUNDS]`` (default 5 rounds of 40).  Only
127.0.0.1 is contacted (unless COSMOS_ENDPOINT names an account).
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import ExitStack

from harness import explore
from harness.backends import get_backend

ROUND = 40
BACKENDS = ("cosmos", "cosmos-aio")


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    spent = dict.fromkeys(BACKENDS, 0.0)
    runs = dict.fromkeys(BACKENDS, 0)
    with ExitStack() as stack:
        factories = {name: stack.enter_context(get_backend(name).open()) for name in BACKENDS}
        for seed in range(rounds):
            for name in BACKENDS:
                started = time.perf_counter()
                result = explore(
                    "claim-race",
                    name,
                    "random",
                    seed=seed,
                    budget=ROUND,
                    factory=factories[name],
                    database=None,
                )
                spent[name] += time.perf_counter() - started
                runs[name] += result.schedules
                assert result.counterexample is None, result.counterexample
    load = os.getloadavg()[0]
    print(f"claim-race, random, {rounds} rounds of {ROUND} (load average {load:.1f})")
    print("| backend | schedules | schedules/s | ms per schedule |")
    print("| --- | ---: | ---: | ---: |")
    for name in BACKENDS:
        rate = runs[name] / spent[name]
        per = 1000 * spent[name] / runs[name]
        print(f"| {name} | {runs[name]} | {rate:.1f} | {per:.1f} |")


if __name__ == "__main__":
    main()
