"""Histories: the values the linearizability checker reads, a recorder, and a JSON Lines format.

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

JSON Lines history format, version 1 (``write_jsonl`` / ``read_jsonl``).  UTF-8, one JSON
object per line, blank lines ignored.  The first line is a header::

    {"format": "claimcheck-history", "version": 1, "model": "cas-register"}

Every further line is one event, in the order they happened::

    {"kind": "invoke", "client": 2, "op_id": 7, "time": 10, "input": {"type": "RegGet", "key": "a"}}
    {"kind": "ok", "client": 2, "op_id": 7, "time": 12, "output": {"type": "RegValue", "value": null, "version": 0}}
    {"kind": "fail", "client": 2, "op_id": 8, "time": 15}
    {"kind": "unknown", "client": 3, "op_id": 9}

``client`` is an int or a string, ``op_id`` an int unique within the file, ``time`` an int or
a float (absent or null on ``unknown``).  Each ``op_id`` has exactly one ``invoke`` and at most
one ending event (``ok``, ``fail`` or ``unknown``) from the same client, no earlier than the
invoke; an operation with no ending event has an unknown outcome.  Inputs and outputs are
attrs values encoded as objects whose ``"type"`` names the class and whose other members are
its fields (nested values the same way, tuples as arrays).  Decoding looks the class name up in
``value_types`` (default: every input and output class of ``models``).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final, Generic, Literal, TypeVar

import attrs

from models._register import VALUE_TYPES

__all__ = [
    "DEFAULT_VALUE_TYPES",
    "HISTORY_FORMAT",
    "HISTORY_FORMAT_VERSION",
    "HistoryEvent",
    "HistoryFormatError",
    "HistoryMisuse",
    "HistoryRecorder",
    "JsonlHistory",
    "OpHandle",
    "Operation",
    "Outcome",
    "Time",
    "decode_value",
    "encode_value",
    "events_from_operations",
    "read_jsonl",
    "write_jsonl",
]

InputT = TypeVar("InputT")
OutputT = TypeVar("OutputT")

Time = int | float
Outcome = Literal["ok", "fail", "unknown"]
EventKind = Literal["invoke", "ok", "fail", "unknown"]

HISTORY_FORMAT: Final = "claimcheck-history"
HISTORY_FORMAT_VERSION: Final = 1
DEFAULT_VALUE_TYPES: Final[tuple[type, ...]] = VALUE_TYPES

_OUTCOMES: Final = ("ok", "fail", "unknown")
_KINDS: Final = ("invoke", "ok", "fail", "unknown")
_OUTCOME_OF: Final[dict[str, Outcome]] = {"ok": "ok", "fail": "fail", "unknown": "unknown"}


class HistoryMisuse(ValueError):
    """A history value or recorder call that cannot be right (a precise message says which)."""


class HistoryFormatError(ValueError):
    """A history file that cannot be read; names the file and the 1-based line."""

    def __init__(self, path: str | os.PathLike[str], line: int, message: str) -> None:
        self.path = os.fspath(path)
        self.line = line
        self.message = message
        super().__init__(f"{self.path}:{line}: {message}")


def _is_time(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_time(name: str, value: object) -> None:
    if not _is_time(value):
        raise HistoryMisuse(
            f"{name} must be a finite int or float (a logical step or a monotonic reading), "
            f"got {value!r} ({type(value).__name__})."
        )


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
        _check_time("Operation.call", self.call)
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
        _check_time("Operation.return_", self.return_)
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
        _check_time(f"{what}(time=...)", time)
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


def events_from_operations(operations: Iterable[Operation[Any, Any]]) -> list[HistoryEvent]:
    """The event sequence of a list of operations (op ids are list positions), in time order."""
    keyed: list[tuple[float, int, int, HistoryEvent]] = []
    for op_id, op in enumerate(operations):
        # Order: time, then invokes before endings (closed intervals), then op id; unknown last.
        keyed.append(
            (
                op.call,
                0,
                op_id,
                HistoryEvent(
                    kind="invoke", client=op.client_id, op_id=op_id, time=op.call, input=op.input
                ),
            )
        )
        end_time = math.inf if op.return_ is None else op.return_
        keyed.append(
            (
                end_time,
                1,
                op_id,
                HistoryEvent(
                    kind=op.outcome,
                    client=op.client_id,
                    op_id=op_id,
                    time=op.return_,
                    output=op.output,
                ),
            )
        )
    keyed.sort(key=lambda k: k[:3])
    return [k[3] for k in keyed]


# --------------------------------------------------------------------------------------------
# Value codec


def encode_value(value: object) -> Any:
    """A JSON-ready rendering of an input/output value (see the module docstring)."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise HistoryMisuse(f"cannot encode the non-finite float {value!r} in a history.")
        return value
    if isinstance(value, tuple | list):
        return [encode_value(v) for v in value]
    cls = type(value)
    if attrs.has(cls):
        encoded: dict[str, Any] = {"type": cls.__name__}
        for field in attrs.fields(cls):
            if field.name == "type":
                raise HistoryMisuse(
                    f"{cls.__name__} has a field named 'type', which the history codec "
                    "reserves for the class name; rename the field."
                )
            encoded[field.name] = encode_value(getattr(value, field.name))
        return encoded
    raise HistoryMisuse(
        f"cannot encode {value!r} ({type(value).__name__}) in a history: use None, bool, int, "
        "float, str, tuples of those, or attrs values made of them."
    )


