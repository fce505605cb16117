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

Speed (this loop is the whole cost): the lists are flat int arrays indexed by entry, model
states are interned to small ints, each operation's ``step`` is memoized per state (the model
runs once per distinct ``(operation, state)``), the linearized set is a Python int, the cache
is one set of bitsets per interned state, and the cyclic garbage collector is paused (the
search makes many small containers and no cycles).

Partitions are searched in turns (slices of a few thousand pushes and pops), like Porcupine's
goroutines: a partition that fails fast ends the check even when another would run for
minutes.  The clock is read between slices; running out of time is a verdict
(``"undecided"``), never a silent pass.
"""

from __future__ import annotations

import gc
import math
import time
from collections import deque
from collections.abc import Callable
from collections.abc import Generator
from collections.abc import Sequence
from typing import Any
from typing import Final
from typing import Literal
from typing import NamedTuple

import attrs

from models import Model

from .._findings import Finding
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


# One partition's search, run in slices: it yields every ``budget[0]`` pushes + pops so that
# the driver can read the clock and take turns between partitions; it returns
# ``(True, order)`` or ``(False, longest prefix)`` as indices into the partition.
_Search = Generator[None, None, tuple[bool, list[int]]]

#: Slices start small, so that a partition that fails fast is not stuck behind slow ones, and
#: double every round up to a cap of a few ms of search, so that a deadline is overshot by
#: little and the clock and the turns cost nothing measurable.
_FIRST_SLICE: Final = 256
_MAX_SLICE: Final = 16384


def _unhashable(model: Model[Any, Any, Any], method: str, state: object) -> TypeError:
    return TypeError(
        f"{type(model).__name__}.{method}() returned the unhashable state {state!r} "
        f"({type(state).__name__}); the checker memoizes states, so they must be hashable: "
        "use a tuple, a frozenset or a frozen attrs value (see models.Model)."
    )


class _Lists(NamedTuple):
    """The search's two doubly linked lists over flat arrays indexed by entry (see :func:`_link`).

    Positions ``1..2n`` are the entries in time order; ``0`` is the main list's head, ``end``
    its tail, ``uhead`` / ``utail`` the unknown list's.  ``mt[e]`` is the return entry of call
    entry ``e`` (``> 0``), ``0`` for a return entry and ``-1`` for the call of an unknown
    outcome.  ``opi[e]`` is the operation's index in the partition, ``bit[e]`` its bit in the
    linearized set, ``inputs[e]`` / ``outputs[e]`` what the model is asked about.  A
    NamedTuple, not an attrs value: :func:`_search` unpacks it into locals in one statement.
    """

    end: int
    uhead: int
    size: int
    nxt: list[int]
    prv: list[int]
    mt: list[int]
    opi: list[int]
    bit: list[int]
    inputs: list[Any]
    outputs: list[Any]


def _link(ops: Sequence[Operation[Any, Any]]) -> _Lists:
    """The lists the search starts from: every operation in, nothing lifted out."""
    n = len(ops)
    # Entries sorted by time; at equal times calls (kind 0) before returns (kind 1): closed
    # intervals, as in Porcupine.  The sort is stable, so ties keep history order.  Positions
    # 1..2n are time order, and stay meaningful when entries are lifted out of the lists.
    keyed = []
    for i, op in enumerate(ops):
        keyed.append((op.call, 0, i))
        keyed.append((math.inf if op.return_ is None else op.return_, 1, i))
    keyed.sort(key=lambda k: (k[0], k[1]))

    # Two doubly linked lists over the same arrays.  The main list (head 0, tail ``end``)
    # holds the calls and returns of operations that returned.  The unknown list (head
    # ``uhead``, tail ``utail``) holds the calls of unknown outcomes: they return at infinity,
    # so they never close a window and need never be linearized; keeping them apart lets the
    # search try them after the others (they are rarely what a prefix needs) and finish as soon
    # as the main list is empty.
    end = 2 * n + 1
    uhead = end + 1
    utail = end + 2
    size = end + 3
    nxt = [0] * size
    prv = [0] * size
    mt = [0] * size  # >0: call entry (its return entry); 0: return entry; -1: unknown call
    opi = [-1] * size
    bit = [0] * size
    inputs: list[Any] = [None] * size
    outputs: list[Any] = [None] * size
    ret_of = [0] * n
    for pos, (_, kind, i) in enumerate(keyed, start=1):
        if kind:
            ret_of[i] = pos
    last = 0
    ulast = uhead
    for pos, (_, kind, i) in enumerate(keyed, start=1):
        op = ops[i]
        opi[pos] = i
        if op.outcome == "unknown":
            if kind:
                continue  # the return at infinity is implicit
            mt[pos] = -1
            nxt[ulast] = pos
            prv[pos] = ulast
            ulast = pos
        else:
            if not kind:
                mt[pos] = ret_of[i]
            nxt[last] = pos
            prv[pos] = last
            last = pos
        bit[pos] = 1 << i
        inputs[pos] = op.input
        outputs[pos] = op.output
    nxt[last] = end
    prv[end] = last
    nxt[ulast] = utail
    prv[utail] = ulast
    mt[utail] = -1  # utail > every position, so the window test in _search stops there
    return _Lists(end, uhead, size, nxt, prv, mt, opi, bit, inputs, outputs)


def _intern_init(model: Model[Any, Any, Any]) -> tuple[list[Any], dict[Any, int]]:
    """The interned states, index <-> state, holding the initial state at index 0."""
    init = model.init()
    try:
        return [init], {init: 0}
    except TypeError:
        raise _unhashable(model, "init", init) from None


def _search(
    model: Model[Any, Any, Any], ops: Sequence[Operation[Any, Any]], budget: list[int]
) -> _Search:
    # Locals, not attribute reads: the loop below is the checker's whole cost.
    end, uhead, size, nxt, prv, mt, opi, bit, inputs, outputs = _link(ops)
    # Interned states: index <-> state.  trans[e] memoizes step for call entry e: state index
    # -> next state index, or -1 when the model rejects it (or it is a pointless unknown).
    states, index_of = _intern_init(model)
    seen: list[set[int]] = [set()]  # Lowe's cache, split by state: the bitsets seen with it
    trans: list[dict[int, int]] = [{} for _ in range(size)]
    step = model.step

    stack: list[int] = []
    push = stack.append
    pop = stack.pop
    saved = [0] * size  # state index before call entry e was pushed
    saved_bound = [0] * size  # window bound before unknown call e was pushed
    best: list[int] = []
    best_len = 0
    lin = 0
    sid = 0
    bound = 0  # the first return entry of the main list, once the scan has reached it
    ticks = budget[0]
    e = nxt[0]
    if e == end:
        return True, []
    while True:
        r = mt[e]
        if r > 0 or (r < 0 and e < bound):
            # A call entry: try to linearize its operation next.
            t = trans[e]
            ns = t.get(sid)
            if ns is None:
                # Memo miss: ask the model once for this (operation, state).
                state = states[sid]
                out = outputs[e]
                legal, new = step(state, inputs[e], out)
                ns = -1
                # An unknown outcome that would leave the state as it is can as well never
                # have taken effect: pushing it would only multiply the cache.
                if legal and (out is not None or new != state):
                    try:
                        ns = index_of.get(new, -1)
                    except TypeError:
                        raise _unhashable(model, "step", new) from None
                    if ns < 0:
                        ns = len(states)
                        states.append(new)
                        index_of[new] = ns
                        seen.append(set())
                t[sid] = ns
            if ns >= 0:
                nl = lin | bit[e]
                s = seen[ns]
                if nl not in s:
                    s.add(nl)
                    saved[e] = sid
                    push(e)
                    sid = ns
                    lin = nl
                    # Lift the entries out (dancing links: their own pointers are kept, so
                    # unlifting in LIFO order restores the lists exactly).
                    p = prv[e]
                    q = nxt[e]
                    nxt[p] = q
                    prv[q] = p
                    if r > 0:
                        p = prv[r]
                        q = nxt[r]
                        nxt[p] = q
                        prv[q] = p
                    else:
                        saved_bound[e] = bound
                    e = nxt[0]
                    if e == end:
                        return True, [opi[x] for x in stack]
                    ticks -= 1
                    if not ticks:
                        yield
                        ticks = budget[0]
                    continue
            e = nxt[e]
        elif r == 0:
            # The first return of the main list: its operation must come before anything
            # called after it.  Calls of unknown outcomes before it are candidates too.
            bound = e
            e = nxt[uhead]
        else:
            # Every candidate has been tried: this configuration is dead, undo the last choice.
            if not stack:
                return False, [opi[x] for x in best]
            if len(stack) > best_len:
                best_len = len(stack)
                best = stack.copy()
            e = pop()
            sid = saved[e]
            lin ^= bit[e]
            r = mt[e]
            if r > 0:
                p = prv[r]
                q = nxt[r]
                nxt[p] = r
                prv[q] = r
            else:
                bound = saved_bound[e]
            p = prv[e]
            q = nxt[e]
            nxt[p] = e
            prv[q] = e
            e = nxt[e]
            ticks -= 1
            if not ticks:
                yield
                ticks = budget[0]


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
) -> CheckResult:
    """Check that ``operations`` are linearizable with respect to ``model``.

    ``fail`` outcomes are dropped (they did not take effect); ``unknown`` outcomes return at
    infinity and may also never have taken effect.  The history is split with
    ``model.partition``; the parts are searched in turns of a few milliseconds each, smallest
    first, like Porcupine's parallel goroutines, so one part that fails fast ends the check
    even if another would take forever.  ``timeout`` (seconds, ``None`` for no limit) bounds
    the whole check across parts; when it runs out the verdict is ``"undecided"``.  ``clock``
    is injectable for tests.
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
    order = sorted(range(len(parts)), key=lambda k: len(parts[k]))
    witnesses: dict[int, tuple[Operation[Any, Any], ...]] = {}
    failed: tuple[int, list[int]] | None = None
    # The search allocates many small sets and dicts and no cycles: the cyclic collector would
    # only rescan them (a measured 15-25% of the run).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        budget = [_FIRST_SLICE]
        running = deque((k, _search(model, parts[k], budget)) for k in order)
        turns = len(running)
        while running and clock() <= deadline:
            if turns == 0:  # a round is over
                turns = len(running)
                budget[0] = min(2 * budget[0], _MAX_SLICE)
            turns -= 1
            k, search = running.popleft()
            try:
                next(search)
            except StopIteration as done:
                ok, ids = done.value
                if not ok:
                    failed = (k, ids)
                    break
                witnesses[k] = tuple(parts[k][i] for i in ids)
            else:
                running.append((k, search))
    finally:
        if gc_was_enabled:
            gc.enable()
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
