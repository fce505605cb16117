"""The history recorder: what clients invoked and how each call ended, as it happens."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from ._operation import HistoryEvent
from ._operation import HistoryMisuse
from ._operation import Operation
from ._operation import Outcome
from ._operation import Time
from ._operation import check_time

__all__ = ["HistoryRecorder", "OpHandle"]


@attrs.frozen(kw_only=True)
class OpHandle:
    """What :meth:`HistoryRecorder.invoke` returns; pass it to ``ok`` / ``fail`` / ``unknown``."""

    op_id: int
    client_id: int | str


@attrs.frozen(kw_only=True)
class _Pending:
    client_id: int | str
    input: Any
    call: Time


def _check_client(client_id: object) -> None:
    if isinstance(client_id, bool) or not isinstance(client_id, int | str):
        raise HistoryMisuse(
            f"client_id must be an int or a str, got {client_id!r} ({type(client_id).__name__})."
        )


@attrs.define(eq=False)
class HistoryRecorder:
    """Records what clients invoked and how each call ended, for the linearizability checker.

    Callers: whatever drives clients against a store (the harness runtime, a trio test).  Call
    :meth:`invoke` just before a request is issued and :meth:`ok` / :meth:`fail` /
    :meth:`unknown` just after its outcome is known, each with the current time -- a logical
    step or a monotonic float.  The recorder never reads a clock itself unless it was given one
    (``clock=``), because the caller owns time (and a controlled runtime uses logical steps).

    Each client is sequential: it may have one operation in flight.  An operation cannot end
    before it was invoked.  Events of different clients may be recorded slightly out of time
    order (a clock read, then a task switch, then the record): only the times count.  Misuse
    raises :class:`HistoryMisuse` at the call that made it, and leaves the recorder unchanged.
    """

    clock: Callable[[], Time] | None = None
    _events: list[HistoryEvent] = attrs.field(factory=list, init=False)
    _pending: dict[int, _Pending] = attrs.field(factory=dict, init=False)
    _busy: dict[int | str, int] = attrs.field(factory=dict, init=False)
    _done: dict[int, Operation[Any, Any]] = attrs.field(factory=dict, init=False)
    _next_id: int = attrs.field(default=0, init=False)

    def _now(self, time: Time | None, what: str) -> Time:
        if time is None:
            if self.clock is None:
                raise HistoryMisuse(
                    f"{what} needs time=... (a logical step or monotonic reading) because this "
                    "recorder has no clock; pass time= or create HistoryRecorder(clock=...)."
                )
            time = self.clock()
        check_time(f"{what}(time=...)", time)
        return time

    def _pending_of(self, handle: OpHandle, what: str) -> _Pending:
        if not isinstance(handle, OpHandle):
            raise HistoryMisuse(
                f"{what}() takes the handle invoke() returned, got {handle!r} "
                f"({type(handle).__name__})."
            )
        pending = self._pending.get(handle.op_id)
        if pending is None:
            raise HistoryMisuse(
                f"{what}() for operation {handle.op_id} of client {handle.client_id!r}, which "
                "has already ended (or was never invoked on this recorder)."
            )
        return pending

    def _end_time(self, pending: _Pending, time: Time | None, what: str) -> Time:
        now = self._now(time, what)
        if now < pending.call:
            raise HistoryMisuse(
                f"{what}(time={now!r}) is before the operation's invoke at {pending.call!r}; "
                "times must come from one monotonic source."
            )
        return now

    def invoke(self, client_id: int | str, input: Any, *, time: Time | None = None) -> OpHandle:
        """Record that ``client_id`` issued ``input`` at ``time``; returns the operation's handle."""
        _check_client(client_id)
        if input is None:
            raise HistoryMisuse("invoke() needs an input value, got None.")
        if client_id in self._busy:
            raise HistoryMisuse(
                f"client {client_id!r} invoked {input!r} while its operation "
                f"{self._busy[client_id]} is still in flight; a client is sequential. End the "
                "first with ok/fail/unknown, or use a new client id (as Jepsen does)."
            )
        now = self._now(time, "invoke")
        op_id = self._next_id
        self._next_id += 1
        self._pending[op_id] = _Pending(client_id=client_id, input=input, call=now)
        self._busy[client_id] = op_id
        self._events.append(
            HistoryEvent(kind="invoke", client=client_id, op_id=op_id, time=now, input=input)
        )
        return OpHandle(op_id=op_id, client_id=client_id)

    def ok(self, handle: OpHandle, output: Any, *, time: Time | None = None) -> None:
        """Record that the operation returned ``output`` (never ``None``) at ``time``."""
        if output is None:
            raise HistoryMisuse(
                "ok() needs an output value; None is reserved for unknown outcomes. Use "
                "unknown(handle) if the result was lost."
            )
        pending = self._pending_of(handle, "ok")
        self._finish(handle, pending, "ok", output, self._end_time(pending, time, "ok"))

    def fail(self, handle: OpHandle, *, time: Time | None = None) -> None:
        """Record that the operation definitely did not take effect."""
        pending = self._pending_of(handle, "fail")
        self._finish(handle, pending, "fail", None, self._end_time(pending, time, "fail"))

    def unknown(self, handle: OpHandle) -> None:
        """Record that the operation's outcome will never be known (it returns at infinity)."""
        pending = self._pending_of(handle, "unknown")
        self._finish(handle, pending, "unknown", None, None)

    def _finish(
        self, handle: OpHandle, pending: _Pending, outcome: Outcome, output: Any, now: Time | None
    ) -> None:
        del self._pending[handle.op_id]
        del self._busy[pending.client_id]
        self._done[handle.op_id] = Operation(
            client_id=pending.client_id,
            input=pending.input,
            output=output,
            call=pending.call,
            return_=now,
            outcome=outcome,
        )
        self._events.append(
            HistoryEvent(
                kind=outcome, client=pending.client_id, op_id=handle.op_id, time=now, output=output
            )
        )

    @property
    def events(self) -> tuple[HistoryEvent, ...]:
        """Every event so far, in the order recorded (what :func:`write_jsonl` writes)."""
        return tuple(self._events)

    def operations(self) -> list[Operation[Any, Any]]:
        """The history so far, in invoke order; operations still in flight count as unknown."""
        ops: list[Operation[Any, Any]] = []
        for op_id in range(self._next_id):
            done = self._done.get(op_id)
            if done is None:
                pending = self._pending[op_id]
                done = Operation(
                    client_id=pending.client_id,
                    input=pending.input,
                    output=None,
                    call=pending.call,
                    return_=None,
                    outcome="unknown",
                )
            ops.append(done)
        return ops
