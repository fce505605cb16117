"""The checker's hot loop: one partition's search, Wing & Gong with Lowe's memoization.

This module is the whole cost of a check, so it is written for speed and compiled when it can
be: ``make`` builds it with mypyc into a C extension (``_search_c``, from a copy of this file
that records its CRC-32), and :mod:`harness.check._driver` uses the compiled module only if
that checksum matches this file, so an edit here never runs a stale build.  Without a build the
same code runs as Python; the tests run both.  Keep it to ints, lists, dicts and sets.

See :mod:`harness.check._checker` for the algorithm; what is specific to this file:

* Flat int arrays for three doubly linked lists (:func:`_link`), interned states, a per-entry
  memo of ``step`` (state index -> next state index, -1 when illegal).
* Pinned reads (the model's ``pinned_state`` hook: a read legal in one state alone) live in
  their own list, out of the scan, indexed by the state that makes them legal.  Entering a
  configuration, the search first places a pinned read that is legal there, if one is a
  candidate, and never tries its alternatives: a legal read that changes nothing can always
  go first (any linearization that places it later stays legal with it moved to the front,
  and real time allows that because it is a candidate now).  So backing out of such a read
  means the configuration it was placed in is dead too.  Half of a kv scan's visits were
  reads that were not legal yet; now none are.
* Reachability (the model's ``reachability`` hook): every pinned read that returned must take
  effect some time, so entering a configuration the model is asked about the earliest
  pinned read still open: could operations of the partition still lead to its state?  If
  not, the configuration is dead without searching it.  This keeps kv histories with 40
  clients tractable: a wrong order of appends is refuted as soon as a read disagrees,
  instead of after every permutation of what follows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any
from typing import Final
from typing import NamedTuple

from models import Model

from ._operation import Operation

__all__ = ["FIRST_SLICE", "MAX_SLICE", "PartitionSearch", "unhashable"]

#: Slices start small, so that a partition that fails fast is not stuck behind slow ones, and
#: double every round up to a cap of about a millisecond: a partition that fails after n
#: pushes + pops then costs each other partition little more than n (the doubling alone
#: overshoots up to 2n: c50-bad.txt took 0.052 s with a cap of 16,384, 0.044 s with 1,024),
#: and the clock and the turns still cost nothing measurable.
FIRST_SLICE: Final = 128
MAX_SLICE: Final = 1024


def unhashable(model: Model[Any, Any, Any], method: str, state: object) -> TypeError:
    return TypeError(
        f"{type(model).__name__}.{method}() returned the unhashable state {state!r} "
        f"({type(state).__name__}); the checker memoizes states, so they must be hashable: "
        "use a tuple, a frozenset or a frozen attrs value (see models.Model)."
    )


class _Lists(NamedTuple):
    """The search's doubly linked lists over flat arrays indexed by entry (see :func:`_link`).

    Positions ``1..2n`` are the entries in time order.  Three lists share the arrays: the main
    list (head ``0``, tail ``end``) holds the calls of operations that returned, but pinned
    reads, and every return; the unknown list (head ``uhead``, tail ``uhead + 1``) the calls
    of unknown outcomes; the pinned list (head ``phead``, tail ``phead + 1``) the calls of
    pinned reads.  ``mt[e]`` is the return entry of call entry ``e`` (``> 0``), ``0`` for a
    return entry and ``-1`` for the call of an unknown outcome.  ``pin[e]`` is the interned
    state a pinned read is legal in (else ``-1``).  ``opi[e]`` is the operation's index in the
    partition, ``bit[e]`` its bit in the linearized set, ``inputs[e]`` / ``outputs[e]`` what
    the model is asked about.  A NamedTuple: :func:`search_partition` unpacks it into locals.
    """

    end: int
    uhead: int
    phead: int
    size: int
    nxt: list[int]
    prv: list[int]
    mt: list[int]
    pin: list[int]
    opi: list[int]
    bit: list[int]
    inputs: list[Any]
    outputs: list[Any]


def _link(ops: Sequence[Operation[Any, Any]], pinned: list[int]) -> _Lists:
    """The lists the search starts from: every operation in, nothing lifted out.

    ``pinned[i]`` is the interned state operation ``i`` is pinned to, or -1.
    """
    n = len(ops)
    # Entries sorted by time; at equal times calls (kind 0) before returns (kind 1): closed
    # intervals, as in Porcupine.  The sort is stable, so ties keep history order.  Positions
    # 1..2n are time order, and stay meaningful when entries are lifted out of the lists.
    keyed = []
    for i, op in enumerate(ops):
        keyed.append((op.call, 0, i))
        keyed.append((math.inf if op.return_ is None else op.return_, 1, i))
    keyed.sort()  # ties on (time, kind) keep history order: i grows with it

    # Unknown outcomes return at infinity, so they never close a window and need never be
    # linearized: keeping their calls apart lets the search try them after the others (they
    # are rarely what a prefix needs) and finish as soon as the main list is empty.
    end = 2 * n + 1
    uhead = end + 1
    phead = end + 3
    size = end + 5
    nxt = [0] * size
    prv = [0] * size
    mt = [0] * size  # >0: call entry (its return entry); 0: return entry; -1: unknown call
    pin = [-1] * size
    opi = [-1] * size
    bit = [0] * size
    inputs: list[Any] = [None] * size
    outputs: list[Any] = [None] * size
    ret_of = [0] * n
    for pos, (_, kind, i) in enumerate(keyed, start=1):
        if kind:
            ret_of[i] = pos
    tails = [0, uhead, phead]  # each list's last entry so far: main, unknown, pinned
    for pos, (_, kind, i) in enumerate(keyed, start=1):
        op = ops[i]
        opi[pos] = i
        bit[pos] = 1 << i
        inputs[pos] = op.input
        outputs[pos] = op.output
        if op.outcome == "unknown":
            if kind:
                continue  # the return at infinity is implicit
            mt[pos] = -1
            which = 1
        elif kind:
            which = 0
        else:
            mt[pos] = ret_of[i]
            pin[pos] = pinned[i]
            which = 2 if pinned[i] >= 0 else 0
        nxt[tails[which]] = pos
        prv[pos] = tails[which]
        tails[which] = pos
    for which, tail in enumerate((end, uhead + 1, phead + 1)):
        nxt[tails[which]] = tail
        prv[tail] = tails[which]
    # The tails of the unknown and pinned lists are beyond every position, so the window
    # tests of the search (``e < bound``) stop there.
    mt[uhead + 1] = -1
    return _Lists(end, uhead, phead, size, nxt, prv, mt, pin, opi, bit, inputs, outputs)


def _intern_init(model: Model[Any, Any, Any]) -> tuple[list[Any], dict[Any, int]]:
    """The interned states, index <-> state, holding the initial state at index 0."""
    init = model.init()
    try:
        return [init], {init: 0}
    except TypeError:
        raise unhashable(model, "init", init) from None


def _pins(
    model: Model[Any, Any, Any],
    ops: Sequence[Operation[Any, Any]],
    states: list[Any],
    index_of: dict[Any, int],
    seens: list[list[set[int]]],
) -> list[int]:
    """For each operation, the interned state it alone is legal in (a pinned read), or -1."""
    pinned_state = getattr(model, "pinned_state", None)
    pinned = [-1] * len(ops)
    if pinned_state is None:
        return pinned
    for i, op in enumerate(ops):
        if op.outcome != "ok":
            continue  # an unknown outcome shows nothing
        one = pinned_state(op.input, op.output)
        if one:
            state = one[0]
            sid = index_of.get(state, -1)
            if sid < 0:
                sid = len(states)
                states.append(state)
                index_of[state] = sid
                for seen in seens:
                    seen.append(set())
            pinned[i] = sid
    return pinned


_NO_MEMO: Final[dict[int, int]] = {}


class _Shared:
    """What the scans of one partition share: the lists as built, the interned states, Lowe's
    cache and the memo of ``step`` (entries are numbered alike in every scan)."""

    def __init__(self, model: Model[Any, Any, Any], ops: Sequence[Operation[Any, Any]]) -> None:
        # Interned states: index <-> state.  trans[e] memoizes step for call entry e: state
        # index -> next state index, or -1 when the model rejects it (or it is a pointless
        # unknown).
        states, index_of = _intern_init(model)
        self.states = states
        self.index_of = index_of
        # Lowe's cache of each scan, by state: the bitsets seen with it.  A scan's cache grows
        # with the states once the scan has started (see start()).
        self.seen: list[list[set[int]]] = [[set()], []]
        self.growing = [self.seen[0]]
        self.lists = _link(ops, _pins(model, ops, states, index_of, self.growing))
        # One shared empty memo until an entry's first answer (most entries of a long history
        # are never asked about in most states): see memo().
        self.trans: list[dict[int, int]] = [_NO_MEMO] * self.lists.size
        self.model = model
        reachability = getattr(model, "reachability", None)
        self.reachable: Callable[[Any, Any], bool] | None = (
            None if reachability is None else reachability([op.input for op in ops])
        )
        # The pinned reads by the state they are legal in, in time order.
        self.waiting: dict[int, list[int]] = {}
        for e in range(1, self.lists.end):
            if self.lists.pin[e] >= 0:
                self.waiting.setdefault(self.lists.pin[e], []).append(e)

    def step(self, e: int, sid: int) -> int:
        """Memo miss: ask the model once for this (operation, state), and memoize the answer."""
        states = self.states
        state = states[sid]
        out = self.lists.outputs[e]
        legal, new = self.model.step(state, self.lists.inputs[e], out)
        ns = -1
        # An unknown outcome that would leave the state as it is can as well never have
        # taken effect: pushing it would only multiply the cache.
        if legal and (out is not None or new != state):
            try:
                ns = self.index_of.get(new, -1)
            except TypeError:
                raise unhashable(self.model, "step", new) from None
            if ns < 0:
                ns = len(states)
                states.append(new)
                self.index_of[new] = ns
                for seen in self.growing:
                    seen.append(set())
        self.memo(e)[sid] = ns
        return ns

    def start(self, scan: int) -> None:
        """Give scan ``scan`` its cache: one empty set per state so far."""
        seen = self.seen[scan]
        seen.extend(set() for _ in range(len(self.states) - len(seen)))
        self.growing.append(seen)

    def memo(self, e: int) -> dict[int, int]:
        """Entry ``e``'s own memo, made on its first answer."""
        t = self.trans[e]
        if t is _NO_MEMO:
            t = self.trans[e] = {}
        return t


