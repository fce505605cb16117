"""How ``claimcheck`` ends on an error: one line on stderr, and the exit code of its kind."""

from __future__ import annotations

import importlib
import os
import sys

from .._exit import ExitCode

__all__ = ["InfrastructureError", "UsageError", "failure", "loaded", "one_line"]

EXIT_FINDING = ExitCode.FINDING
EXIT_USAGE = ExitCode.USAGE
EXIT_INFRA = ExitCode.INFRA


class UsageError(Exception):
    """Bad usage or input: one line, exit 2."""


class InfrastructureError(Exception):
    """A backend could not be started or reached: one line, exit 3."""


def failure(error: Exception) -> int:
    """Say what went wrong in one line on stderr; the exit code says whose fault it was."""
    # Each layer's errors are looked for only if its module was imported: a module that never
    # was cannot have raised anything.
    usage: tuple[type[BaseException], ...] = (
        UsageError,
        ValueError,
        *loaded(
            "harness.conformance:FactoryError",
            "harness.backends:UnknownBackend",
            "harness.explore:UnknownScenario",
            "harness.explore:UnknownStrategy",
            "harness.runtime:ScheduleFormatError",
            "harness.runtime.schedulers:ScheduleDiverged",
            # Code under test that the controlled runtime cannot drive: an await of neither
            # loop, a blocking call in an actor, asyncio and trio mixed.
            "harness.runtime:RuntimeMisuse",
            "stores:StoreMisuse",
        ),
    )
    infrastructure: tuple[type[BaseException], ...] = (
        InfrastructureError,
        OSError,
        *loaded("stores:StoreError", "stores.emulator:EmulatorError"),
    )
    if isinstance(error, usage):
        print(f"claimcheck: error: {one_line(error)}", file=sys.stderr)
        return EXIT_USAGE
    if isinstance(
        error,
        loaded(
            "harness.runtime:NondeterminismError",
            "harness.runtime:Deadlocked",
            # A finding raised rather than returned (a user's coordinator answering its
            # set-up unlike the model): exit 1, its one line.
            "harness._findings:Finding",
        ),
    ):
        print(f"claimcheck: finding: {one_line(error)}", file=sys.stderr)
        return EXIT_FINDING
    if isinstance(error, infrastructure):
        print(f"claimcheck: infrastructure failure: {one_line(error)}", file=sys.stderr)
        return EXIT_INFRA
    if os.environ.get("CLAIMCHECK_DEBUG"):
        raise error
    print(
        f"claimcheck: internal error: {type(error).__name__}: {one_line(error)} "
        "(rerun with CLAIMCHECK_DEBUG=1 for the traceback, and report it)",
        file=sys.stderr,
    )
    return EXIT_INFRA


def loaded(*names: str) -> tuple[type[BaseException], ...]:
    """The exception classes named ``module:Class`` whose modules have been imported."""
    found = []
    for name in names:
        module, _, attribute = name.partition(":")
        if module in sys.modules:
            found.append(getattr(importlib.import_module(module), attribute))
    return tuple(found)


def one_line(error: BaseException) -> str:
    text = str(error.args[0]) if isinstance(error, LookupError) and error.args else str(error)
    return " ".join(text.split())
