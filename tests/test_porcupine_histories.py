"""Porcupine's own test histories: the checker must reach exactly Porcupine's verdict on each.

The data lives outside the repository, in ``shared/histories/porcupine`` next to it (see its
README).  If it is missing, every test here fails with a message saying where it was looked
for: a conformance suite that skips itself proves nothing.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from harness.check import Operation
from harness.check import _driver
from harness.check import _search
from harness.check import check_operations
from harness.check import read_porcupine_etcd
from harness.check import read_porcupine_kv
from harness.check._search import PartitionSearch
from models import EtcdRegisterModel
from models import KvModel
from models import Model

DATA = Path(__file__).resolve().parents[2] / "shared" / "histories" / "porcupine"
EXPECTED = DATA / "expected.tsv"
MISSING = (
    f"Porcupine's histories are missing: expected {EXPECTED} (and jepsen/, kv/ beside it). "
    "They live outside the repository, in shared/histories/porcupine next to it; restore "
    "that directory to run this suite."
)
#: Generous: the slowest file takes well under a second.  Running out fails the test.
TIMEOUT = 120.0


def _expected() -> list[tuple[str, str]]:
    if not EXPECTED.is_file():
        return []
    rows = []
    for number, line in enumerate(EXPECTED.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        path, sep, verdict = line.partition("\t")
        assert sep, f"{EXPECTED}:{number}: expected 'path<TAB>verdict', got {line!r}"
        rows.append((path, verdict))
    return rows


ROWS = _expected()


def test_the_suite_is_complete() -> None:
    assert EXPECTED.is_file(), MISSING
    assert len(ROWS) == 108, f"{EXPECTED} lists {len(ROWS)} histories, expected 108"
    listed = {path for path, _ in ROWS}
    on_disk = {
        p.relative_to(DATA).as_posix() for p in [*DATA.glob("jepsen/*.log"), *DATA.glob("kv/*.txt")]
    }
    assert listed == on_disk, (
        f"expected.tsv and the files disagree: unlisted {sorted(on_disk - listed)}, "
        f"missing {sorted(listed - on_disk)}"
    )
    assert sum(p.startswith("jepsen/") for p in listed) == 102
    assert {v for _, v in ROWS} == {"linearizable", "not-linearizable"}


@pytest.mark.parametrize(
    ("path", "verdict"), ROWS or [("<missing>", "")], ids=[p for p, _ in ROWS] or ["missing"]
)
def test_porcupine_verdict(path: str, verdict: str) -> None:
    assert EXPECTED.is_file(), MISSING
    ops: list[Operation[Any, Any]]
    model: Model[Any, Any, Any]
    if path.startswith("jepsen/"):
        ops, model = read_porcupine_etcd(DATA / path), EtcdRegisterModel()
    elif path.startswith("kv/"):
        ops, model = read_porcupine_kv(DATA / path), KvModel()
    else:
        pytest.fail(f"{EXPECTED}: unexpected path {path!r} (neither jepsen/ nor kv/)")
    result = check_operations(model, ops, timeout=TIMEOUT)
    want = {"linearizable": "linearizable", "not-linearizable": "not_linearizable"}[verdict]
    assert result.verdict == want, f"{path}: {result.explanation}"
    if want == "not_linearizable":
        assert result.violation is not None
        assert result.violation.explanation


@pytest.mark.parametrize("path", [p for p, _ in ROWS if p.startswith("kv/")] or ["missing"])
@pytest.mark.parametrize("search", ["python", "default"])
@pytest.mark.parametrize("workers", [1, 2])
def test_kv_verdicts_are_the_same_from_the_python_search_and_across_processes(
    path: str, search: str, workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The default is the mypyc build when ``make`` made one from this very _search.py; the
    # Python search must reach the same verdicts, in one process or several.
    assert EXPECTED.is_file(), MISSING
    if search == "python":
        monkeypatch.setattr(_driver, "_LOADED", [("python", PartitionSearch)])
    want = dict(ROWS)[path].replace("-", "_")
    ops = read_porcupine_kv(DATA / path)
    assert check_operations(KvModel(), ops, timeout=TIMEOUT, workers=workers).verdict == want


def test_the_compiled_search_is_used_only_when_built_from_this_source(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # ``make`` builds it; a checkout without a compiler runs the Python search (same verdicts).
    assert _driver.search_implementation() in ("compiled", "python")
    crc = zlib.crc32(Path(_search.__file__).read_bytes())

    def built(crc32: int) -> Any:
        class Build:
            SOURCE_CRC32 = crc32
            PartitionSearch = object

        return lambda name: Build

    monkeypatch.delenv("CLAIMCHECK_PURE_PYTHON", raising=False)
    monkeypatch.setattr(_driver, "importlib", SimpleNamespace(import_module=built(crc)))
    assert _driver._load_search()[0] == "compiled"
    edited = SimpleNamespace(import_module=built(crc + 1))  # _search.py changed since the build
    monkeypatch.setattr(_driver, "importlib", edited)
    assert _driver._load_search() == ("python", PartitionSearch)
    monkeypatch.setenv("CLAIMCHECK_PURE_PYTHON", "1")
    monkeypatch.setattr(_driver, "importlib", SimpleNamespace(import_module=built(crc)))
    assert _driver._load_search() == ("python", PartitionSearch)
