"""The checker's scaling curve on generated kv histories: length and concurrency.

Histories come from ``claimcheck gen-history`` (``harness.check.generate_kv_history``): get and
append on 10 keys, linearizable by construction (``ok``) or with one stale read (``bad``).
Two curves, 4+ points each: concurrency (5 to 40 clients, 3,000 operations) and length (1,000
to 8,000 operations, 20 clients).  Each point gives claimcheck on one core (CPU time of the
process) and with two worker processes (wall time), best of ``PASSES``.

No Porcupine figure exists for these histories, and Go cannot be installed here to measure one,
so the reference is an estimate, ``Porcupine est.``: Porcupine's algorithm (Wing & Gong with
Lowe's cache in call order -- claimcheck's search without its model hooks) is run here in
Python on the history and on Porcupine's c50-ok.txt, and Porcupine's published c50-ok time
(0.25 s) is scaled by the ratio of the two.  It assumes Porcupine's time is proportional to
the work of its search, which is what the ratio measures.  Run: ``.venv/bin/python
bench/bench_checker_scaling.py``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.check import Operation
from harness.check import check_operations
from harness.check import generate_kv_history
from harness.check import read_porcupine_kv
from harness.check._driver import search_implementation
from models import KvModel
from models import Model
from models import OpT

C50_OK = Path(__file__).resolve().parents[2] / "shared" / "histories" / "porcupine" / "kv"
PORCUPINE_C50_OK = 0.25
PASSES = 3
KEYS = 10
CONCURRENCY = (5, 10, 20, 30, 40)
LENGTHS = (1000, 2000, 4000, 8000)


class PorcupineKvModel(Model[str, Any, Any]):
    """The kv model without claimcheck's hooks (``pinned_state``, ``reachability``): the search
    Porcupine runs."""

    def __init__(self) -> None:
        self.kv = KvModel()

    def init(self) -> str:
        return self.kv.init()

    def step(self, state: str, input: Any, output: Any) -> tuple[bool, str]:
        return self.kv.step(state, input, output)

    def partition(self, operations: Sequence[OpT]) -> list[list[OpT]]:
        return self.kv.partition(operations)


def seconds(model: Any, ops: list[Operation[Any, Any]], want: str, workers: int) -> float:
    clock = time.process_time if workers == 1 else time.perf_counter
    start = clock()
    result = check_operations(model, ops, timeout=300, workers=workers)
    took = clock() - start
    assert result.verdict == want, f"got {result.verdict}, expected {want}"
    return took


def main() -> None:
    c50 = C50_OK / "c50-ok.txt"
    if not c50.is_file():
        sys.exit(f"Porcupine's histories are missing: expected {c50}")
    plain_c50 = seconds(PorcupineKvModel(), read_porcupine_kv(c50), "linearizable", 1)
    scale = PORCUPINE_C50_OK / plain_c50
    print(f"search: {search_implementation()}; generated kv histories, {KEYS} keys")
    print(
        f"Porcupine est. = Porcupine's algorithm run here x {scale:.2f} (its published c50-ok "
        f"{PORCUPINE_C50_OK} s / {plain_c50:.3f} s here)"
    )
    print(
        f"{'ops':>6} {'clients':>7} {'kind':>4}  {'1 core':>8} {'2 procs':>8}  "
        f"{'Porcupine est.':>14}  {'ratio (1 core | 2 procs)':>24}"
    )
    points = [(3000, c) for c in CONCURRENCY] + [(n, 20) for n in LENGTHS if n != 3000]
    for ops_count, clients in points:
        for broken in (False, True):
            ops = generate_kv_history(
                ops=ops_count, clients=clients, keys=KEYS, seed=1, broken=broken
            )
            want = "not_linearizable" if broken else "linearizable"
            one = min(seconds(KvModel(), ops, want, 1) for _ in range(PASSES))
            two = min(seconds(KvModel(), ops, want, 2) for _ in range(PASSES))
            estimate = seconds(PorcupineKvModel(), ops, want, 1) * scale
            print(
                f"{ops_count:>6} {clients:>7} {'bad' if broken else 'ok':>4}  {one:8.3f} "
                f"{two:8.3f}  {estimate:14.3f}  {one / estimate:11.2f}x | {two / estimate:.2f}x"
            )


if __name__ == "__main__":
    main()
