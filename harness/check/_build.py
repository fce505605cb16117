"""Compile the checker's hot loop with mypyc: ``python -m harness.check._build`` (``make`` runs it).

Writes ``harness/check/_search_c.*.so`` from a copy of ``_search.py`` that records the copy's
source checksum (``SOURCE_CRC32``); ``_driver`` loads the build only while that checksum matches
``_search.py``, so an edit without a rebuild falls back to Python instead of running stale
code.  Without mypyc or a C compiler it says so and exits 0: the Python search is the same
algorithm, just slower.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

__all__ = ["main"]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def main() -> int:
    source = (HERE / "_search.py").read_bytes()
    digest = zlib.crc32(source)
    mypyc = shutil.which(
        "mypyc",
        path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    )
    if mypyc is None:
        print("claimcheck: note: mypyc not found; the checker runs its Python search")
        return 0
    copy = HERE / "_search_c.py"
    copy.write_bytes(source + f"\n\nSOURCE_CRC32 = {digest}\n".encode())
    try:
        done = subprocess.run(
            [mypyc, str(copy.relative_to(ROOT))],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        copy.unlink()
    if done.returncode != 0:
        print(
            "claimcheck: note: mypyc could not build the checker's search (the Python one "
            f"runs instead):\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )
        return 0
    print(f"built harness/check/_search_c from _search.py (crc32 {digest:08x})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
