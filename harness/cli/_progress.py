"""The status line ``claimcheck run`` shows on a terminal while it works."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

__all__ = ["Progress", "StatusStream"]


class StatusStream(Protocol):
    """Where ``Progress`` writes: ``sys.stderr``, or a test double."""

    def write(self, text: str, /) -> object: ...
    def flush(self) -> object: ...
    def isatty(self) -> bool: ...


class Progress:
    """One status line on a terminal, rewritten in place: ``checks 12/46, schedules 5,300,
    findings 3``.

    On a TTY each ``update`` rewrites the line with ``\\r`` (and pads over a longer previous
    line); ``close()`` wipes it so that what is printed next starts on a clean line.  On
    anything else (a pipe, a file, a CI log) it writes nothing at all: a log should hold
    results, not hundreds of status lines.  Updates that only move the schedule count are
    drawn at most once per ``interval`` seconds (``clock`` is injectable for tests); a change
    in checks done or findings is always drawn.  Use as a context manager, or call ``close()``.
    """

    def __init__(
        self,
        stream: StatusStream,
        total: int,
        *,
        interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not isinstance(total, int) or total < 0:
            raise ValueError(
                f"Progress(total=...) must be the number of checks, a whole number >= 0; "
                f"got {total!r} ({type(total).__name__})"
            )
        self.stream = stream
        self.total = total
        self.checks_done = 0
        self.schedules = 0
        self.findings = 0
        self.enabled = bool(stream.isatty())
        self._interval = interval
        self._clock = clock
        self._drawn_at: float | None = None
        self._width = 0
        self._closed = False

    def status(self) -> str:
        return (
            f"checks {self.checks_done}/{self.total}, schedules {self.schedules:,}, "
            f"findings {self.findings}"
        )

    def update(
        self,
        *,
        checks_done: int | None = None,
        schedules: int | None = None,
        findings: int | None = None,
    ) -> None:
        """Set the counts given (absolute values, not increments) and redraw on a TTY."""
        changed = (checks_done is not None and checks_done != self.checks_done) or (
            findings is not None and findings != self.findings
        )
        if checks_done is not None:
            self.checks_done = checks_done
        if schedules is not None:
            self.schedules = schedules
        if findings is not None:
            self.findings = findings
        if not self.enabled or self._closed:
            return
        now = self._clock()
        if changed or self._drawn_at is None or now - self._drawn_at >= self._interval:
            self._drawn_at = now
            line = self.status()
            self.stream.write("\r" + line + " " * max(0, self._width - len(line)))
            self.stream.flush()
            self._width = len(line)

    def close(self) -> None:
        """Wipe the status line (on a TTY); later updates are ignored.  Idempotent."""
        if self.enabled and not self._closed and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
        self._closed = True

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
