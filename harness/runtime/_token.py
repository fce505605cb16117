"""The compact, versioned encoding of a schedule: what a user pastes to replay a run.

Format ``cc1.<scenario>.<store>.<size>.<steps>[.<data>]``: ``cc1`` is the format version;
``steps`` has one base-36 digit per step, the actor resumed at that step; ``data`` (optional)
the data and fault choices in order.  Every character is safe to paste into a shell unquoted.
"""

from __future__ import annotations

import re

import attrs

__all__ = ["FORMAT_VERSION", "ScheduleFormatError", "ScheduleToken", "decode", "encode"]

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


def _digits(values: tuple[int, ...], what: str) -> str:
    if any(not 0 <= v < len(_DIGITS) for v in values):
        raise ValueError(f"{what} choices must be in range(36) to be encoded, got {values}")
    return "".join(_DIGITS[v] for v in values) or "-"


def encode(token: ScheduleToken) -> str:
    text = (
        f"{FORMAT_VERSION}.{token.scenario}.{token.store}.{token.size}."
        f"{_digits(token.steps, 'step')}"
    )
    if token.data:
        text += "." + _digits(token.data, "data")
    return text


def _undigits(text: str, what: str, raw: str) -> tuple[int, ...]:
    if text == "-":
        return ()
    bad = [c for c in text if c not in _DIGITS]
    if bad:
        raise ScheduleFormatError(
            f"schedule token {raw!r}: the {what} part has {bad[0]!r}, expected base-36 digits "
            "0-9a-z; copy the token exactly as claimcheck printed it."
        )
    return tuple(_DIGITS.index(c) for c in text)


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
        steps=_undigits(steps, "steps", raw),
        data=_undigits(rest[0], "data", raw) if rest else (),
    )
