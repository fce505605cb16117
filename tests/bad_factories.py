"""Store factories that are bad input, not broken backends: each is usable as
``claimcheck conformance tests.bad_factories:<name>`` and must end in exit 2, naming itself.

Factories that misbehave only after a first good call (a finding, exit 1) are made fresh per
test by :func:`good_once_then`, since they count their calls.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

from stores import Doc
from stores import MemoryStore
from stores import Store


def needs_an_argument(url: str) -> Store:
    """Bad: takes a required argument, so the suite cannot call it."""
    return MemoryStore()


def raises() -> Store:
    """Bad: raises on its first call."""
    raise RuntimeError("no config file at /etc/mystore.toml")


def exits() -> Store:
    """Bad: ends the process instead of returning a store."""
    sys.exit(7)


def hangs() -> Store:
    """Bad: never returns (a connect without a timeout)."""
    threading.Event().wait()
    raise AssertionError("unreachable")


def returns_none() -> Store:
    """Bad: forgets to return the store it made."""
    MemoryStore()
    return None  # type: ignore[return-value]


def returns_an_int() -> Store:
    return 42  # type: ignore[return-value]


class HalfAStore:
    """Has two of the six operations."""

    async def create(self, id: str, partition_key: str, body: object) -> Doc:
        raise NotImplementedError

    async def get(self, id: str, partition_key: str) -> Doc | None:
        return None


def returns_half_a_store() -> Store:
    return HalfAStore()  # type: ignore[return-value]


def returns_the_class() -> Store:
    return MemoryStore  # type: ignore[return-value]


async def is_async() -> Store:
    return MemoryStore()


def good_once_then(bad: Callable[[], Store]) -> Callable[[], Store]:
    """A factory whose first call makes a MemoryStore and whose later calls are ``bad()``."""
    calls = 0

    def make() -> Store:
        nonlocal calls
        calls += 1
        return MemoryStore() if calls == 1 else bad()

    return make


#: Makes one store, then hangs: for subprocess tests only (it counts calls per process).
hangs_after_first_call = good_once_then(hangs)
