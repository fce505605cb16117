"""The linearizability checker: Wing & Gong's search with Lowe's memoization, as in Porcupine.

A history is linearizable when its operations can be put in one sequence that (1) keeps real
time -- if A returned before B was called, A comes first -- and (2) is legal for the model when
replayed from ``init``.  The search, per partition:

* Every operation becomes a *call* entry and a *return* entry in one doubly linked list
  sorted by time; at equal times calls sort first (closed intervals, Porcupine's rule), and an
  unknown outcome's return sits at infinity.
* Walk the list from the head.  At a call entry, try to linearize that operation next: if the
  model allows it and ``(linearized set, state)`` is new, push it, *lift* both its entries
  out of the list and restart from the head.  At a return entry, the operation it belongs to
  should already have been linearized but was not: pop the last choice, unlift it, and try the
  entry after it.  An empty list means success; popping an empty stack means failure.
* Lowe's memoization: the future of the search depends only on which operations are
  linearized and on the model state, so a ``(bitset, state)`` seen once never needs a second
  visit.  That cache is what makes the exhaustive failure case tractable.

Speed (this loop is the whole cost): the list is four flat int arrays indexed by entry, model
states are interned to small ints, each operation's ``step`` is memoized per state (so the
model runs once per distinct ``(operation, state)``), the linearized set is a Python int, and
the cache is one set of bitsets per interned state.  No attrs objects, no tuples and no method
calls in the hot path except the memo miss.

The time limit is honoured across partitions: the loop reads the clock every few thousand
pushes and pops, and running out is a verdict (``"undecided"``), never a silent pass.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any, Final, Literal

import attrs

from models._protocol import Model

from ._history import Operation

__all__ = [
    "CheckResult",
    "HistoryNotLinearizable",
    "LinearizabilityUndecided",
    "Verdict",
    "Violation",
    "check_operations",
]

Verdict = Literal["linearizable", "not_linearizable", "undecided"]

#: Pushes + pops between two clock reads: a few ms of search, so a deadline is overshot by
#: little, and the clock costs nothing measurable.
_CLOCK_EVERY: Final = 4096


class HistoryNotLinearizable(AssertionError):
    """A finding: the history has no linearization; the message is the checker's explanation."""

    def __init__(self, result: CheckResult) -> None:
        self.result = result
        super().__init__(result.explanation)


class LinearizabilityUndecided(AssertionError):
    """The checker ran out of time: not a pass.  Raise the timeout or shrink the history."""

    def __init__(self, result: CheckResult) -> None:
        self.result = result
        super().__init__(result.explanation)


@attrs.frozen(kw_only=True)
class Violation:
    """Why a partition has no linearization, as far as the search got.

    ``prefix`` is the longest linearizable prefix found (in linearization order) and ``state``
    the model state after it.  From there no operation can go next: ``stuck`` lists the
    operations that were candidates (called before the earliest pending return), ``illegal``
    the subset the model rejects outright (the others lead only to dead ends), and ``blocking``
    the operation whose return forces the choice -- it must have taken effect before it
    returned, but cannot be placed.
    """

    partition_index: int
    partition: tuple[Operation[Any, Any], ...]
    prefix: tuple[Operation[Any, Any], ...]
    state: Any
    stuck: tuple[Operation[Any, Any], ...]
    illegal: tuple[Operation[Any, Any], ...]
    blocking: Operation[Any, Any]
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
    violation: Violation | None = None
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


class _Timeout(Exception):
    pass


# Search outcome for one partition: (True, order) or (False, longest prefix) as op indices.
_Search = tuple[bool, list[int]]


