"""A reader of EDN (Clojure's data notation), as Jepsen and Knossos write histories.

Why not ``edn_format`` from PyPI: a history reader must name the line of every operation it
refuses, and ``edn_format`` reports no positions (its errors give a character offset at best,
"EOF Reached" at worst); it also takes about 50 ms to import (PLY builds its tables) and
70 us a line, and accepts a map with a key twice.  EDN is small enough to read exactly here.

What a value becomes: ``nil`` None, ``true``/``false`` bool, integers int (``N`` suffix
allowed), decimals float (``M`` allowed), ratios ``Fraction``, strings and characters str,
keywords str without the colon (``:x`` is ``"x"``, ``:a/b`` is ``"a/b"``), other symbols str,
vectors and lists tuple, sets frozenset, maps dict.  A tagged value (``#inst "..."``,
``#jepsen.history.Op{...}``) is read as the value, the tag dropped; ``#_`` discards the next
value; ``;`` starts a comment; commas are blanks.

Errors raise :class:`HistoryFormatError` naming the file and line.
"""

from __future__ import annotations

import re
import sys
from typing import Any
from typing import Final
from typing import NamedTuple

from ._operation import HistoryFormatError
from ._operation import show

__all__ = ["MAX_EDN_DEPTH", "EdnForm", "read_edn"]

#: How deep collections may nest.  Jepsen's deepest (an exception's stack inside an operation)
#: is under 10; the limit keeps a hostile file from costing more than its size.
MAX_EDN_DEPTH: Final = 100

_DELIMS: Final = r"\s,;()\[\]{}\"\\"
_TOKEN: Final = re.compile(
    rf"""
    (?P<blank>[\s,]+)
    | (?P<comment>;[^\n]*)
    | (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<open>[\[({{]|\#\{{)
    | (?P<close>[\])}}])
    | (?P<discard>\#_)
    | (?P<tag>\#[A-Za-z][^{_DELIMS}]*)
    | (?P<char>\\(?:newline|return|space|tab|formfeed|backspace|u[0-9A-Fa-f]{{4}}|[^\s]))
    | (?P<number>[+-]?\d[^{_DELIMS}]*)
    | (?P<keyword>:[^{_DELIMS}:][^{_DELIMS}]*)
    | (?P<symbol>[^{_DELIMS}\#:\d][^{_DELIMS}]*)
    """,
    re.VERBOSE,
)
_INT: Final = re.compile(r"[+-]?\d+N?")
_FLOAT: Final = re.compile(r"[+-]?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?M?")
_RATIO: Final = re.compile(r"([+-]?\d+)/(\d+)")
_ESCAPE: Final = re.compile(r"\\(u[0-9A-Fa-f]{4}|.)", re.DOTALL)
_ESCAPES: Final = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "b": "\b", "f": "\f"}
_CHARS: Final = {
    "newline": "\n",
    "return": "\r",
    "space": " ",
    "tab": "\t",
    "formfeed": "\f",
    "backspace": "\b",
}
_CLOSER: Final = {"[": "]", "(": ")", "{": "}", "#{": "}"}
_SYMBOLS: Final[dict[str, Any]] = {"nil": None, "true": True, "false": False}


class EdnForm(NamedTuple):
    """A top-level value, the line it starts on, and the lines its elements start on.

    ``item_lines`` is empty unless the value is a vector or list (a history written as one
    vector of operations names each operation's line through it).
    """

    line: int
    value: Any
    item_lines: tuple[int, ...]


class _Discard:
    """Marks that the next value is dropped (``#_``)."""


class _Frame:
    """A collection being read: its opening token, where it started, what it holds so far."""

    __slots__ = ("items", "line", "lines", "opener", "pending")

    def __init__(self, opener: str, line: int) -> None:
        self.opener = opener
        self.line = line
        self.items: list[Any] = []
        self.lines: list[int] = []
        # Tags and discards waiting for their value, innermost last.
        self.pending: list[tuple[object, int]] = []


_DISCARD: Final = _Discard()
_TAG: Final = object()


def _unescape(path: str, line: int, body: str) -> str:
    def one(m: re.Match[str]) -> str:
        code = m[1]
        if len(code) == 5:
            return chr(int(code[1:], 16))
        if code not in _ESCAPES:
            raise HistoryFormatError(path, line, f"unknown escape \\{code} in a string")
        return _ESCAPES[code]

    return _ESCAPE.sub(one, body) if "\\" in body else body


