"""The compact, versioned encoding of a schedule: what a user pastes to replay a run.

Format ``cc1.<scenario>.<store>.<size>.<steps>[.<data>]``: ``cc1`` is the format version;
``steps`` has one base-36 digit per step, the actor resumed at that step (two digits per step
when ``size`` is over 36, so up to 1,296 actors); ``data`` (optional) the data and fault
choices in order, one digit each.  Every character is safe to paste into a shell unquoted.
"""

from __future__ import annotations

import re

import attrs

__all__ = [
    "FORMAT_VERSION",
    "MAX_ACTORS",
    "ScheduleFormatError",
    "ScheduleToken",
    "decode",
    "encode",
    "step_width",
]

FORMAT_VERSION = "cc1"
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
#: Ad-hoc scenarios carry their workload in the name: "x-" and URL-safe base64.
_ADHOC = re.compile(r"^x-[A-Za-z0-9_-]+$")


_MAX_SIZE_DIGITS = 4


class ScheduleFormatError(ValueError):
    """A schedule token that cannot be decoded (malformed, or from another format version)."""


@attrs.frozen(kw_only=True)
class ScheduleToken:
    scenario: str
    store: str
    size: int
    steps: tuple[int, ...]
    data: tuple[int, ...] = ()


#: The most actors a token can name: two base-36 digits per step.
MAX_ACTORS = len(_DIGITS) ** 2


def step_width(size: int) -> int:
    """Digits per step in a token of a schedule of ``size`` actors."""
    return 1 if size <= len(_DIGITS) else 2


def _digits(values: tuple[int, ...], what: str, width: int = 1) -> str:
    if any(not 0 <= v < len(_DIGITS) ** width for v in values):
        raise ValueError(
            f"{what} choices must be in range({len(_DIGITS) ** width}) to be encoded, got {values}"
        )
    if width == 1:
        return "".join(_DIGITS[v] for v in values) or "-"
    return "".join(_DIGITS[v // 36] + _DIGITS[v % 36] for v in values) or "-"


#: Marks a steps part written two digits per step although ``size`` is 36 or less: tasks the
#: actors spawned (asyncio, trio) take indices after the actors.
_WIDE = "_"


def _steps(token: ScheduleToken) -> str:
    width = step_width(token.size)
    if width == 1 and token.steps and max(token.steps) >= len(_DIGITS):
        return _WIDE + _digits(token.steps, "step", 2)
    return _digits(token.steps, "step", width)


def encode(token: ScheduleToken) -> str:
    text = f"{FORMAT_VERSION}.{token.scenario}.{token.store}.{token.size}.{_steps(token)}"
    if token.data:
        text += "." + _digits(token.data, "data")
    return text


def _undigits(text: str, what: str, raw: str, width: int = 1) -> tuple[int, ...]:
    if text == "-":
        return ()
    bad = [c for c in text if c not in _DIGITS]
    if bad:
        raise ScheduleFormatError(
            f"schedule token {raw!r}: the {what} part has {bad[0]!r}, expected base-36 digits "
            "0-9a-z; copy the token exactly as claimcheck printed it."
        )
    if len(text) % width:
        raise ScheduleFormatError(
            f"schedule token {raw!r}: the {what} part has {len(text)} digits, expected "
            f"{width} per step for {what} of a schedule this size; it may be truncated."
        )
    digits = [_DIGITS.index(c) for c in text]
    if width == 1:
        return tuple(digits)
    return tuple(digits[i] * 36 + digits[i + 1] for i in range(0, len(digits), 2))


def decode(raw: str) -> ScheduleToken:
    text = raw.strip()
    parts = text.split(".")
    if not parts or not parts[0].startswith("cc"):
        raise ScheduleFormatError(
            f"schedule token {raw!r} does not start with {FORMAT_VERSION!r}; copy the whole "
            "token claimcheck printed after `claimcheck replay`."
        )
    if parts[0] != FORMAT_VERSION:
        raise ScheduleFormatError(
            f"schedule token {raw!r} is format {parts[0]!r}, this claimcheck reads "
            f"{FORMAT_VERSION!r}; re-record it with this version's `claimcheck run`."
        )
    if len(parts) not in (5, 6):
        raise ScheduleFormatError(
            f"schedule token {raw!r} has {len(parts)} dot-separated parts, expected 5 or 6 "
            f"({FORMAT_VERSION}.SCENARIO.STORE.SIZE.STEPS[.DATA]); it may be truncated."
        )
    _, scenario, store, size, steps, *rest = parts
    names = ("version", "scenario", "store", "size", "steps", "data")
    for index, part in enumerate(parts):
        if not part:
            raise ScheduleFormatError(
                f"schedule token {raw!r}: the {names[index]} part is empty (a stray '.'?); "
                "copy the token exactly as claimcheck printed it."
            )
    for what, value in (("scenario", scenario), ("store", store)):
        if not _NAME.match(value) and not (what == "scenario" and _ADHOC.match(value)):
            raise ScheduleFormatError(f"schedule token {raw!r}: bad {what} name {value!r}.")
    # ASCII digits only ("²".isdigit() is true), and few of them: a size is a count of actors.
    if not (size.isascii() and size.isdigit() and len(size) <= _MAX_SIZE_DIGITS):
        raise ScheduleFormatError(
            f"schedule token {raw!r}: size {size!r} is not a whole number of actors "
            f"(at most {_MAX_SIZE_DIGITS} digits)."
        )
    return ScheduleToken(
        scenario=scenario,
        store=store,
        size=int(size),
        steps=(
            _undigits(steps[1:], "steps", raw, 2)
            if steps.startswith(_WIDE)
            else _undigits(steps, "steps", raw, step_width(int(size)))
        ),
        data=_undigits(rest[0], "data", raw) if rest else (),
    )