def _search(
    model: Model[Any, Any, Any],
    ops: Sequence[Operation[Any, Any]],
    deadline: float,
    clock: Callable[[], float],
) -> _Search:
    n = len(ops)
    if n == 0:
        return True, []
    # Entries sorted by time; at equal times calls (kind 0) before returns (kind 1).  Unknown
    # outcomes return at infinity.  The sort is stable, so ties keep history order.
    keyed = []
    for i, op in enumerate(ops):
        keyed.append((op.call, 0, i))
        keyed.append((math.inf if op.return_ is None else op.return_, 1, i))
    keyed.sort(key=lambda k: (k[0], k[1]))

    end = 2 * n + 1  # entries are 1..2n; 0 is the head sentinel, 2n+1 the tail sentinel
    nxt = list(range(1, end + 2))
    prv = list(range(-1, end))
    mt = [0] * (end + 1)  # call entry -> its return entry; 0 marks a return entry
    opi = [-1] * (end + 1)  # entry -> op index
    ret_of = [0] * n
    for pos, (_, kind, i) in enumerate(keyed, start=1):
        opi[pos] = i
        if kind:
            ret_of[i] = pos
    for pos, (_, kind, i) in enumerate(keyed, start=1):
        if not kind:
            mt[pos] = ret_of[i]
    first_inf = end
    for pos in range(end - 1, 0, -1):
        if keyed[pos - 1][0] != math.inf:
            break
        first_inf = pos
    bit = [0] * (end + 1)
    for pos in range(1, end):
        bit[pos] = 1 << opi[pos]

    # Interned states: index <-> state.  trans[e] memoizes step for the call entry e:
    # state index -> next state index, or -1 when the model rejects the operation.
    init = model.init()
    states: list[Any] = [init]
    index_of: dict[Any, int] = {init: 0}
    seen: list[set[int]] = [set()]
    trans: list[dict[int, int]] = [{} for _ in range(end + 1)]
    step = model.step

    def miss(e: int, sid: int) -> int:
        op = ops[opi[e]]
        legal, new = step(states[sid], op.input, op.output)
        ns = -1
        # An unknown outcome that would leave the state as it is can as well never have taken
        # effect (and need not ever be linearized): pushing it only multiplies the cache.
        if legal and not (op.output is None and new == states[sid]):
            found = index_of.get(new)
            if found is None:
                found = len(states)
                states.append(new)
                index_of[new] = found
                seen.append(set())
            ns = found
        trans[e][sid] = ns
        return ns

    stack: list[int] = []
    saved = [0] * (end + 1)  # state index before the call entry e was pushed
    push = stack.append
    pop = stack.pop
    best: list[int] = []
    best_len = 0
    lin = 0
    sid = 0
    ticks = _CLOCK_EVERY
    e = nxt[0]
    while True:
        r = mt[e]
        if r:
            ns = trans[e].get(sid)
            if ns is None:
                ns = miss(e, sid)
            if ns >= 0:
                nl = lin | bit[e]
                s = seen[ns]
                if nl not in s:
                    s.add(nl)
                    saved[e] = sid
                    push(e)
                    sid = ns
                    lin = nl
                    # Lift the call and its return out of the list (dancing links: their own
                    # pointers are kept, so unlifting in LIFO order restores them exactly).
                    p = prv[e]
                    q = nxt[e]
                    nxt[p] = q
                    prv[q] = p
                    p = prv[r]
                    q = nxt[r]
                    nxt[p] = q
                    prv[q] = p
                    e = nxt[0]
                    if e == end:
                        return True, [opi[x] for x in stack]
                    ticks -= 1
                    if not ticks:
                        ticks = _CLOCK_EVERY
                        if clock() > deadline:
                            raise _Timeout
                    continue
            e = nxt[e]
        else:
            if e >= first_inf:
                # Only unknown outcomes are left, and they may never have taken effect.
                return True, [opi[x] for x in stack]
            # A return entry whose operation is not linearized: this branch is dead.
            if not stack:
                return False, [opi[x] for x in best]
            if len(stack) > best_len:
                best_len = len(stack)
                best = stack.copy()
            e = pop()
            sid = saved[e]
            lin ^= bit[e]
            r = mt[e]
            p = prv[r]
            q = nxt[r]
            nxt[p] = r
            prv[q] = r
            p = prv[e]
            q = nxt[e]
            nxt[p] = e
            prv[q] = e
            e = nxt[e]
            ticks -= 1
            if not ticks:
                ticks = _CLOCK_EVERY
                if clock() > deadline:
                    raise _Timeout


def _fmt_time(t: float | None) -> str:
    return "never (outcome unknown)" if t is None else f"{t:g}"


def _who(model: Model[Any, Any, Any], op: Operation[Any, Any]) -> str:
    return f"client {op.client_id}'s {model.describe_operation(op.input, op.output)}"


def _when(op: Operation[Any, Any]) -> str:
    if op.return_ is None:
        return f"called at {op.call:g}, outcome unknown"
    return f"called at {op.call:g}, returned at {op.return_:g}"


