"""Symmetry reduction over started actors: when swapping two actors' names changes nothing.

Soundness.  Let actors ``i`` and ``j`` run the same program up to their own names (one
``symmetry`` class: neither is named by the initial state, the set-up or another actor), and
let ``pi`` swap their names everywhere: in the schedule, in the documents, in local state.  The
system is then ``pi``-symmetric: if a schedule ``s`` reaches state ``S``, the schedule ``pi(s)``
(``s`` with ``i`` and ``j`` exchanged) reaches ``pi(S)``, each of its steps doing what the
corresponding step of ``s`` did under the other name.  Now suppose ``pi(s)`` is *equivalent* to
``s`` (the same steps, each pair of dependent steps in the same order: Mazurkiewicz
equivalence, the relation sleep sets rely on).  Equivalent schedules reach the same state, so
``S = pi(S)``: the state, the documents included, is invariant under the swap.  From such a
state, running ``i`` next or ``j`` next leads to states that are images of each other under
``pi``, and so does every continuation; the verdict does not depend on names (the model renames
consistently), so exploring one of the two loses no violation and no outcome up to renaming.

The test below decides ``s ~ pi(s)`` from the steps run so far: ``i``'s ``k``-th step and
``j``'s ``k``-th step must have the same label (and the same measured effect), and swapping them
must keep the order of every pair of dependent steps.  The names written into documents are
exactly why that is needed: a claimer that *won* wrote ``worker: "w3"``; its step changed the
document, so it is dependent on the other claimers' later steps on that document, and the swap
would reorder them: such a claimer is never interchangeable with another.  Two claimers that
both read version 1 and both lost their compare-and-set did steps that changed nothing (see
``runtime._effects``), which commute: they are interchangeable, whatever order they lost in.

Two departures from exact equality, shared with the rest of the reduction: a coordinator's
claim-token counter is shared by its actors and numbered in step order (a swap renumbers tokens,
which are only compared for equality), and a memory store's etags come from a store-wide
counter.  Neither changes an answer's kind or the state the checks read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._protocol import independent

__all__ = ["interchangeable"]


def interchangeable(events: Sequence[tuple[int, Any]], i: int, j: int) -> bool:
    """Is the schedule ``events`` (``(actor, label)`` per step, labels with measured effects)
    equivalent to itself with actors ``i`` and ``j`` exchanged?  (See the module.)"""
    mine = [p for p, (actor, _) in enumerate(events) if actor == i]
    theirs = [p for p, (actor, _) in enumerate(events) if actor == j]
    if len(mine) != len(theirs):
        return False
    twin: dict[int, int] = {}
    for p, q in zip(mine, theirs, strict=True):
        if events[p][1] != events[q][1]:
            return False
        twin[p] = q
        twin[q] = p
    for p, q in twin.items():
        actor, label = events[p]
        for r, (other, other_label) in enumerate(events):
            if r == p or other == actor or independent(label, other_label):
                continue
            if (p < r) != (q < twin.get(r, r)):
                return False
    return True
