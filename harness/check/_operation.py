"""Operations and events: the values the linearizability checker reads.

An :class:`Operation` is one call as a client saw it: what it asked (``input``), when it asked
(``call``), how it ended (``outcome``), and if it returned, when and with what (``return_``,
``output``).  Three outcomes:

``"ok"``
    The call returned ``output`` at ``return_``; it took effect exactly once, somewhere in
    ``[call, return_]``.
``"fail"``
    The call definitely did not take effect (the store said so).  The checker drops it.
``"unknown"``
    The caller never learned (timeout, crash, cancelled).  The operation "returns at
    infinity": it may have taken effect at any point after ``call``, or never.  ``output`` and
    ``return_`` are ``None``.

Time is whatever the caller supplies -- a logical step (int) or a monotonic float -- and only
its order matters.  Intervals are closed: an operation that returns at ``t`` and one that is
called at ``t`` are concurrent (Porcupine's rule: at equal times, calls sort before returns).

Errors: :class:`HistoryMisuse` for a value or call that cannot be right,
:class:`HistoryFormatError` for a history file that cannot be read.
"""

from __future__ import annotations

import math
import os
import reprlib
from collections.abc import Iterable
from typing import Any
from typing import Final
from typing import Generic
from typing import Literal
from typing import TypeVar

import attrs

__all__ = [
    "EventKind",
    "HistoryEvent",
    "HistoryFormatError",
    "HistoryMisuse",
    "Operation",
    "Outcome",
    "Time",
    "check_time",
    "events_from_operations",
    "is_time",
    "show",
]

InputT = TypeVar("InputT")
OutputT = TypeVar("OutputT")

Time = int | float
Outcome = Literal["ok", "fail", "unknown"]
EventKind = Literal["invoke", "ok", "fail", "unknown"]

_OUTCOMES: Final = ("ok", "fail", "unknown")


class HistoryMisuse(ValueError):
    """A history value or recorder call that cannot be right (a precise message says which)."""


class HistoryFormatError(ValueError):
    """A history file that cannot be read; names the file and the 1-based line."""

    def __init__(self, path: str | os.PathLike[str], line: int, message: str) -> None:
        self.path = os.fspath(path)
        self.line = line
        self.message = message
        super().__init__(f"{self.path}:{line}: {message}")


def is_time(value: object) -> bool:
    """Whether ``value`` can be a time: an int or float (not a bool) that is a finite float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        # An int beyond a float's range (10**400) overflows here; it would also overflow where
        # the checker prints times (``:g``), so it is refused with the non-finite floats.
        return math.isfinite(value)
    except OverflowError:
        return False


def check_time(name: str, value: object) -> None:
    if not is_time(value):
        raise HistoryMisuse(
            f"{name} must be a finite int or float within a float's range (a logical step or "
            f"a monotonic reading), got {show(value)} ({type(value).__name__})."
        )


_SHOW: Final = reprlib.Repr()
_SHOW.maxlevel = 4
_SHOW.maxstring = 60
_SHOW.maxlong = 40
_SHOW.maxother = 60


def show(value: object) -> str:
    """``repr(value)``, shortened: a message about a hostile value stays one readable line."""
    # reprlib cuts long strings and numbers and stops at a few levels of nesting, so even a
    # value nested a thousand deep is shown without recursing into all of it.
    try:
        return _SHOW.repr(value)
    except ValueError:
        # Only an int of more than 4300 digits gets here (Python refuses to print those).
        assert isinstance(value, int)
        return f"<an int of {value.bit_length()} bits>"


@attrs.frozen(kw_only=True)
class Operation(Generic[InputT, OutputT]):
    """One call as its client saw it; see the module docstring for the three outcomes.

    Invariants (checked on construction): ``outcome`` is ``"ok"``, ``"fail"`` or ``"unknown"``;
    ``ok`` has an ``output`` (never ``None``: ``None`` means "unknown" to a model) and a
    ``return_ >= call``; ``unknown`` has neither; ``fail`` has no ``output``.
    """

    client_id: int | str
    input: InputT
    output: OutputT | None
    call: Time
    return_: Time | None
    outcome: Outcome

    def __attrs_post_init__(self) -> None:
        check_time("Operation.call", self.call)
        if self.outcome not in _OUTCOMES:
            raise HistoryMisuse(
                f"Operation.outcome must be one of {_OUTCOMES}, got {self.outcome!r}."
            )
        if self.outcome == "unknown":
            if self.output is not None or self.return_ is not None:
                raise HistoryMisuse(
                    "an Operation with outcome 'unknown' returns at infinity: pass output=None "
                    f"and return_=None, got output={self.output!r}, return_={self.return_!r}."
                )
            return
        check_time("Operation.return_", self.return_)
        assert self.return_ is not None
        if self.return_ < self.call:
            raise HistoryMisuse(
                f"Operation.return_ ({self.return_!r}) is before its call ({self.call!r}); "
                "times must come from one monotonic source."
            )
        if self.outcome == "ok" and self.output is None:
            raise HistoryMisuse(
                "an Operation with outcome 'ok' needs an output; None is reserved for unknown "
                "outcomes. Give the result a value class (e.g. EtcdValue(value=None))."
            )
        if self.outcome == "fail" and self.output is not None:
            raise HistoryMisuse(
                f"an Operation with outcome 'fail' has no output, got {self.output!r}; a call "
                "that returned a result (even a negative one) has outcome 'ok'."
            )


@attrs.frozen(kw_only=True)
class HistoryEvent:
    """One line of a recorded history: an invoke, or how an invoked operation ended."""

    kind: EventKind
    client: int | str
    op_id: int
    time: Time | None = None
    input: Any = None
    output: Any = None


def events_from_operations(operations: Iterable[Operation[Any, Any]]) -> list[HistoryEvent]:
    """The event sequence of a list of operations (op ids are list positions), in time order.

    Only the times carry meaning (a reader rebuilds each operation from its own events'
    times); the order among equal times is chosen so that a sequential client reads as
    sequential, which ``read_jsonl`` insists on: at one instant, first the endings of
    operations called earlier, then each operation that ends where it starts (its invoke
    and ending together), then the other invokes.  An ``unknown`` ending counts as ending
    where it starts: its outcome still returns at infinity (the event has no time), but the
    client is free again, as after ``HistoryRecorder.unknown``.
    """
    keyed: list[tuple[Time, int, int, int, HistoryEvent]] = []
    for op_id, op in enumerate(operations):
        invoke = HistoryEvent(
            kind="invoke", client=op.client_id, op_id=op_id, time=op.call, input=op.input
        )
        end = HistoryEvent(
            kind=op.outcome, client=op.client_id, op_id=op_id, time=op.return_, output=op.output
        )
        if op.return_ is None or op.return_ == op.call:
            # Same key for both: the stable sort keeps the ending right after its invoke.
            keyed.append((op.call, 1, 0, op_id, invoke))
            keyed.append((op.call, 1, 0, op_id, end))
        else:
            keyed.append((op.call, 1, 1, op_id, invoke))
            keyed.append((op.return_, 0, 0, op_id, end))
    keyed.sort(key=lambda k: k[:4])
    return [k[4] for k in keyed]
