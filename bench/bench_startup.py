"""How fast ``claimcheck`` starts: ``--help`` and ``check-history`` on one small file.

Each command runs as a fresh process, as a user would run it; the figure is the best of
``RUNS`` wall-clock times, with the CPU time of that run beside it.  The reference is
``python -c pass`` with the same interpreter, measured in the same run: what no command can
go below.  Target: under 100 ms.  Run: ``.venv/bin/python bench/bench_startup.py``.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 15
TARGET = 0.100
EDN = ROOT / "tests" / "data" / "knossos" / "history-a.edn"


def measure(argv: list[str]) -> tuple[float, float]:
    """Best wall time of ``RUNS`` runs, and the CPU time (user + system) of that run."""
    best = (float("inf"), 0.0)
    for _ in range(RUNS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        best = min(best, (wall, cpu))
    return best


def main() -> None:
    claimcheck = str(Path(sys.executable).with_name("claimcheck"))
    with tempfile.TemporaryDirectory() as tmp:
        jsonl = os.path.join(tmp, "small.jsonl")
        subprocess.run(
            [claimcheck, "gen-history", jsonl, "--ops", "20", "--clients", "3"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        rows = [
            ("python -c pass (reference)", [sys.executable, "-c", "pass"]),
            ("claimcheck --help", [claimcheck, "--help"]),
            ("claimcheck check-history small.jsonl", [claimcheck, "check-history", jsonl]),
            (
                "claimcheck check-history --format jepsen-edn history-a.edn",
                [claimcheck, "check-history", "--format", "jepsen-edn", "--initial", "0", str(EDN)],
            ),
        ]
        print(
            f"startup, best of {RUNS} runs (wall; CPU of that run); target < {TARGET * 1000:.0f} ms"
        )
        reference = 0.0
        for label, argv in rows:
            wall, cpu = measure(argv)
            if not reference:
                reference = wall
                verdict = ""
            else:
                verdict = "met" if wall < TARGET else "MISSED"
                verdict = f"  +{(wall - reference) * 1000:5.1f} ms over python  target {verdict}"
            print(f"  {label:<58} {wall * 1000:6.1f} ms  (CPU {cpu * 1000:5.1f} ms){verdict}")


if __name__ == "__main__":
    main()
