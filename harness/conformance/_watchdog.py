"""The watchdog: a check runs in a daemon thread, and an operation that does not return in
time is reported as a hang that names it (the stuck thread is abandoned)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from typing import TypeVar

__all__ = ["Hang", "Watch", "watched"]

from .._findings import Finding

T = TypeVar("T")


class Hang(Finding):
    """An operation did not return within the per-operation timeout (a finding, not a crash)."""


class Watch:
    """What operation is in flight, and since when (for the hang watchdog)."""

    def __init__(self) -> None:
        self.current: tuple[str, float] | None = None


def watched(fn: Callable[[], T], watch: Watch, timeout: float) -> T:
    """Run ``fn`` in a daemon thread; raise :class:`Hang` if one operation exceeds ``timeout``."""
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
        current = watch.current
        if current is not None and time.monotonic() - current[1] > timeout:
            raise Hang(
                f"{current[0]} did not return within {timeout:g} s (hung); the check was "
                "abandoned. A store must answer or raise within the per-operation timeout."
            )
    if "error" in box:
        raise box["error"]
    value: T = box["value"]
    return value
