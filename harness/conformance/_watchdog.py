"""The watchdog: user code (a check, the store factory) runs in a daemon thread, and a call
that does not return in time is reported as a hang that names it.

A :class:`Watch` knows every store operation in flight, not one: under true concurrency a
dozen calls run at once, and the one that hangs is rarely the last one to start.  A hang names
each operation still in flight and what the check had done so far (its ``progress``).

The stuck threads are abandoned: the check's thread is a daemon, and so are trio's worker
threads, so none of them keeps the process alive, and the command that started them still ends
with its own verdict and exit code.
"""

from __future__ import annotations

import collections
import itertools
import threading
import time
from collections.abc import Callable
from typing import Any
from typing import TypeVar

from .._findings import Finding

__all__ = ["DEFAULT_TIMEOUT", "Hang", "Watch", "watched", "within"]

T = TypeVar("T")

#: Seconds a store operation (or the store factory) may take before it counts as hung.
DEFAULT_TIMEOUT = 10.0

#: How often the waiting thread looks at the clock (seconds).
_POLL = 0.05


class Hang(Finding):
    """An operation did not return within the per-operation timeout (a finding, not a crash)."""


class Watch:
    """The operations in flight, and since when; shared by every thread a check starts.

    ``start`` / ``finish`` bracket one call of user code.  ``progress`` is the check's own word
    on where it is ("endurance: 733 operations done"), added to a hang's message.  The watch
    also keeps the mean duration of finished operations: the suite runs schedules on several
    stores at once only when the backend spends its time waiting.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight: dict[int, tuple[str, float]] = {}
        self._ids = itertools.count()
        self.progress: str | None = None
        self.finished = 0
        self.busy_seconds = 0.0

    def start(self, what: str) -> int:
        """Note that ``what`` began now; returns the ticket for :meth:`finish`."""
        ticket = next(self._ids)
        with self._lock:
            self._in_flight[ticket] = (what, time.monotonic())
        return ticket

    def finish(self, ticket: int) -> None:
        with self._lock:
            entry = self._in_flight.pop(ticket, None)
            if entry is not None:
                self.finished += 1
                self.busy_seconds += time.monotonic() - entry[1]

    def mean_seconds(self) -> float:
        """Mean duration of the operations finished so far (0.0 before the first)."""
        with self._lock:
            return self.busy_seconds / self.finished if self.finished else 0.0

    def overdue(self, timeout: float) -> str | None:
        """A hang's message when the oldest call in flight has run longer than ``timeout``."""
        now = time.monotonic()
        with self._lock:
            in_flight = sorted(self._in_flight.values(), key=lambda entry: entry[1])
        if not in_flight or now - in_flight[0][1] <= timeout:
            return None
        oldest = in_flight[0][0]
        counts = collections.Counter(what for what, _ in in_flight)
        named = ", ".join(what if n == 1 else f"{what} x{n}" for what, n in counts.items())
        others = (
            f"; {len(in_flight)} operations were in flight: {named}" if len(in_flight) > 1 else ""
        )
        progress = f" ({self.progress})" if self.progress else ""
        return (
            f"{oldest} did not return within {timeout:g} s (hung){others}{progress}; the check "
            "was abandoned. A store must answer or raise within the per-operation timeout."
        )


def watched(fn: Callable[[], T], watch: Watch, timeout: float) -> T:
    """Run ``fn`` in a daemon thread; raise :class:`Hang` if any operation that ``watch`` sees
    in flight exceeds ``timeout`` seconds."""
    return _in_daemon_thread(fn, lambda: watch.overdue(timeout))


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
        thread.join(_POLL)
        if thread.is_alive():
            late = overdue()
            if late is not None:
                raise Hang(late)
    if "error" in box:
        error: BaseException = box.pop("error")
        raise error
    value: T = box["value"]
    return value
