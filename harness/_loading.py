"""``"package.module:attribute"``: how a user names their own code on the command line (a
store factory, a coordinator factory).  One resolver, so that both say the same things about
the same mistakes."""

from __future__ import annotations

import importlib
import os
import sys

__all__ = ["SpecError", "describe_exit", "resolve"]


class SpecError(Exception):
    """``MODULE:ATTRIBUTE`` names nothing usable; the message says what is wrong."""


def describe_exit(error: SystemExit) -> str:
    """``sys.exit(...)`` as the call was written, for messages."""
    code = error.code
    return "sys.exit()" if code is None else f"sys.exit({code!r})"


def resolve(spec: str, what: str, example: str) -> object:
    """The object ``spec`` names.  ``what`` ("store factory") and ``example``
    ("mypkg.stores:make_store") word the errors."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise SpecError(f"{what} {spec!r} is not MODULE:FACTORY; pass e.g. {example}")
    # As ``python -m`` and uvicorn do: the user's own modules in the working directory import
    # even when the ``claimcheck`` script runs from a virtualenv's bin directory.
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.append(os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except SystemExit as error:
        # A module that exits on import would otherwise end the run with its own exit code
        # and not a word of output.
        raise SpecError(
            f"module {module_name!r} of the {what} {spec} called {describe_exit(error)} "
            "while being imported"
        ) from None
    except KeyboardInterrupt:
        raise
    except BaseException as error:
        raise SpecError(
            f"cannot import module {module_name!r} for {what} {spec!r}: "
            f"{type(error).__name__}: {error}"
        ) from None
    found: object = module
    for part in attr.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise SpecError(f"module {module_name!r} has no attribute {attr!r}") from None
    return found
