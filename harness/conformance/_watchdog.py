"""The watchdog: user code (a check, the store factory) runs in a daemon thread, and a call
that does not return in time is reported as a hang that names it.

The stuck thread is abandoned: it is a daemon, so it never keeps the process alive, and the
command that started it still ends with its own verdict and exit code.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from typing import TypeVar

__all__ = ["DEFAULT_TIMEOUT", "Hang", "Watch", "watched", "within"]

from .._findings import Finding

T = TypeVar("T")

#: Seconds a store operation (or the store factory) may take before it counts as hung.
DEFAULT_TIMEOUT = 10.0


class Hang(Finding):
    """An operation did not return within the per-operation timeout (a finding, not a crash)."""


class Watch:
    """What operation is in flight, and since when (for the hang watchdog)."""

    def __init__(self) -> None:
        self.current: tuple[str, float] | None = None


def watched(fn: Callable[[], T], watch: Watch, timeout: float) -> T:
    """Run ``fn`` in a daemon thread; raise :class:`Hang` if one operation exceeds ``timeout``."""

    def overdue() -> str | None:
        current = watch.current
        if current is None or time.monotonic() - current[1] <= timeout:
            return None
        return (
            f"{current[0]} did not return within {timeout:g} s (hung); the check was "
            "abandoned. A store must answer or raise within the per-operation timeout."
        )

    return _in_daemon_thread(fn, overdue)


def within(fn: Callable[[], T], timeout: float, what: str) -> T:
    """``fn()``, run in a daemon thread; :class:`Hang` naming ``what`` if it takes longer than
    ``timeout`` seconds.  Whatever ``fn`` raises (``SystemExit`` included) is re-raised here."""
    started = time.monotonic()

    def overdue() -> str | None:
        if time.monotonic() - started <= timeout:
            return None
        return f"{what} did not return within {timeout:g} s (hung)"

    return _in_daemon_thread(fn, overdue)


def _in_daemon_thread(fn: Callable[[], T], overdue: Callable[[], str | None]) -> T:
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as error:  # handed to the caller's thread below
            box["error"] = error

    thread = threading.Thread(target=target, daemon=True, name="claimcheck-conformance")
    thread.start()
    while thread.is_alive():
        thread.join(0.05)
        if thread.is_alive():
            late = overdue()
            if late is not None:
                raise Hang(late)
    if "error" in box:
        error: BaseException = box.pop("error")
        raise error
    value: T = box["value"]
    return value
