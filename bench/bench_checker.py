"""Linearizability checker benchmark on Porcupine's own histories.

1. All 102 Jepsen etcd histories, checked one after the other: seconds per pass, every verdict
   asserted against ``expected.tsv``.  Reference: Porcupine (Go) about 0.75 s per pass on a
   2-core machine (slowest file etcd_002.log, about 0.28 s).  Target: under 1.5 s.
2. Porcupine's six kv histories.  Published references (Porcupine checks partitions on both
   cores): c50-ok 0.25 s, c50-bad 0.04 s; none for c01 and c10.  Target: at or below 1.0x.
   claimcheck is measured on one core (``workers=1``, CPU time of the process) and with two
   worker processes (``workers=2``, wall time), so that the figure comparable with
   Porcupine's (both cores) stands beside the single-core one.

Go is not installed here and Porcupine cannot be built, so the references are Porcupine's
published figures (``shared/histories/porcupine/README.md``), not measured in this run.
Reading the files is timed apart and not counted.  Which search ran (the mypyc build or the
Python one) is printed.  Run: ``.venv/bin/python bench/bench_checker.py`` (or ``make
bench``).  Best of 5 passes.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from harness.check import Operation
from harness.check import check_operations
from harness.check import read_porcupine_etcd
from harness.check import read_porcupine_kv
from harness.check._driver import search_implementation
from models import EtcdRegisterModel
from models import KvModel

DATA = Path(__file__).resolve().parents[2] / "shared" / "histories" / "porcupine"
PASSES = 5
ETCD_REFERENCE = 0.75
ETCD_TARGET = 1.5
KV_FILES = ("c01-ok", "c01-bad", "c10-ok", "c10-bad", "c50-ok", "c50-bad")
KV_REFERENCE = {"c50-ok": 0.25, "c50-bad": 0.04}


def expected() -> dict[str, str]:
    rows = {}
    for line in (DATA / "expected.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip():
            path, _, verdict = line.partition("\t")
            rows[path] = "linearizable" if verdict == "linearizable" else "not_linearizable"
    return rows


def timed(
    model: Any, ops: list[Operation[Any, Any]], want: str, name: str, *, workers: int = 1
) -> float:
    """Seconds for one check: CPU time on one core, wall time across processes."""
    clock = time.process_time if workers == 1 else time.perf_counter
    start = clock()
    result = check_operations(model, ops, workers=workers)
    elapsed = clock() - start
    assert result.verdict == want, f"{name}: got {result.verdict}, expected {want}"
    return elapsed


def main() -> None:
    if not (DATA / "expected.tsv").is_file():
        sys.exit(f"Porcupine's histories are missing: expected {DATA / 'expected.tsv'}")
    verdicts = expected()
    start = time.perf_counter()
    etcd = {
        path: read_porcupine_etcd(DATA / path) for path in sorted(verdicts) if "jepsen/" in path
    }
    kv = {name: read_porcupine_kv(DATA / "kv" / f"{name}.txt") for name in KV_FILES}
    reading = time.perf_counter() - start
    assert len(etcd) == 102, f"expected 102 etcd histories, found {len(etcd)}"

    passes = []
    slowest: dict[str, float] = {}
    for _ in range(PASSES):
        total = 0.0
        for path, ops in etcd.items():
            took = timed(EtcdRegisterModel(), ops, verdicts[path], path)
            slowest[path] = min(slowest.get(path, took), took)
            total += took
        passes.append(total)
    etcd_best = min(passes)
    worst_file = max(slowest, key=slowest.__getitem__)
    print(f"Porcupine histories ({DATA}); reading took {reading:.2f} s, not counted")
    print(f"search: {search_implementation()}; references are Porcupine's published figures")
    print(f"all 102 etcd histories, one core, best of {PASSES} passes (every verdict checked)")
    print(
        f"  claimcheck  {etcd_best:7.3f} s   Porcupine (Go) ~{ETCD_REFERENCE:.2f} s   "
        f"ratio {etcd_best / ETCD_REFERENCE:.2f}x   target < {ETCD_TARGET} s: "
        f"{'met' if etcd_best < ETCD_TARGET else 'MISSED'}"
    )
    print(f"  passes: {', '.join(f'{p:.3f}' for p in passes)}")
    print(
        f"  slowest file {worst_file} {slowest[worst_file]:.3f} s "
        "(Porcupine's slowest: etcd_002.log ~0.28 s)"
    )
    print(f"kv histories, best of {PASSES}: one core (CPU) | two processes (wall)")
    for name in KV_FILES:
        want = verdicts[f"kv/{name}.txt"]
        one = min(timed(KvModel(), kv[name], want, name) for _ in range(PASSES))
        two = min(timed(KvModel(), kv[name], want, name, workers=2) for _ in range(PASSES))
        reference = KV_REFERENCE.get(name)
        versus = (
            f"Porcupine (Go) ~{reference:.2f} s   ratio {one / reference:.2f}x | "
            f"{two / reference:.2f}x   target <= 1.0x: "
            f"{'met' if min(one, two) <= reference else 'MISSED'}"
            if reference
            else "no published Porcupine figure"
        )
        print(f"  {name:<8} {one:7.3f} s | {two:7.3f} s   {versus}   ({want})")


if __name__ == "__main__":
    main()