#: Pushes + pops a partition's call-order scan gets alone before the other order joins in.
ALONE: Final = 8192


class PartitionSearch:
    """One partition's search, run in slices (:meth:`run`) so that a driver can take turns.

    A portfolio of two orders.  Which order of candidates finds a linearization sooner depends
    on the history: latest call first needs 10x fewer pushes than call order (Porcupine's) on
    some keys of Porcupine's c50-ok.txt, and 5x more on generated histories with 40 clients.
    So the call-order scan runs alone for its first ``ALONE`` pushes + pops (most partitions,
    and every fast failure, are decided by then), then the two scans take turns.  Each is a
    whole search with its own Lowe's cache (shared, a cache lets one order skip what the
    other has claimed, and the slow order then blocks the fast one), so the first verdict
    from either is the partition's.  They share the interned states and the memo of ``step``.
    """

    def __init__(self, model: Model[Any, Any, Any], ops: Sequence[Operation[Any, Any]]) -> None:
        self.shared = _Shared(model, ops)
        self.forward = _Scan(self.shared, backward=False)
        self.backward: _Scan | None = None  # made when it joins in
        self.spent = 0  # pushes + pops so far, while the call-order scan ran alone

    def run(self, ticks: int) -> tuple[bool, list[int]] | None:
        """Search for about ``ticks`` pushes + pops: ``None`` if undecided yet, else
        ``(True, order)`` or ``(False, longest prefix)``, as indices into the partition."""
        forward = self.forward
        if self.spent < ALONE:
            alone = min(ticks, ALONE - self.spent)
            self.spent += alone
            outcome = forward.run(alone)
            ticks -= alone
            if outcome is not None or not ticks:
                return outcome
        backward = self.backward
        if backward is None:
            self.shared.start(1)
            backward = self.backward = _Scan(self.shared, backward=True)
        share = max(1, ticks // 2)
        # Each scan is a whole search: either verdict is the partition's.
        return forward.run(share) or backward.run(share)


class _Scan:
    """One scan of a partition's configurations, in one order of candidates."""

    def __init__(self, shared: _Shared, *, backward: bool) -> None:
        self.shared = shared
        self.backward = backward
        size = shared.lists.size
        self.nxt = shared.lists.nxt.copy()  # each scan lifts entries out of its own lists
        self.prv = shared.lists.prv.copy()
        self.stack: list[int] = []
        self.saved = [0] * size  # state index before call entry e was pushed
        self.saved_b = [0] * size  # the first return of the main list then
        self.saved_bound = [0] * size  # window bound before unknown call e was pushed
        self.best: list[int] = []
        # Where the scan stands between slices: the linearized set, the state, the first return
        # of the main list, the window's bound for unknown calls (once the scan reached it),
        # whether a configuration was just reached (1: look at its pinned reads first), and
        # the entry to look at next.
        self.at = [0, 0, 0, 0, 1, self.nxt[0]]

    def run(self, ticks: int) -> tuple[bool, list[int]] | None:
        """Search for ``ticks`` pushes + pops: ``None`` if undecided yet, else ``(True, order)``
        or ``(False, longest prefix)``, as indices into the partition."""
        # Locals, not attribute reads: the loop below is the checker's whole cost.
        shared = self.shared
        end, uhead, phead, _, _, _, mt, pin, opi, bit, _, _ = shared.lists
        nxt, prv = self.nxt, self.prv
        scan = prv if self.backward else nxt  # where the scan goes after a call entry
        utail = uhead + 1
        seen = shared.seen[self.backward]
        trans = shared.trans
        reachable = shared.reachable
        waiting = shared.waiting
        stack = self.stack
        saved, saved_b = self.saved, self.saved_b
        lin, sid, b, bound, entering, e = self.at
        if e == end:
            return True, []
        while ticks > 0:
            if entering:
                entering = 0
                # The first return of the main list bounds the candidates (called before it).
                b = e
                while mt[b] > 0:
                    b = nxt[b]
                for x in waiting.get(sid, ()):
                    if x > b:
                        break
                    if not lin & bit[x]:
                        e = x  # a legal pinned read is a candidate: it goes first
                        break
                else:
                    x = nxt[phead]
                    target = pin[x]
                    if x < b and reachable is not None and target != sid:
                        # The earliest open pinned read must take effect some time: if nothing
                        # can lead from here to its state, this configuration is dead.
                        ns = trans[x].get(sid)
                        if ns is None:
                            ns = shared.memo(x)[sid] = (
                                -1 if reachable(shared.states[sid], shared.states[target]) else -2
                            )
                        if ns == -2:
                            e = utail
                if e == nxt[0] and scan is prv:
                    e = prv[b]  # latest call first: scan the window backwards
            r = mt[e]
            if r > 0 or (r < 0 and e < bound):
                # A call entry: try to linearize its operation next.
                t = trans[e]
                ns = t.get(sid)
                if ns is None:
                    # A pinned read is tried only in its own state; else ask the model.
                    ns = sid if pin[e] >= 0 else shared.step(e, sid)
                if ns >= 0:
                    nl = lin | bit[e]
                    s = seen[ns]
                    if nl not in s:
                        s.add(nl)
                        saved[e] = sid
                        saved_b[e] = b
                        stack.append(e)
                        sid = ns
                        lin = nl
                        # Lift the entries out (dancing links: their own pointers are kept, so
                        # unlifting in LIFO order restores the lists exactly).
                        nxt[prv[e]] = nxt[e]
                        prv[nxt[e]] = prv[e]
                        if r > 0:
                            nxt[prv[r]] = nxt[r]
                            prv[nxt[r]] = prv[r]
                        else:
                            self.saved_bound[e] = bound
                        e = nxt[0]
                        if e == end:
                            return True, [opi[x] for x in stack]
                        entering = 1
                        ticks -= 1
                        continue
                    if pin[e] >= 0:
                        # A legal read could go first, and that configuration was searched
                        # already: this one is dead too.
                        e = utail
                        continue
                e = scan[e] if r > 0 else nxt[e]
            elif r == 0:
                # Every call before the first return of the main list was tried (the scan
                # reached that return, or the head going backwards); its operation must come
                # before anything called after it.  Calls of unknown outcomes before it are
                # candidates too.
                bound = b
                e = nxt[uhead]
            else:
                # Every candidate has been tried: this configuration is dead, undo the last choice.
                if not stack:
                    return False, [opi[x] for x in self.best]
                if len(stack) > len(self.best):
                    self.best = stack.copy()
                e = stack.pop()
                sid = saved[e]
                b = saved_b[e]
                lin ^= bit[e]
                r = mt[e]
                if r > 0:
                    nxt[prv[r]] = r
                    prv[nxt[r]] = r
                else:
                    bound = self.saved_bound[e]
                nxt[prv[e]] = e
                prv[nxt[e]] = e
                # Backing out of a pinned read means the configuration it was placed in is dead
                # (a legal read can always go first): back out of that one too.
                e = utail if pin[e] >= 0 else scan[e] if r > 0 else nxt[e]
                ticks -= 1
        self.at = [lin, sid, b, bound, entering, e]
        return None
