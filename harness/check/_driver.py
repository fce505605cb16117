"""Running the partitions' searches: in turns in this process, or spread over processes.

Partitions are independent (P-compositionality), so they are searched in turns, like
Porcupine's goroutines: slices of a few thousand pushes and pops each, smallest partition
first, so that one that fails fast ends the check even when another would run for minutes.
With ``workers > 1``, what is still undecided after a few tens of milliseconds is dealt to
forked processes, each going on with its share in turns; the first failure ends them all.
The clock is read between slices either way.

Which search runs: the mypyc build of ``_search`` (``make`` writes ``_search_c``) when it
was built from this very ``_search.py`` (its recorded CRC-32 matches), else the Python one.
``CLAIMCHECK_PURE_PYTHON=1`` forces the Python one.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from collections import deque
from collections.abc import Callable
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from models import Model

from . import _search
from ._operation import Operation

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

# ``multiprocessing`` is imported when first needed: ``claimcheck
# check-history`` on a small file must start fast.

__all__ = ["Outcome", "drive", "search_implementation"]

# Per partition index: True and the witness order, or False and the longest prefix found.
Outcome = dict[int, tuple[bool, list[int]]]
_Searcher = Callable[[Model[Any, Any, Any], Sequence[Operation[Any, Any]]], Any]


def _load_search() -> tuple[str, _Searcher]:
    if os.environ.get("CLAIMCHECK_PURE_PYTHON"):
        return "python", _search.PartitionSearch
    try:
        compiled = importlib.import_module(f"{__package__}._search_c")
    except ImportError:
        return "python", _search.PartitionSearch
    import zlib  # not hashlib: importing OpenSSL would cost a third of a small check's start

    with open(_search.__file__, "rb") as f:
        digest = zlib.crc32(f.read())
    if getattr(compiled, "SOURCE_CRC32", None) != digest:
        return "python", _search.PartitionSearch  # a stale build: never run it
    return "compiled", compiled.PartitionSearch


_LOADED: list[tuple[str, _Searcher]] = []


def _searcher() -> tuple[str, _Searcher]:
    if not _LOADED:
        _LOADED.append(_load_search())
    return _LOADED[0]


def search_implementation() -> str:
    """``"compiled"`` (the mypyc build of ``_search``) or ``"python"``: what checks run."""
    return _searcher()[0]


# The searches still running, each with its partition's index, in the order they take turns.
_Running = deque[tuple[int, Any]]


def _take_turns(running: _Running, deadline: float, clock: Callable[[], float]) -> Outcome:
    """Let ``running`` take turns until each is decided, one fails, or ``deadline`` passes.

    Decided searches leave ``running``; the others stay in it, ready to go on (here, or in a
    forked process).
    """
    done: Outcome = {}
    # The search allocates many small sets and dicts and no cycles: the cyclic collector would
    # only rescan them (a measured 15-25% of the run).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        budget = _search.FIRST_SLICE
        turns = len(running)
        while running and clock() <= deadline:
            if turns == 0:  # a round is over
                turns = len(running)
                budget = min(2 * budget, _search.MAX_SLICE)
            turns -= 1
            k, partition = running.popleft()
            outcome = partition.run(budget)
            if outcome is None:
                running.append((k, partition))
                continue
            done[k] = outcome
            if not outcome[0]:
                break
    finally:
        if gc_was_enabled:
            gc.enable()
    return done


#: How long a check runs in this process before it forks workers: most histories are decided
#: sooner, and a fork costs more than that.
_ALONE_FOR: Final = 0.03


def drive(
    model: Model[Any, Any, Any],
    parts: Sequence[Sequence[Operation[Any, Any]]],
    deadline: float,
    clock: Callable[[], float],
    *,
    workers: int = 1,
    search: _Searcher | None = None,
) -> Outcome:
    """The outcome of every partition decided before ``deadline`` (or the first failure).

    With ``workers > 1`` the search starts here all the same; whatever is still running after
    ``_ALONE_FOR`` seconds is dealt to forked processes, which go on from where it stood.
    """
    search = search or _searcher()[1]
    order = sorted(range(len(parts)), key=lambda k: len(parts[k]))
    running: _Running = deque((k, search(model, parts[k])) for k in order)
    if workers <= 1 or len(parts) < 2 or sys.platform == "win32":
        return _take_turns(running, deadline, clock)
    done = _take_turns(running, min(deadline, clock() + _ALONE_FOR), clock)
    if not running or any(not ok for ok, _ in done.values()) or clock() > deadline:
        return done
    shares: list[_Running] = [deque() for _ in range(min(workers, len(running)))]
    for i, item in enumerate(running):
        shares[i % len(shares)].append(item)
    done.update(_in_processes(shares, deadline, clock))
    return done


def _in_processes(shares: list[_Running], deadline: float, clock: Callable[[], float]) -> Outcome:
    import multiprocessing
    from multiprocessing.connection import wait

    # Forked, so the children go on with the searches as they stand, without pickling them;
    # only the outcomes (lists of ints) come back.
    context = multiprocessing.get_context("fork")
    children = []
    waiting: dict[Connection, Any] = {}
    for share in shares:
        receive, send = context.Pipe(duplex=False)
        child = context.Process(target=_child, args=(send, share, deadline, clock), daemon=True)
        child.start()
        send.close()
        children.append(child)
        waiting[receive] = child
    done: Outcome = {}
    try:
        while waiting:
            left = deadline - clock()
            if left < 0:
                break
            for ready in wait(list(waiting), timeout=None if left == float("inf") else left):
                assert ready in waiting
                try:
                    outcome: Outcome = ready.recv()
                except EOFError:
                    outcome = {}  # the child died (out of memory?): its partitions stay open
                del waiting[ready]
                done.update(outcome)
            if any(not ok for ok, _ in done.values()):
                break
    finally:
        for child in children:
            if child.is_alive():
                child.terminate()
        for child in children:
            child.join()
        for connection in waiting:
            connection.close()
    return done


def _child(send: Connection, share: _Running, deadline: float, clock: Callable[[], float]) -> None:
    send.send(_take_turns(share, deadline, clock))
    send.close()
