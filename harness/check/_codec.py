"""The value codec: inputs and outputs (attrs values) to JSON-ready objects and back.

A value is encoded as an object whose ``"type"`` names the class and whose other members are
its fields (nested values the same way, tuples as arrays).  Decoding looks the class name up
in a table of types (default: every input and output class of ``models``) and checks each
field against the class's annotation, because the decoded values go to models that trust them.
"""

from __future__ import annotations

import math
import typing
from collections.abc import Hashable
from collections.abc import Mapping
from types import UnionType
from typing import Any
from typing import Final

import attrs

from models import VALUE_TYPES

from ._operation import HistoryMisuse
from ._operation import show

__all__ = ["DEFAULT_VALUE_TYPES", "MAX_DEPTH", "decode_value", "encode_value"]

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


#: How deep values may nest (a value object holding a tuple holding ... counts one per level).
#: Far beyond any real input; it keeps decoding, hashing and printing a hostile value from
#: exhausting the interpreter's stack.
MAX_DEPTH: Final = 32


def decode_value(obj: object, types: Mapping[str, type]) -> Any:
    """The inverse of :func:`encode_value`; raises ``ValueError`` with a precise message.

    Besides building each value, it checks each field against its class's annotation where it
    can (``int``, ``str``, ``bool``, ``float``, ``None``, unions, tuples, ``Hashable``, classes):
    a model replays values without checking them, so a string where an int belongs must be
    refused here, where the file and line are still known.  Non-finite numbers are refused
    (:func:`encode_value` never writes them) and so is nesting deeper than :data:`MAX_DEPTH`.
    """
    return _decode(obj, types, 0)


def _decode(obj: object, types: Mapping[str, type], depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ValueError(f"values nest more than {MAX_DEPTH} levels deep")
    if obj is None or isinstance(obj, str | bool | int):
        return obj
    if isinstance(obj, float):
        if not math.isfinite(obj):
            raise ValueError(
                f"the number {obj!r} is not finite (JSON has no NaN or Infinity, and numbers "
                "beyond 1.8e308 overflow to it)"
            )
        return obj
    if isinstance(obj, list):
        return tuple(_decode(v, types, depth + 1) for v in obj)
    if isinstance(obj, dict):
        name = obj.get("type")
        if not isinstance(name, str):
            raise ValueError(f'a value object needs a "type" naming its class, got {show(obj)}')
        cls = types.get(name)
        if cls is None:
            raise ValueError(
                f"unknown value type {show(name)}; known types: {', '.join(sorted(types))}"
            )
        fields = {k: _decode(v, types, depth + 1) for k, v in obj.items() if k != "type"}
        hints = _hints(cls)
        for field, value in fields.items():
            hint = hints.get(field)
            if hint is not None and not _matches(value, hint):
                raise ValueError(
                    f"{name}.{field} must be {_describe(hint)}, got {show(value)} "
                    f"({type(value).__name__})"
                )
        try:
            return cls(**fields)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"cannot build {name} from {show(fields)}: {exc}") from None
    raise ValueError(f"cannot decode {show(obj)} ({type(obj).__name__}) as a value")


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    """The field annotations of ``cls``, resolved; empty if they cannot be (nothing checked)."""
    hints = _HINTS.get(cls)
    if hints is None:
        try:
            hints = typing.get_type_hints(cls)
        except (NameError, TypeError):
            # A user's value class whose annotations do not resolve (a forward reference to a
            # name its module lacks) still decodes; its fields are just not checked.
            hints = {}
        _HINTS[cls] = hints
    return hints


def _matches(value: object, hint: Any) -> bool:
    """Whether ``value`` fits ``hint``; a form this does not know is accepted (not checked)."""
    if hint is Any or hint is object:
        return True
    if hint is None or hint is type(None):
        return value is None
    if hint is Hashable:
        try:
            hash(value)
        except TypeError:
            return False
        return True
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        # PEP 484: an int is acceptable where a float is expected.
        return isinstance(value, int | float) and not isinstance(value, bool)
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union or origin is UnionType:
        return any(_matches(value, arg) for arg in args)
    if origin is typing.Literal:
        return any(value == arg and type(value) is type(arg) for arg in args)
    if origin is tuple:
        if not isinstance(value, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_matches(v, args[0]) for v in value)
        if args == ((),):  # tuple[()]
            return value == ()
        return len(args) == len(value) and all(
            _matches(v, a) for v, a in zip(value, args, strict=True)
        )
    if origin is None and isinstance(hint, type):
        return isinstance(value, hint)
    return True


def _describe(hint: Any) -> str:
    if hint is None or hint is type(None):
        return "null"
    if isinstance(hint, type) and typing.get_origin(hint) is None:
        return {
            int: "an int",
            bool: "a bool (true or false)",
            float: "a number",
            str: "a string",
            Hashable: "a hashable value",
        }.get(hint, f"a {hint.__name__} value object")
    if typing.get_origin(hint) in (typing.Union, UnionType):
        return " or ".join(_describe(arg) for arg in typing.get_args(hint))
    return str(hint)
