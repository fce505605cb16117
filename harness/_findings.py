"""Findings as data: what a check found, kept as values until the edge prints them.

A :class:`Violation` is one broken property of one run or history: its kind, the job (or key)
it is about, the operations it is about, and one sentence for people.  Traces, timelines and
reports read the fields; only terminals and HTML pages read the sentence.

:class:`Finding` is the one base class of every finding the harness raises: an
``AssertionError`` (so pytest shows it as a failed assertion, not an error) whose message
carries the reproducer.  Misuse of the harness is never a ``Finding``: it is a typed error.
"""

from __future__ import annotations

import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import attrs

__all__ = ["BadAnswer", "Finding", "OpRef", "Violation", "ViolationKind", "who_raised"]

#: What kind of property broke.  ``double-assignment``: two callers were told they hold the
#: same epoch of the same job.  ``invariant``: the final state breaks one of the model's state
#: invariants.  ``missing-run``: a granted epoch has no run document although no call's outcome
#: was unknown.  ``not-linearizable``: no sequential order of the calls explains the answers
#: and the final state under the reference model.  ``undecided``: the checker ran out of time
#: (not a pass).  ``actor-raised``: an actor (coordinator code) raised instead of answering.
#: ``deadlock``: every task of a run waited on something no task, timer or I/O would provide.
ViolationKind = Literal[
    "double-assignment",
    "invariant",
    "missing-run",
    "not-linearizable",
    "undecided",
    "actor-raised",
    "deadlock",
]


@attrs.frozen(kw_only=True)
class OpRef:
    """One operation of a run: the ``index``-th call actor ``actor`` made."""

    actor: str
    index: int


@attrs.frozen(kw_only=True)
class Violation:
    """One broken property, as data (see the module docstring)."""

    kind: ViolationKind
    #: The job (or key) the violation is about; None when it is about the run as a whole.
    subject: str | None
    #: The operations it is about, in the order the actors made them.
    operations: tuple[OpRef, ...] = ()
    sentence: str

    def __str__(self) -> str:
        return self.sentence


class BadAnswer(Exception):
    """A coordinator answered with something that is no fleet answer (a user's coordinator
    returning ``None``, a result for another job, ...): a finding about the coordinator."""


class Finding(AssertionError):
    """Base class of every finding: a broken property, with its reproducer in the message."""


_HARNESS = Path(__file__).resolve().parent
_FLEET = _HARNESS.parent / "fleet"


def who_raised(error: BaseException, coordinator: Sequence[Path] = ()) -> str:
    """Who raised ``error``, from where its traceback ends, with the place: "the coordinator
    raised KeyError: 'status' (fleet/_coordinator.py:120)".

    The coordinator (``fleet``, or the folders of a user's coordinator, ``coordinator``) and
    the harness are named as such; anything else (``stores``, a user's backend, a client
    library) is the store.  A finding must never blame the store for the coordinator's or the
    harness's own error.  A :class:`BadAnswer` is the coordinator's, whoever raised it.
    """
    if isinstance(error, BadAnswer):
        return f"the coordinator answered what no coordinator may: {error}"
    frames = traceback.extract_tb(error.__traceback__)
    where, who = "", "the store"
    if frames:
        path = Path(frames[-1].filename).resolve()
        where = f" ({path.parent.name}/{path.name}:{frames[-1].lineno})"
        if path.is_relative_to(_FLEET) or any(path.is_relative_to(c) for c in coordinator):
            who = "the coordinator"
        elif path.is_relative_to(_HARNESS):
            who = "the harness"
    return f"{who} raised {type(error).__name__}: {error}{where}"
