"""The linearizability checker: Wing & Gong's search with Lowe's memoization, as in Porcupine.

A history is linearizable when its operations can be put in one sequence that (1) keeps real
time -- if A returned before B was called, A comes first -- and (2) is legal for the model when
replayed from ``init``.  The search, per partition (Porcupine's ``checker.go``):

* Every operation becomes a *call* entry and a *return* entry in a doubly linked list sorted
  by time; at equal times calls sort first (closed intervals: Porcupine's tie rule).
* Walk the list from the head.  At a call entry, try to linearize that operation next: if the
  model allows it and ``(linearized set, state)`` is new, push it, *lift* both its entries
  out of the list and restart from the head.  At a return entry, the operation it belongs to
  should already have been linearized but was not: pop the last choice, unlift it, and go on
  after it.  An empty list means success; popping an empty stack means failure.
* Lowe's memoization: the future of the search depends only on which operations are
  linearized and on the model state, so a ``(bitset, state)`` seen once never needs a second
  visit.  That cache is what makes the exhaustive failure case tractable.

Unknown outcomes return at infinity and may never have taken effect.  So they never close a
window and never have to be linearized: they live in a second list, are tried after the
operations that returned, and the search succeeds as soon as every operation that returned is
placed.  An unknown outcome that would leave the state unchanged is never pushed (it can as
well not have happened).  Against Porcupine's own data these two rules give the same verdicts
and cut the etcd search several-fold.

The search itself is in ``_search`` (the hot loop, compiled by ``make``; pinned reads,
reachability, two orders of candidates: see there), and ``_driver`` runs the partitions in
turns (slices of a few hundred pushes and pops), like Porcupine's goroutines, in this process
or in forked workers: a partition that fails fast ends the check even when another would run
for minutes.  The clock is read between slices; running out of time is a verdict
(``"undecided"``), never a silent pass.  This module checks the input, builds the result, and
explains a violation.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any
from typing import Final
from typing import Literal

import attrs

from models import Model

from .._findings import Finding
from ._driver import drive
from ._operation import Operation

__all__ = [
    "CheckResult",
    "HistoryNotLinearizable",
    "LinearizabilityUndecided",
    "LinearizabilityViolation",
    "Verdict",
    "check_operations",
]

Verdict = Literal["linearizable", "not_linearizable", "undecided"]


class HistoryNotLinearizable(Finding):
    """A finding: the history has no linearization; the message is the checker's explanation."""

    def __init__(self, result: CheckResult) -> None:
        self.result = result
        super().__init__(result.explanation)


class LinearizabilityUndecided(Finding):
    """The checker ran out of time: not a pass.  Raise the timeout or shrink the history."""

    def __init__(self, result: CheckResult) -> None:
        self.result = result
        super().__init__(result.explanation)


@attrs.frozen(kw_only=True)
class LinearizabilityViolation:
    """Why a partition has no linearization, as far as the search got.

    ``prefix`` is the longest linearizable prefix found (in linearization order) and ``state``
    the model state after it.  From there no operation can go next: ``stuck`` lists the
    operations that were candidates (called before the earliest pending return), ``illegal``
    the subset the model rejects outright (the others are unknown outcomes that would change
    nothing: a legal candidate would have made a longer prefix), and ``blocking``
    the operation whose return forces the choice -- it must have taken effect before it
    returned, but cannot be placed.  ``summary`` says that in one line, ``explanation`` in a
    paragraph that lists every candidate and why it fails.
    """

    partition_index: int
    partition: tuple[Operation[Any, Any], ...]
    prefix: tuple[Operation[Any, Any], ...]
    state: Any
    stuck: tuple[Operation[Any, Any], ...]
    illegal: tuple[Operation[Any, Any], ...]
    blocking: Operation[Any, Any]
    summary: str
    explanation: str


