"""The one table of exit codes, shared by every ``claimcheck`` command.

A leaf module (it imports nothing), so that every layer that ends a command, ``check`` for
``check-history`` as much as ``cli``, uses the same numbers.

| code | meaning |
|---|---|
| 0 | all as expected: correct stores pass, controls are caught, histories linearizable |
| 1 | a finding: a violation, a non-conforming store, a nondeterministic run |
| 2 | bad input or usage: a malformed token, history, flag, an unknown name, a bad factory |
| 3 | infrastructure: a backend could not be started or reached, or an internal error |
| 4 | undecided: the linearizability checker ran out of time (not a pass) |
| 130 | interrupted (Ctrl-C) |
"""

from __future__ import annotations

import enum

__all__ = ["ExitCode"]


class ExitCode(enum.IntEnum):
    OK = 0
    FINDING = 1
    USAGE = 2
    INFRA = 3
    UNDECIDED = 4
    INTERRUPTED = 130
