"""The JSON Lines history format: ``write_jsonl`` and ``read_jsonl``.

JSON Lines history format, version 1 (``write_jsonl`` / ``read_jsonl``).  UTF-8, one JSON
object per line, blank lines ignored.  The first line is a header::

    {"format": "claimcheck-history", "version": 1, "model": "cas-register", "initial": 0}

``"initial"`` (optional) is the model's initial state, as JSON: ``0`` for a register that
starts at 0, ``{"x": 0, "y": 0}`` for a multi-register; which values a model takes is the
caller's to check (``claimcheck check-history`` does).  Every further line is one event, in the order they happened::

    {"kind": "invoke", "client": 2, "op_id": 7, "time": 10, "input": {"type": "RegGet", "key": "a"}}
    {"kind": "ok", "client": 2, "op_id": 7, "time": 12, "output": {"type": "RegValue", "value": null, "version": 0}}
    {"kind": "fail", "client": 2, "op_id": 8, "time": 15}
    {"kind": "unknown", "client": 3, "op_id": 9}

``client`` is an int or a printable string, ``op_id`` an int unique within the file, ``time``
an int or a float within a float's range (absent or null on ``unknown``).  Each ``op_id`` has
exactly one ``invoke`` and at most one ending event (``ok``, ``fail`` or ``unknown``) from the
same client, no earlier than the invoke; an operation with no ending event has an unknown
outcome.  A client is sequential: it invokes again only after its previous operation's ending
event (``unknown`` included: the outcome stays unknown, but the client has given up waiting).
Inputs and outputs are attrs values encoded as objects whose ``"type"`` names the class and
whose other members are its fields (nested values the same way, tuples as arrays), each
checked against the field's annotation.  Decoding looks the class name up in ``value_types``
(default: every input and output class of ``models``).

Whether the values suit the header's model (a ``RegGet`` is not an operation of the etcd
register) is for the caller to check: ``JsonlHistory.lines`` says where each event was.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import Final

import attrs

from ._codec import DEFAULT_VALUE_TYPES
from ._codec import decode_value
from ._codec import encode_value
from ._operation import HistoryEvent
from ._operation import HistoryFormatError
from ._operation import HistoryMisuse
from ._operation import Operation
from ._operation import Outcome
from ._operation import Time
from ._operation import events_from_operations
from ._operation import is_time
from ._operation import show

__all__ = ["HISTORY_FORMAT", "HISTORY_FORMAT_VERSION", "JsonlHistory", "read_jsonl", "write_jsonl"]

HISTORY_FORMAT: Final = "claimcheck-history"
HISTORY_FORMAT_VERSION: Final = 1

_KINDS: Final = ("invoke", "ok", "fail", "unknown")
_OUTCOME_OF: Final[dict[str, Outcome]] = {"ok": "ok", "fail": "fail", "unknown": "unknown"}


@attrs.frozen(kw_only=True)
class JsonlHistory:
    """A history file as read: its header's model name, its events, and its operations.

    ``lines[i]`` is the 1-based line of ``events[i]``, and ``model_line`` the header's, so that
    a caller checking the values against a model can name the line at fault.  ``initial`` is
    ``(value,)`` when the header gives an initial state (the JSON value as read), else ``()``.
    """

    path: str
    model: str
    model_line: int = 1
    initial: tuple[()] | tuple[object] = ()
    events: tuple[HistoryEvent, ...]
    lines: tuple[int, ...] = ()
    operations: tuple[Operation[Any, Any], ...]


def _event_json(event: HistoryEvent) -> dict[str, Any]:
    line: dict[str, Any] = {"kind": event.kind, "client": event.client, "op_id": event.op_id}
    if event.kind != "unknown":
        line["time"] = event.time
    elif event.time is not None:
        raise HistoryMisuse(
            f"an 'unknown' event returns at infinity and has no time, got time={event.time!r} "
            f"for op {event.op_id}."
        )
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
    initial: object = None,
) -> None:
    """Write ``history`` (events, or operations) to ``path`` in the JSON Lines format above.

    ``initial`` (JSON-ready: numbers, strings, lists, objects) goes in the header unless it is
    ``None``, every model's default.
    """
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
    _check_sequential_clients(events)
    header: dict[str, Any] = {
        "format": HISTORY_FORMAT,
        "version": HISTORY_FORMAT_VERSION,
        "model": model,
    }
    if initial is not None:
        header["initial"] = initial
    try:
        lines = [json.dumps(header, allow_nan=False)]
    except (TypeError, ValueError) as exc:
        raise HistoryMisuse(f"initial must be a JSON value, got {initial!r}: {exc}.") from None
    lines.extend(json.dumps(_event_json(e), allow_nan=False) for e in events)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")


def _check_sequential_clients(events: Sequence[HistoryEvent]) -> None:
    # read_jsonl refuses a client that overlaps itself; refuse to write what cannot be read.
    busy: dict[int | str, int] = {}
    for event in events:
        if event.kind == "invoke":
            if event.client in busy:
                raise HistoryMisuse(
                    f"client {event.client!r} invokes op {event.op_id} while its op "
                    f"{busy[event.client]} has not ended; a client is sequential. Give "
                    "concurrent calls distinct client ids."
                )
            busy[event.client] = event.op_id
        elif busy.get(event.client) == event.op_id:
            del busy[event.client]


def _field(
    path: str, lineno: int, obj: dict[str, Any], name: str, check: Callable[[Any], bool], want: str
) -> Any:
    if name not in obj:
        raise HistoryFormatError(
            path, lineno, f'missing "{name}" ({want}) in {show(obj.get("kind"))} event'
        )
    value = obj[name]
    if not check(value):
        raise HistoryFormatError(
            path, lineno, f'"{name}" must be {want}, got {show(value)} ({type(value).__name__})'
        )
    return value


def _is_client(v: object) -> bool:
    # Printable: explanations print a client's name as it is ("client w2's read()"), so a
    # line break or a lone surrogate ("\ud800", which no terminal can encode) would break them.
    if isinstance(v, str):
        return v.isprintable()
    return isinstance(v, int) and not isinstance(v, bool)


def _is_op_id(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def read_jsonl(
    path: str | os.PathLike[str], *, value_types: Iterable[type] = DEFAULT_VALUE_TYPES
) -> JsonlHistory:
    """Read a JSON Lines history; raises :class:`HistoryFormatError` naming file and line."""
    spath = os.fspath(path)
    types = {cls.__name__: cls for cls in value_types}
    header: dict[str, Any] | None = None
    header_line = 1
    events: list[HistoryEvent] = []
    lines: list[int] = []
    invoked: dict[int, tuple[int, HistoryEvent]] = {}  # op_id -> (line, invoke event)
    ended: dict[int, tuple[int, HistoryEvent]] = {}
    busy: dict[int | str, int] = {}  # client -> op_id of its operation not yet ended
    with open(spath, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, start=1):
            text = raw.strip()
            if not text:
                continue
            obj = _parse_json(spath, lineno, text)
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
                        f'"version": {HISTORY_FORMAT_VERSION}, "model": ...}}, got {show(text)}',
                    )
                version = obj.get("version")
                # ``type(...) is int``: JSON's 1.0 and true are equal to 1 in Python, not in JSON.
                if type(version) is not int or version != HISTORY_FORMAT_VERSION:
                    raise HistoryFormatError(
                        spath,
                        lineno,
                        f"unsupported history format version {show(version)}; this "
                        f"reader understands version {HISTORY_FORMAT_VERSION}",
                    )
                if not isinstance(obj.get("model"), str) or not obj["model"]:
                    raise HistoryFormatError(
                        spath,
                        lineno,
                        f'the header needs "model": a model name, got {show(obj.get("model"))}',
                    )
                header = obj
                header_line = lineno
                continue
            events.append(_parse_event(spath, lineno, obj, types, invoked, ended, busy))
            lines.append(lineno)
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
        path=spath,
        model=header["model"],
        model_line=header_line,
        initial=(header["initial"],) if "initial" in header else (),
        events=tuple(events),
        lines=tuple(lines),
        operations=tuple(ops),
    )


def _parse_json(path: str, lineno: int, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise HistoryFormatError(path, lineno, f"not valid JSON: {exc.msg}") from None
    except RecursionError:
        # The decoder recurses once per nesting level; a line of 100,000 "[" exhausts the
        # stack before it is found to be malformed.
        raise HistoryFormatError(
            path, lineno, "JSON nested too deeply to read (arrays or objects inside each other)"
        ) from None
    except ValueError as exc:
        # Python refuses to parse an integer of more than 4300 digits (int_max_str_digits),
        # a guard against quadratic-time conversion; the JSON is fine, the number is not.
        limit = sys.get_int_max_str_digits()
        if "digits" not in str(exc):
            raise HistoryFormatError(path, lineno, f"unreadable JSON: {exc}") from None
        raise HistoryFormatError(
            path,
            lineno,
            f"an integer has more than {limit} digits, more than Python will read; no "
            "history needs such a number",
        ) from None


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
    busy: dict[int | str, int],
) -> HistoryEvent:
    kind = obj.get("kind")
    if kind not in _KINDS:
        raise HistoryFormatError(
            path, lineno, f'"kind" must be one of {", ".join(_KINDS)}, got {show(kind)}'
        )
    client = _field(path, lineno, obj, "client", _is_client, "an int or a printable string")
    op_id = _field(path, lineno, obj, "op_id", _is_op_id, "an int")
    time: Time | None
    if kind == "unknown":
        if obj.get("time") is not None:
            raise HistoryFormatError(
                path,
                lineno,
                f'an "unknown" event has no "time" (its outcome returns at infinity), got '
                f'"time": {show(obj["time"])}; drop "time", or make the event "ok" or "fail" '
                "if the call did return",
            )
        time = None
    else:
        time = _field(path, lineno, obj, "time", is_time, "a finite number (within +-1.8e308)")
    if kind == "invoke":
        if op_id in invoked:
            raise HistoryFormatError(
                path, lineno, f"op_id {op_id} is invoked twice (first on line {invoked[op_id][0]})"
            )
        if client in busy:
            first = invoked[busy[client]][0]
            raise HistoryFormatError(
                path,
                lineno,
                f"client {show(client)} invokes op_id {op_id} while its op_id {busy[client]} (line "
                f"{first}) has not ended; a client is sequential: end the first (ok, fail or "
                "unknown) or give concurrent calls distinct clients",
            )
        raw_input = _field(path, lineno, obj, "input", lambda v: isinstance(v, dict), "an object")
        try:
            value = decode_value(raw_input, types)
        except ValueError as exc:
            raise HistoryFormatError(path, lineno, f"input: {exc}") from None
        event = HistoryEvent(kind="invoke", client=client, op_id=op_id, time=time, input=value)
        invoked[op_id] = (lineno, event)
        busy[client] = op_id
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
    del busy[client]
    return event
