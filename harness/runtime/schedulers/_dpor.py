"""Source-set DPOR: the races of one execution and the actors that reverse them.

Abdulla, Aronis, Jonsson and Sagonas, "Optimal dynamic partial order reduction" (POPL 2014),
Algorithm 1 ("Source-DPOR").  After each execution ``E`` (finished or pruned by the sleep
sets), every race ``e < e'`` of it -- two steps of different actors, dependent, ``e``
happening before ``e'`` with no step in between ordered after ``e`` and before ``e'`` -- is a
reordering the search must try: ``v = notdep(e, E).e'`` (the steps after ``e`` that do not
happen after it, then ``e'``) can run right where ``e`` ran.  The search adds one *initial*
of ``v`` (an actor whose first step in ``v`` has nothing of ``v`` ordered before it) to the
backtrack set of the decision before ``e``, unless one is there already.

Happens-before is program order plus the order of dependent steps (``not independent``, on the
labels with measured effects, as the sleep sets use them), transitively closed; it is kept as
one bit set per step (the vector clock of the step, one bit per earlier step).

Why measured effects may be used: a step's label (a write that changed nothing counts as a
read) depends only on its document as its happens-before predecessors left it, and swapping
two adjacent independent steps keeps both labels (a read or a write that changed nothing leaves
the document as it was).  So every execution equivalent to ``E`` has the same steps with the
same labels, and the steps of ``notdep(e, E)`` behave in ``pre(E, e).v`` as they did in ``E``.
``e'`` itself may not: run before ``e`` it may change its document.  Its dependencies within
``v`` are therefore taken from its label as written (``raw``), never from its measured effect:
fewer actors count as initials, which can only add exploration.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

from ._protocol import independent

__all__ = ["reversals"]


def reversals(
    events: Sequence[tuple[int, Any]],
    raw: Sequence[Any],
    start: int,
    wanted: Callable[[int], bool],
) -> list[tuple[int, list[int]]]:
    """The races ``(i, j)`` of ``events`` (``(actor, label)`` per step, measured labels) with
    ``j >= start`` and ``wanted(i)``, each as ``(i, initials)``: the actors that may start
    ``notdep(e_i).e_j`` at the decision before step ``i``, in the order they appear there.
    ``raw[j]`` is step ``j``'s label as written (see the module)."""
    hb: list[int] = []  # hb[k]: bit i set when step i happens before step k
    last: dict[int, int] = {}
    out: list[tuple[int, list[int]]] = []
    for j, (actor, label) in enumerate(events):
        before = via = 0
        prev = last.get(actor)
        if prev is not None:
            before = hb[prev] | (1 << prev)
            via = hb[prev]
        direct = []
        for i in range(j):
            other, other_label = events[i]
            if other != actor and not independent(other_label, label):
                direct.append(i)
                before |= hb[i] | (1 << i)
                via |= hb[i]
        hb.append(before)
        last[actor] = j
        if j < start:
            continue
        for i in direct:
            # A race: nothing ordered after step i is ordered before step j.
            if not (via >> i) & 1 and wanted(i):
                out.append((i, _initials(events, raw[j], hb, i, j)))
    return out


def _initials(
    events: Sequence[tuple[int, Any]], last: Any, hb: Sequence[int], i: int, j: int
) -> list[int]:
    """The initials of ``notdep(e_i).e_j``: the first step of an actor in it that no earlier
    step of it is dependent on (no step before it in ``v`` happens before it in ``pre.v``)."""
    v = [k for k in range(i + 1, j) if not (hb[k] >> i) & 1]
    v.append(j)
    seen: set[int] = set()
    initials = []
    for n, k in enumerate(v):
        actor = events[k][0]
        if actor in seen:
            continue
        seen.add(actor)
        label = last if k == j else events[k][1]
        if all(independent(events[m][1], label) for m in v[:n]):
            initials.append(actor)
    return initials