@attrs.frozen(kw_only=True)
class CheckResult:
    """The checker's answer.  Compare ``verdict``; the result has no truth value on purpose.

    ``linearizations`` holds one witness order per partition when the verdict is
    ``"linearizable"``; ``violation`` explains a ``"not_linearizable"`` verdict.  ``elapsed`` is
    the wall time spent, in seconds.  ``operations`` counts what was checked (``fail`` outcomes
    dropped).
    """

    verdict: Verdict
    operations: int
    partitions: int
    partitions_checked: int
    elapsed: float
    explanation: str
    violation: LinearizabilityViolation | None = None
    linearizations: tuple[tuple[Operation[Any, Any], ...], ...] = ()

    def __bool__(self) -> bool:
        # ``if check_operations(...):`` would pass an undecided check silently: refuse.
        raise TypeError(
            "a CheckResult has no truth value: compare result.verdict == 'linearizable', or "
            "call result.assert_linearizable()."
        )

    @property
    def is_linearizable(self) -> bool:
        return self.verdict == "linearizable"

    def assert_linearizable(self) -> None:
        """Raise :class:`HistoryNotLinearizable` or :class:`LinearizabilityUndecided` unless it passed."""
        if self.verdict == "not_linearizable":
            raise HistoryNotLinearizable(self)
        if self.verdict == "undecided":
            raise LinearizabilityUndecided(self)


def _who(model: Model[Any, Any, Any], op: Operation[Any, Any]) -> str:
    return f"client {op.client_id}'s {model.describe_operation(op.input, op.output)}"


def _when(op: Operation[Any, Any]) -> str:
    if op.return_ is None:
        return f"called at {op.call:g}, outcome unknown"
    return f"called at {op.call:g}, returned at {op.return_:g}"


_MAX_LISTED: Final = 12


def _explain(
    model: Model[Any, Any, Any],
    index: int,
    count: int,
    ops: Sequence[Operation[Any, Any]],
    prefix_ids: list[int],
) -> LinearizabilityViolation:
    """Replay the longest prefix and say, operation by operation, why nothing can follow it."""
    state = model.init()
    for i in prefix_ids:
        legal, state = model.step(state, ops[i].input, ops[i].output)
        assert legal, "the search only records legal prefixes"
    shown_state = model.describe_state(state)
    done = set(prefix_ids)
    rest = [i for i in range(len(ops)) if i not in done]
    # The search backtracked at the earliest remaining return (ties in history order, as the
    # search sorts): that operation must take effect before it returns, and only operations
    # called by then (calls sort before returns at equal times) can go before it.
    returned = [i for i in rest if ops[i].return_ is not None]
    blocking = min(returned, key=lambda i: (ops[i].return_, i))
    limit = ops[blocking].return_
    assert limit is not None
    stuck = [i for i in rest if ops[i].call <= limit]
    illegal = []
    reasons = []
    for i in stuck:
        op = ops[i]
        legal, after = model.step(state, op.input, op.output)
        if not legal:
            illegal.append(i)
        if op.output is None:
            if not legal:
                why = f"cannot have taken effect in state {shown_state}"
            elif after == state:
                why = "would change nothing here"
            else:
                why = "may have taken effect here, but no continuation after it works"
        elif legal:
            why = "would be legal here, but no continuation after it works"
        else:
            why = f"is not legal in state {shown_state}"
        reasons.append(f"  - {_who(model, op)} ({_when(op)}) {why}")
    if len(reasons) > _MAX_LISTED:
        reasons[_MAX_LISTED:] = [f"  - ... and {len(reasons) - _MAX_LISTED} more"]
    where = f"partition {index + 1} of {count}, " if count > 1 else ""
    if prefix_ids:
        tail = "; ".join(_who(model, ops[i]) for i in prefix_ids[-3:])
        context = f"after {len(prefix_ids)} operations ending with {tail}"
    else:
        context = "before any operation"
    lines = [
        f"Not linearizable ({where}{len(ops)} operations). The longest linearizable prefix "
        f"found leaves the model in state {shown_state}, {context}.",
        f"From there no operation can go next, yet {_who(model, ops[blocking])} "
        f"({_when(ops[blocking])}) must take effect before it returns:",
        *reasons,
    ]
    return LinearizabilityViolation(
        partition_index=index,
        partition=tuple(ops),
        prefix=tuple(ops[i] for i in prefix_ids),
        state=state,
        stuck=tuple(ops[i] for i in stuck),
        illegal=tuple(ops[i] for i in illegal),
        blocking=ops[blocking],
        summary=(
            f"after {len(prefix_ids)} operations (state {shown_state}), "
            f"{_who(model, ops[blocking])} ({_when(ops[blocking])}) cannot be placed"
        ),
        explanation="\n".join(lines),
    )


