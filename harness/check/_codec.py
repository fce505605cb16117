"""The value codec: inputs and outputs (attrs values) to JSON-ready objects and back.

A value is encoded as an object whose ``"type"`` names the class and whose other members are
its fields (nested values the same way, tuples as arrays).  Decoding looks the class name up
in a table of types (default: every input and output class of ``models``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from typing import Final

import attrs

from models import VALUE_TYPES

from ._operation import HistoryMisuse

__all__ = ["DEFAULT_VALUE_TYPES", "decode_value", "encode_value"]

DEFAULT_VALUE_TYPES: Final[tuple[type, ...]] = VALUE_TYPES


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