def _explain(
    model: Model[Any, Any, Any],
    index: int,
    count: int,
    ops: Sequence[Operation[Any, Any]],
    prefix_ids: list[int],
) -> Violation:
    """Replay the longest prefix and describe why nothing can follow it."""
    state = model.init()
    for i in prefix_ids:
        legal, state = model.step(state, ops[i].input, ops[i].output)
        assert legal, "the search only records legal prefixes"
    done = set(prefix_ids)
    rest = [i for i in range(len(ops)) if i not in done]
    # The earliest return among the remaining operations: its operation must be placed by then.
    # Ties: calls before returns, stable (the search's own order).
    blocking = min(
        rest,
        key=lambda i: (math.inf if ops[i].return_ is None else ops[i].return_, i),
    )
    limit = ops[blocking].return_
    lim = math.inf if limit is None else limit
    stuck = [i for i in rest if ops[i].call <= lim]
    illegal = [i for i in stuck if not model.step(state, ops[i].input, ops[i].output)[0]]
    where = f"partition {index + 1} of {count}, " if count > 1 else ""
    lines = [
        f"Not linearizable ({where}{len(ops)} operations). The longest linearizable prefix "
        f"found has {len(prefix_ids)} operations and leaves the model in state "
        f"{model.describe_state(state)}"
        + (
            f" (after {_who(model, ops[prefix_ids[-1]])})."
            if prefix_ids
            else " (the initial state)."
        ),
        f"From there no operation can go next, yet {_who(model, ops[blocking])} "
        f"({_when(ops[blocking])}) must take effect before it returns:",
    ]
    for i in stuck:
        if i in illegal:
            why = f"is not legal from state {model.describe_state(state)}"
        else:
            why = "is legal here, but every continuation after it fails"
        lines.append(f"  - {_who(model, ops[i])} ({_when(ops[i])}) {why}")
    return Violation(
        partition_index=index,
        partition=tuple(ops),
        prefix=tuple(ops[i] for i in prefix_ids),
        state=state,
        stuck=tuple(ops[i] for i in stuck),
        illegal=tuple(ops[i] for i in illegal),
        blocking=ops[blocking],
        explanation="\n".join(lines),
    )


def check_operations(
    model: Model[Any, Any, Any],
    operations: Sequence[Operation[Any, Any]],
    *,
    timeout: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> CheckResult:
    """Check that ``operations`` are linearizable with respect to ``model``.

    ``fail`` outcomes are dropped (they did not take effect); ``unknown`` outcomes return at
    infinity.  The history is split with ``model.partition`` and each part is searched in
    turn, smallest first, stopping at the first violation.  ``timeout`` (seconds, ``None``
    for no limit) bounds the whole check, across partitions; when it runs out the verdict is
    ``"undecided"``.  ``clock`` is injectable for tests.
    """
    if timeout is not None and (not isinstance(timeout, int | float) or timeout < 0):
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
    # Small parts first: a violation there ends the check early.
    order = sorted(range(len(parts)), key=lambda k: len(parts[k]))
    witnesses: dict[int, tuple[Operation[Any, Any], ...]] = {}
    checked = 0
    for k in order:
        part = parts[k]
        try:
            if clock() > deadline:
                raise _Timeout
            ok, ids = _search(model, part, deadline, clock)
        except _Timeout:
            elapsed = clock() - start
            return CheckResult(
                verdict="undecided",
                operations=len(kept),
                partitions=len(parts),
                partitions_checked=checked,
                elapsed=elapsed,
                explanation=(
                    f"Undecided: the time limit of {timeout:g} s ran out after {checked} of "
                    f"{len(parts)} partitions ({len(kept)} operations); this is not a pass. "
                    "Raise the timeout or check a shorter history."
                ),
            )
        checked += 1
        if not ok:
            violation = _explain(model, k, len(parts), part, ids)
            return CheckResult(
                verdict="not_linearizable",
                operations=len(kept),
                partitions=len(parts),
                partitions_checked=checked,
                elapsed=clock() - start,
                explanation=violation.explanation,
                violation=violation,
            )
        witnesses[k] = tuple(part[i] for i in ids)
    return CheckResult(
        verdict="linearizable",
        operations=len(kept),
        partitions=len(parts),
        partitions_checked=checked,
        elapsed=clock() - start,
        explanation=(
            f"Linearizable: {len(kept)} operations in {len(parts)} "
            f"partition{'s' if len(parts) != 1 else ''}."
        ),
        linearizations=tuple(witnesses[k] for k in range(len(parts))),
    )