def check_operations(
    model: Model[Any, Any, Any],
    operations: Sequence[Operation[Any, Any]],
    *,
    timeout: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    workers: int = 1,
) -> CheckResult:
    """Check that ``operations`` are linearizable with respect to ``model``.

    ``fail`` outcomes are dropped (they did not take effect); ``unknown`` outcomes return at
    infinity and may also never have taken effect.  The history is split with
    ``model.partition``; the parts are searched in turns of a few milliseconds each, smallest
    first, like Porcupine's parallel goroutines, so one part that fails fast ends the check
    even if another would take forever.  ``timeout`` (seconds, ``None`` for no limit) bounds
    the whole check across parts; when it runs out the verdict is ``"undecided"``.  ``clock``
    is injectable for tests.  ``workers > 1`` spreads the parts over that many forked
    processes (where ``fork`` exists, and for histories of a few hundred operations or more);
    the verdict is the same, the model and operations need not be picklable.
    """
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout < 0
    ):
        raise ValueError(f"timeout must be None or a number of seconds >= 0, got {timeout!r}.")
    start = clock()
    deadline = math.inf if timeout is None else start + timeout
    kept = []
    for op in operations:
        if not isinstance(op, Operation):
            raise TypeError(
                f"check_operations() takes harness.Operation values, got {op!r} "
                f"({type(op).__name__}); build them with HistoryRecorder or a history reader."
            )
        if op.outcome != "fail":
            kept.append(op)
    parts = [p for p in model.partition(kept) if p]
    if sum(len(p) for p in parts) != len(kept):
        raise ValueError(
            f"{type(model).__name__}.partition() returned {sum(len(p) for p in parts)} "
            f"operations for a history of {len(kept)}; every operation must land in exactly "
            "one part."
        )
    outcome = drive(model, parts, deadline, clock, workers=workers)
    witnesses = {k: tuple([parts[k][i] for i in ids]) for k, (ok, ids) in outcome.items() if ok}
    failed = next(((k, ids) for k, (ok, ids) in outcome.items() if not ok), None)
    elapsed = clock() - start
    if failed is not None:
        k, ids = failed
        violation = _explain(model, k, len(parts), parts[k], ids)
        return CheckResult(
            verdict="not_linearizable",
            operations=len(kept),
            partitions=len(parts),
            partitions_checked=len(witnesses) + 1,
            elapsed=elapsed,
            explanation=violation.explanation,
            violation=violation,
        )
    if len(witnesses) < len(parts):
        return CheckResult(
            verdict="undecided",
            operations=len(kept),
            partitions=len(parts),
            partitions_checked=len(witnesses),
            elapsed=elapsed,
            explanation=(
                f"Undecided: the time limit of {timeout:g} s ran out with {len(witnesses)} of "
                f"{len(parts)} partitions decided ({len(kept)} operations); this is not a "
                "pass. Raise the timeout or check a shorter history."
            ),
        )
    return CheckResult(
        verdict="linearizable",
        operations=len(kept),
        partitions=len(parts),
        partitions_checked=len(witnesses),
        elapsed=elapsed,
        explanation=(
            f"Linearizable: {len(kept)} operations in {len(parts)} "
            f"partition{'s' if len(parts) != 1 else ''}."
        ),
        linearizations=tuple(witnesses[k] for k in range(len(parts))),
    )
