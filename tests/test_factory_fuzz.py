"""Fuzzing store factories: user code that misbehaves ends in a documented exit code.

Seeded cases combine *when* a factory misbehaves (on its first call, or on a later one) with
*how* (raising some exception, calling ``sys.exit`` with some code, returning something that is
not a store).  ``claimcheck conformance`` must answer 1 (a finding: the backend made a store,
then failed), 2 (bad input: no store was ever made, one line on stderr) or, for an ``OSError``
(a backend that cannot be reached), 3; never 0, never an internal error or a traceback, and
always end.
"""

from __future__ import annotations

import contextlib
import io
import random
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from stores import MemoryStore
from stores import Store

MODULE = "claimcheck_fuzzed_factories"
CASES = 24
ERRORS: tuple[type[BaseException], ...] = (
    TypeError,
    ValueError,
    KeyError,
    RuntimeError,
    OSError,
    ConnectionError,
    AttributeError,
    NotImplementedError,
)
GARBAGE: tuple[Any, ...] = (None, 0, 42, "store", b"", [], {}, (), object(), MemoryStore, 1.5)


def _misbehave(rng: random.Random) -> tuple[str, Callable[[], Any], bool]:
    how = rng.choice(["raise", "exit", "garbage"])
    if how == "raise":
        error = rng.choice(ERRORS)

        def act() -> Any:
            raise error("injected by the fuzz test")

        return f"raises {error.__name__}", act, issubclass(error, OSError)
    if how == "exit":
        code = rng.choice([0, 1, 2, 3, 5, 7, 127, None, "bye"])

        def act() -> Any:
            sys.exit(code)

        return f"sys.exit({code!r})", act, False
    value = rng.choice(GARBAGE)
    return f"returns {value!r}", lambda: value, False


def _factory(first_good: bool, act: Callable[[], Any]) -> Callable[[], Store]:
    calls = 0

    def make() -> Store:
        nonlocal calls
        calls += 1
        if first_good and calls == 1:
            return MemoryStore()
        result: Store = act()
        return result

    return make


@pytest.mark.parametrize("case", range(CASES))
def test_every_misbehaving_factory_ends_in_a_documented_exit_code(
    case: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(case)
    first_good = rng.random() < 0.5
    what, act, unreachable = _misbehave(rng)
    module = types.ModuleType(MODULE)
    module.make = _factory(first_good, act)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, MODULE, module)
    out, err = io.StringIO(), io.StringIO()
    argv = ["conformance", f"{MODULE}:make", "--budget", "5", "--timeout", "2"]
    with contextlib.redirect_stderr(err):
        code = main([*argv, "--report-dir", str(tmp_path)], out=out)
    text = err.getvalue()
    story = f"case {case}: first call {'good' if first_good else 'bad'}, then {what}"
    expected = 3 if unreachable else 1 if first_good else 2
    assert code == expected, (story, code, out.getvalue(), text)
    assert "Traceback" not in text + out.getvalue(), story
    assert "internal error" not in text, (story, text)
    if code == 2:
        assert text.count("\n") == 1, (story, text)
        assert f"{MODULE}:make" in text, (story, text)
