"""Sequential checks as small cases, one fresh store each, with a program as reproducer.

A case is an ``async`` function of a store that makes its calls one at a time and asserts what
the contract promises; it returns how many assertions it made.  Each case runs on its own
store (so cases run side by side on a slow backend) and the store records a transcript of its
calls: when a case fails, its transcript becomes a short Python program that makes the same
calls on a fresh store, ending at the one that broke the promise.
"""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Coroutine
from collections.abc import Sequence
from typing import Any

import attrs

from stores import Store

from .._findings import Finding
from ..runtime import drive
from ._parallel import Pool
from ._stores import Keeper
from ._validator import Transcript

__all__ = ["Case", "CaseFailed", "expect", "expect_raises", "program", "run_cases", "scribble"]

#: One case: makes its calls on the store and returns the number of assertions it made.
Case = Callable[[Store], Coroutine[Any, Any, int]]


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


async def expect_raises(error: type[BaseException], call: Awaitable[object], message: str) -> None:
    """Await ``call``, which must raise ``error``; else fail with ``message``."""
    try:
        await call
    except error:
        return
    raise AssertionError(message)


class CaseFailed(Finding):
    """A case broke a promise of the contract; ``program`` replays its calls."""

    def __init__(self, message: str, program: tuple[str, ...]) -> None:
        super().__init__(message)
        self.program = program


@attrs.frozen(kw_only=True)
class Ran:
    cases: int
    assertions: int


def run_cases(keeper: Keeper, pool: Pool, cases: Sequence[tuple[str, Case]]) -> Ran:
    """Run each case on a fresh store; raise :class:`CaseFailed` for the first that fails."""

    def one(named: tuple[str, Case]) -> int:
        name, case = named
        transcript: Transcript = []
        with keeper.opened(transcript) as store:
            try:
                count: int = drive(case(store))
            except AssertionError as error:
                raise CaseFailed(f"{name}: {error}", program(transcript, str(error))) from None
        return count

    counts = pool.map(one, cases)
    return Ran(cases=len(cases), assertions=sum(counts))


def program(transcript: Transcript, failure: str) -> tuple[str, ...]:
    """The calls of ``transcript`` as lines of Python, with what each gave as a comment.

    ``make_store`` stands for the factory; tokens are the ones this run saw (a store with
    deterministic tokens replays them exactly).
    """
    lines = ["import trio", "from stores import Expected", "store = make_store()"]
    for call, outcome in transcript:
        name, _, args = call.partition("(")
        shown = outcome if len(outcome) <= 100 else outcome[:97] + "..."
        lines.append(f"trio.run(store.{name}, {args[:-1]})  # -> {shown}")
    lines.append(f"# the contract broken: {failure}")
    return tuple(lines)


def scribble(value: Any) -> int:
    """Try to change ``value`` and everything in it, as a careless caller would; the number
    of changes Python allowed."""
    changed = 0
    if isinstance(value, dict):
        for item in list(value.values()):
            changed += scribble(item)
        value["scribbled"] = True
        changed += 1
    elif isinstance(value, list):
        for item in list(value):
            changed += scribble(item)
        value.append("scribbled")
        changed += 1
    elif hasattr(value, "values"):  # a read-only mapping: its values may still be mutable
        for item in list(value.values()):
            changed += scribble(item)
    return changed