def _number(path: str, line: int, text: str) -> Any:
    try:
        if _INT.fullmatch(text):
            return int(text.rstrip("N"))
        if _FLOAT.fullmatch(text):
            return float(text.rstrip("M"))
        m = _RATIO.fullmatch(text)
        if m is not None and int(m[2]) != 0:
            from fractions import Fraction  # rare: not worth its import on every start

            return Fraction(int(m[1]), int(m[2]))
    except ValueError:
        # Python refuses to convert an integer of more than 4300 digits (a guard against
        # quadratic time): the number is the problem, not the EDN.
        raise HistoryFormatError(
            path,
            line,
            f"a number has more than the {sys.get_int_max_str_digits()} digits Python will "
            "read; no history needs such a number",
        ) from None
    raise HistoryFormatError(path, line, f"malformed number {show(text)}")


def _build(path: str, frame: _Frame) -> Any:
    if frame.pending:
        raise HistoryFormatError(path, frame.pending[-1][1], "a tag or #_ with no value after it")
    items = frame.items
    if frame.opener in ("[", "("):
        return tuple(items)
    if frame.opener == "#{":
        try:
            return frozenset(items)
        except TypeError:
            raise HistoryFormatError(
                path, frame.line, "a set holds a map, which this reader cannot put in a set"
            ) from None
    if len(items) % 2:
        raise HistoryFormatError(
            path, frame.line, f"a map needs a value for every key, got {len(items)} elements"
        )
    result: dict[Any, Any] = {}
    for i in range(0, len(items), 2):
        key = items[i]
        try:
            if key in result:
                raise HistoryFormatError(
                    path,
                    frame.lines[i],
                    f"the map from line {frame.line} has key {show(key)} twice",
                )
        except TypeError:
            raise HistoryFormatError(
                path, frame.lines[i], f"a map key must not be a map, got {show(key)}"
            ) from None
        result[key] = items[i + 1]
    return result


def _add(path: str, frame: _Frame, value: Any, line: int) -> None:
    """Put a finished value into its collection, after the tags and discards waiting for it."""
    while frame.pending:
        marker, _ = frame.pending.pop()
        if marker is _DISCARD:
            return
    frame.items.append(value)
    frame.lines.append(line)


def read_edn(path: str, text: str) -> list[EdnForm]:
    """Every top-level value of ``text`` (read from ``path``), with the line it starts on."""
    top = _Frame("", 1)
    stack = [top]
    item_lines: dict[int, tuple[int, ...]] = {}  # top-level index -> its elements' lines
    line = 1
    pos = 0
    end = len(text)
    match = _TOKEN.match
    while pos < end:
        m = match(text, pos)
        if m is None:
            what = "an unterminated string" if text[pos] == '"' else f"{show(text[pos])}"
            raise HistoryFormatError(path, line, f"cannot read EDN at {what}")
        kind = m.lastgroup
        token = m[0]
        pos = m.end()
        frame = stack[-1]
        if kind == "blank":
            line += token.count("\n")
        elif kind == "comment":
            pass
        elif kind == "open":
            if len(stack) > MAX_EDN_DEPTH:
                raise HistoryFormatError(
                    path, line, f"EDN nested more than {MAX_EDN_DEPTH} levels deep"
                )
            stack.append(_Frame(token, line))
        elif kind == "close":
            if len(stack) == 1 or _CLOSER[frame.opener] != token:
                raise HistoryFormatError(path, line, f"unexpected {token!r}")
            stack.pop()
            value = _build(path, frame)
            parent = stack[-1]
            if parent is top and frame.opener in ("[", "("):
                item_lines[len(top.items)] = tuple(frame.lines)
            _add(path, parent, value, frame.line)
        elif kind == "discard":
            frame.pending.append((_DISCARD, line))
        elif kind == "tag":
            frame.pending.append((_TAG, line))
        elif kind == "string":
            _add(path, frame, _unescape(path, line, token[1:-1]), line)
            line += token.count("\n")
        elif kind == "keyword":
            _add(path, frame, token[1:], line)
        elif kind == "number":
            _add(path, frame, _number(path, line, token), line)
        elif kind == "char":
            name = token[1:]
            value = _CHARS.get(name, name if len(name) == 1 else chr(int(name[1:], 16)))
            _add(path, frame, value, line)
        else:
            _add(path, frame, _SYMBOLS.get(token, token), line)
    if len(stack) > 1:
        frame = stack[-1]
        raise HistoryFormatError(
            path, frame.line, f"{frame.opener!r} is never closed (the file ends first)"
        )
    if top.pending:
        raise HistoryFormatError(path, top.pending[-1][1], "a tag or #_ with no value after it")
    return [
        EdnForm(line, value, item_lines.get(i, ()))
        for i, (value, line) in enumerate(zip(top.items, top.lines, strict=True))
    ]