def decode_value(obj: object, types: Mapping[str, type]) -> Any:
    """The inverse of :func:`encode_value`; raises ``ValueError`` with a precise message."""
    if obj is None or isinstance(obj, str | bool | int | float):
        return obj
    if isinstance(obj, list):
        return tuple(decode_value(v, types) for v in obj)
    if isinstance(obj, dict):
        name = obj.get("type")
        if not isinstance(name, str):
            raise ValueError(f'a value object needs a "type" naming its class, got {obj!r}')
        cls = types.get(name)
        if cls is None:
            raise ValueError(
                f"unknown value type {name!r}; known types: {', '.join(sorted(types))}"
            )
        fields = {k: decode_value(v, types) for k, v in obj.items() if k != "type"}
        try:
            return cls(**fields)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"cannot build {name} from {fields!r}: {exc}") from None
    raise ValueError(f"cannot decode {obj!r} ({type(obj).__name__}) as a value")


# --------------------------------------------------------------------------------------------
# JSON Lines


@attrs.frozen(kw_only=True)
class JsonlHistory:
    """A history file as read: its header's model name, its events, and its operations."""

    path: str
    model: str
    events: tuple[HistoryEvent, ...]
    operations: tuple[Operation[Any, Any], ...]


def _event_json(event: HistoryEvent) -> dict[str, Any]:
    line: dict[str, Any] = {"kind": event.kind, "client": event.client, "op_id": event.op_id}
    if event.kind != "unknown" or event.time is not None:
        line["time"] = event.time
    if event.kind == "invoke":
        line["input"] = encode_value(event.input)
        if not isinstance(line["input"], dict):
            raise HistoryMisuse(
                f"an input must be an attrs value (encoded as a JSON object), got {event.input!r}."
            )
    elif event.kind == "ok":
        line["output"] = encode_value(event.output)
        if not isinstance(line["output"], dict):
            raise HistoryMisuse(
                f"an output must be an attrs value (encoded as a JSON object), got {event.output!r}."
            )
    return line


def write_jsonl(
    path: str | os.PathLike[str],
    history: Sequence[HistoryEvent] | Sequence[Operation[Any, Any]],
    *,
    model: str,
) -> None:
    """Write ``history`` (events, or operations) to ``path`` in the JSON Lines format above."""
    if not isinstance(model, str) or not model:
        raise HistoryMisuse(f"model must name the model (e.g. 'cas-register'), got {model!r}.")
    events: list[HistoryEvent] = []
    ops: list[Operation[Any, Any]] = []
    for item in history:
        if isinstance(item, HistoryEvent):
            events.append(item)
        elif isinstance(item, Operation):
            ops.append(item)
        else:
            raise HistoryMisuse(
                f"write_jsonl() takes HistoryEvents or Operations, got {item!r} "
                f"({type(item).__name__})."
            )
    if events and ops:
        raise HistoryMisuse("write_jsonl() takes events or operations, not a mix of both.")
    if ops:
        events = events_from_operations(ops)
    header = {"format": HISTORY_FORMAT, "version": HISTORY_FORMAT_VERSION, "model": model}
    lines = [json.dumps(header)]
    lines.extend(json.dumps(_event_json(e), allow_nan=False) for e in events)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")


def _field(
    path: str, lineno: int, obj: dict[str, Any], name: str, check: Callable[[Any], bool], want: str
) -> Any:
    if name not in obj:
        raise HistoryFormatError(
            path, lineno, f'missing "{name}" ({want}) in {obj.get("kind")!r} event'
        )
    value = obj[name]
    if not check(value):
        raise HistoryFormatError(
            path, lineno, f'"{name}" must be {want}, got {value!r} ({type(value).__name__})'
        )
    return value


def _is_client(v: object) -> bool:
    return isinstance(v, int | str) and not isinstance(v, bool)


def _is_op_id(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def read_jsonl(
    path: str | os.PathLike[str], *, value_types: Iterable[type] = DEFAULT_VALUE_TYPES
) -> JsonlHistory:
    """Read a JSON Lines history; raises :class:`HistoryFormatError` naming file and line."""
    spath = os.fspath(path)
    types = {cls.__name__: cls for cls in value_types}
    header: dict[str, Any] | None = None
    events: list[HistoryEvent] = []
    invoked: dict[int, tuple[int, HistoryEvent]] = {}  # op_id -> (line, invoke event)
    ended: dict[int, tuple[int, HistoryEvent]] = {}
    with open(spath, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, start=1):
            text = raw.strip()
            if not text:
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                raise HistoryFormatError(spath, lineno, f"not valid JSON: {exc.msg}") from None
            if not isinstance(obj, dict):
                raise HistoryFormatError(
                    spath, lineno, f"expected a JSON object, got {type(obj).__name__}"
                )
            if header is None:
                if obj.get("format") != HISTORY_FORMAT:
                    raise HistoryFormatError(
                        spath,
                        lineno,
                        f'the first line must be the header {{"format": "{HISTORY_FORMAT}", '
                        f'"version": {HISTORY_FORMAT_VERSION}, "model": ...}}, got {text[:80]}',
                    )
                if obj.get("version") != HISTORY_FORMAT_VERSION:
                    raise HistoryFormatError(
                        spath,
                        lineno,
                        f"unsupported history format version {obj.get('version')!r}; this "
                        f"reader understands version {HISTORY_FORMAT_VERSION}",
                    )
                if not isinstance(obj.get("model"), str) or not obj["model"]:
                    raise HistoryFormatError(
                        spath,
                        lineno,
                        f'the header needs "model": a model name, got {obj.get("model")!r}',
                    )
                header = obj
                continue
            events.append(_parse_event(spath, lineno, obj, types, invoked, ended))
    if header is None:
        raise HistoryFormatError(spath, 1, "empty file: no header line")
    ops: list[Operation[Any, Any]] = []
    for op_id, (_, inv) in invoked.items():
        end = ended.get(op_id)
        if end is None:
            ops.append(
                Operation(
                    client_id=inv.client,
                    input=inv.input,
                    output=None,
                    call=_time(inv),
                    return_=None,
                    outcome="unknown",
                )
            )
            continue
        end_line, ev = end
        try:
            ops.append(
                Operation(
                    client_id=inv.client,
                    input=inv.input,
                    output=ev.output,
                    call=_time(inv),
                    return_=ev.time,
                    outcome=_OUTCOME_OF[ev.kind],
                )
            )
        except HistoryMisuse as exc:
            raise HistoryFormatError(spath, end_line, str(exc)) from None
    return JsonlHistory(
        path=spath, model=header["model"], events=tuple(events), operations=tuple(ops)
    )


def _time(event: HistoryEvent) -> Time:
    assert event.time is not None
    return event.time


def _parse_event(
    path: str,
    lineno: int,
    obj: dict[str, Any],
    types: Mapping[str, type],
    invoked: dict[int, tuple[int, HistoryEvent]],
    ended: dict[int, tuple[int, HistoryEvent]],
) -> HistoryEvent:
    kind = obj.get("kind")
    if kind not in _KINDS:
        raise HistoryFormatError(
            path, lineno, f'"kind" must be one of {", ".join(_KINDS)}, got {kind!r}'
        )
    client = _field(path, lineno, obj, "client", _is_client, "an int or a string")
    op_id = _field(path, lineno, obj, "op_id", _is_op_id, "an int")
    time: Time | None
    if kind == "unknown" and obj.get("time") is None:
        time = None
    else:
        time = _field(path, lineno, obj, "time", _is_time, "a finite number")
    if kind == "invoke":
        if op_id in invoked:
            raise HistoryFormatError(
                path, lineno, f"op_id {op_id} is invoked twice (first on line {invoked[op_id][0]})"
            )
        raw_input = _field(path, lineno, obj, "input", lambda v: isinstance(v, dict), "an object")
        try:
            value = decode_value(raw_input, types)
        except ValueError as exc:
            raise HistoryFormatError(path, lineno, f"input: {exc}") from None
        event = HistoryEvent(kind="invoke", client=client, op_id=op_id, time=time, input=value)
        invoked[op_id] = (lineno, event)
        return event
    start = invoked.get(op_id)
    if start is None:
        raise HistoryFormatError(
            path, lineno, f"{kind} for op_id {op_id}, which has not been invoked (yet)"
        )
    if op_id in ended:
        raise HistoryFormatError(
            path, lineno, f"op_id {op_id} ends twice (first on line {ended[op_id][0]})"
        )
    if start[1].client != client:
        raise HistoryFormatError(
            path,
            lineno,
            f"op_id {op_id} was invoked by client {start[1].client!r} (line {start[0]}) but "
            f"ends for client {client!r}",
        )
    start_time = _time(start[1])
    if time is not None and time < start_time:
        raise HistoryFormatError(
            path,
            lineno,
            f"time {time!r} is before op_id {op_id}'s invoke at {start_time!r} (line {start[0]})",
        )
    output: Any = None
    if kind == "ok":
        raw_output = _field(path, lineno, obj, "output", lambda v: isinstance(v, dict), "an object")
        try:
            output = decode_value(raw_output, types)
        except ValueError as exc:
            raise HistoryFormatError(path, lineno, f"output: {exc}") from None
    event = HistoryEvent(kind=kind, client=client, op_id=op_id, time=time, output=output)
    ended[op_id] = (lineno, event)
    return event
