"""Are a store's scheduling labels honest?  The exhaustive search trusts them.

Each scheduling point carries a label ``(op, partition_key, id_or_None, writes)``.  The
exhaustive search's partial-order reduction reads two points as commuting when they name
different partitions, or different ids, or are both reads, and then explores one order only.
A label that hides what the operation does (a write labelled as a read, a document labelled as
another one) makes the search skip real interleavings and still report "complete".  So the
suite checks labels two ways:

* :class:`LabelAudit` sees every point every validated call yields under control and checks it
  against what the call did: one label per partition and per document, every time; no
  document id on a whole-partition read; a write that took effect labelled as a write at some
  point; no operation that answers without a point.
* :func:`check_labels` runs small two-actor workloads under the exhaustive search twice, with
  and without reduction, and compares the outcomes (answers and final documents) each
  reaches: without reduction every interleaving runs, so an outcome only that search reaches
  is one the labels hid.  This catches what no label shows: an effect made outside its point.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from collections.abc import Coroutine
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any

import attrs

from stores import Doc
from stores import DocumentExists
from stores import DocumentNotFound
from stores import Expected
from stores import Store

from ..runtime import ActorError
from ..runtime import ExhaustiveScheduler
from ..runtime import drive
from ..runtime import run_actors
from ._parallel import Pool

if TYPE_CHECKING:
    from ._stores import Keeper

__all__ = ["LabelAudit", "check_labels", "plain"]

#: Problems kept per audit (the first ones are the evidence; the rest would repeat them).
_KEEP = 5


class LabelAudit:
    """Checks the labels of every point a validated call yields (thread-safe, one per run)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Across every store the factory makes: the exhaustive search compares the labels of
        # one schedule with those of the schedules before it, each on a fresh store, so a
        # store that labels one partition its own way (a namespace per store in the label,
        # say) makes it take two writes to one document for independent.
        self._partitions: dict[str, object] = {}
        self._documents: dict[tuple[str, str], object] = {}
        self.problems: list[str] = []

    def record(
        self,
        kind: str,
        target: tuple[str, str | None],
        points: list[object],
        *,
        wrote: bool,
        answered: bool,
    ) -> None:
        """One call of ``kind`` on ``target`` (partition, id or None) yielded ``points``.

        A point that is not a label (an asyncio future or bare yield, a trio trap: the loop's
        own step, which the runtime labels ``("asyncio" | "trio", "*", None, True)``) is
        dependent on everything, so it is honest, conservatively; a call made only of such
        steps is too.  Explicit labels are still checked as they are: a write labelled as a
        read is caught even when loop steps follow it.
        """
        labels = [tuple(p) for p in points if isinstance(p, tuple)]
        unlabelled = len(labels) < len(points)
        partition, id = target
        call = f"{kind}({partition!r})" if id is None else f"{kind}({id!r}, {partition!r})"
        with self._lock:
            problem = self._problem(
                kind, target, labels, wrote=wrote, answered=answered and not unlabelled
            )
            if problem is not None and len(self.problems) < _KEEP:
                self.problems.append(f"{call} {problem}")

    def _problem(
        self,
        kind: str,
        target: tuple[str, str | None],
        labels: list[tuple[Any, ...]],
        *,
        wrote: bool,
        answered: bool,
    ) -> str | None:
        partition, id = target
        if not labels:
            return "answered without a scheduling point" if answered else None
        for label in labels:
            if not _well_formed(label):
                return f"yielded {label!r}, not a label (op, partition_key, id or None, writes)"
            known = self._partitions.setdefault(partition, label[1])
            if known != label[1]:
                return (
                    f"labelled its partition {label[1]!r}; other calls on that partition "
                    f"labelled it {known!r} (one partition, one label, in every store the "
                    "factory makes: the exhaustive search compares labels across schedules)"
                )
            if id is None and label[2] is not None:
                return f"labelled a read of the whole partition with the id {label[2]!r}"
            if id is not None and label[2] is not None:
                seen = self._documents.setdefault((partition, id), label[2])
                if seen != label[2]:
                    return (
                        f"labelled its document {label[2]!r}; other calls on that document "
                        f"labelled it {seen!r} (one document, one label)"
                    )
        if wrote and not any(label[3] for label in labels):
            shown = ", ".join(map(repr, labels))
            return f"wrote, but labelled each of its scheduling points as a read: {shown}"
        return None


def _well_formed(label: tuple[Any, ...]) -> bool:
    return (
        len(label) == 4
        and isinstance(label[0], str)
        and isinstance(label[1], str)
        and (label[2] is None or isinstance(label[2], str))
        and isinstance(label[3], bool)
    )


def plain(value: object) -> Any:
    """A JSON-like copy of a body or value: mappings as dicts, sequences as lists."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


# -- the cross-check ------------------------------------------------------------------------

Step = Callable[[Store, dict[str, Doc | None]], Coroutine[Any, Any, object]]


def _seen(doc: object) -> object:
    if isinstance(doc, Doc):
        return ["doc", plain(doc.body)]
    return ["list", [[d.id, plain(d.body)] for d in doc]] if isinstance(doc, list) else doc


def _get(id: str) -> Step:
    async def step(store: Store, seen: dict[str, Doc | None]) -> object:
        seen[id] = await store.get(id, "p")
        return _seen(seen[id])

    return step


def _cas(id: str, by: str) -> Step:
    async def step(store: Store, seen: dict[str, Doc | None]) -> object:
        read = seen.get(id)
        rev = read.rev if read is not None else 1
        return (await store.update_if_match(id, "p", Expected(rev=rev), {"by": by})).ok

    return step


def _create(id: str, by: str) -> Step:
    async def step(store: Store, seen: dict[str, Doc | None]) -> object:
        try:
            return _seen(await store.create(id, "p", {"by": by}))
        except DocumentExists:
            return "exists"

    return step


def _replace(id: str, by: str) -> Step:
    async def step(store: Store, seen: dict[str, Doc | None]) -> object:
        try:
            return _seen(await store.replace(id, "p", {"by": by}))
        except DocumentNotFound:
            return "not found"

    return step


def _delete(id: str) -> Step:
    async def step(store: Store, seen: dict[str, Doc | None]) -> object:
        return await store.delete(id, "p")

    return step


def _list() -> Step:
    async def step(store: Store, seen: dict[str, Doc | None]) -> object:
        return _seen(await store.list_partition("p"))

    return step


@attrs.frozen(kw_only=True)
class _Workload:
    """Two actors racing over partition ``p``, which starts with ``initial`` documents."""

    name: str
    initial: tuple[str, ...]
    actors: tuple[tuple[Step, ...], ...]


WORKLOADS = (
    _Workload(
        name="two compare-and-sets",
        initial=("d1",),
        actors=((_get("d1"), _cas("d1", "a")), (_get("d1"), _cas("d1", "b"))),
    ),
    _Workload(
        name="two creates", initial=(), actors=((_create("d2", "a"),), (_create("d2", "b"),))
    ),
    _Workload(
        name="a write and reads",
        initial=("d1",),
        actors=((_replace("d1", "a"), _create("d3", "a")), (_get("d1"), _list())),
    ),
    _Workload(
        name="delete and re-create",
        initial=("d1", "d2"),
        actors=((_delete("d1"), _get("d2")), (_get("d1"), _cas("d1", "b"), _create("d1", "b"))),
    ),
    # A write made in the step of the point before its own (a read of another document) is
    # reordered as that read; a reader of the written document then misses one of its orders.
    _Workload(
        name="a compare-and-set after a read of another document",
        initial=("d1", "d2"),
        actors=((_get("d1"), _get("d2"), _cas("d1", "a")), (_get("d1"),)),
    ),
    _Workload(
        name="writes between reads of another document, and a listing",
        initial=("d2",),
        actors=(
            (_get("d2"), _create("d3", "a"), _get("d2"), _replace("d3", "a"), _get("d2")),
            (_list(),),
        ),
    ),
)


def _outcomes(
    keeper: Keeper, workload: _Workload, reduction: bool, budget: int
) -> tuple[set[str], bool, int]:
    """The distinct outcomes the exhaustive search reaches, whether it finished, schedules."""
    with keeper.series() as make:
        return _search(make, workload, reduction, budget)


def _search(
    make: Callable[[], Store], workload: _Workload, reduction: bool, budget: int
) -> tuple[set[str], bool, int]:
    scheduler = ExhaustiveScheduler(reduction=reduction, fault_budget=0)
    outcomes: set[str] = set()
    schedules = 0
    while schedules < budget:
        if not scheduler.new_execution():
            return outcomes, True, schedules
        store = make()
        for id in workload.initial:
            drive(store.create(id, "p", {"by": "setup"}))

        def actor(steps: tuple[Step, ...], store: Store = store) -> Callable[[], Any]:
            async def run() -> list[object]:
                seen: dict[str, Doc | None] = {}
                return [await step(store, seen) for step in steps]

            return run

        execution = run_actors([actor(steps) for steps in workload.actors], scheduler)
        if execution.pruned:
            continue
        schedules += 1
        for result in execution.results:
            if isinstance(result, ActorError):
                raise result.error
        final = _seen(drive(store.list_partition("p")))
        outcomes.add(json.dumps([list(execution.results), final], sort_keys=True, default=str))
    return outcomes, False, schedules


def check_labels(keeper: Keeper, audit: LabelAudit, pool: Pool, budget: int) -> tuple[str, int]:
    """Raise ``AssertionError`` when labels are dishonest; else the evidence and schedules."""

    def search(item: tuple[_Workload, bool]) -> tuple[set[str], bool, int]:
        return _outcomes(keeper, item[0], item[1], budget)

    # Each workload's two searches are pieces of their own: a slow backend runs them at once.
    searched = pool.map(search, [(w, reduction) for w in WORKLOADS for reduction in (True, False)])
    if audit.problems:
        raise AssertionError(_dishonest(audit.problems))
    for n, workload in enumerate(WORKLOADS):
        (reduced, finished, explored), (naive, _, _) = searched[2 * n : 2 * n + 2]
        hidden = sorted(naive - reduced)
        if finished and hidden:
            raise AssertionError(
                f"dishonest scheduling labels: workload {workload.name!r}: the search with "
                f"partial-order reduction reached {len(reduced)} outcome(s) in {explored} "
                f"schedules and called itself complete, the search without reduction reached "
                f"{len(naive)}; the labels hid (answers, final documents) {hidden[0]}. The "
                "exhaustive search cannot be trusted on this store: label each point with what "
                "the operation does there."
            )
    schedules = sum(explored for _, _, explored in searched)
    return (
        f"{len(WORKLOADS)} workloads: every point labelled as what its call did, and the "
        f"reduced search reached every outcome of the unreduced one ({schedules} schedules)",
        schedules,
    )


def _dishonest(problems: list[str]) -> str:
    return (
        f"dishonest scheduling labels: {problems[0]}"
        + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
        + ". Partial-order reduction trusts these labels, so an exhaustive search of this "
        "store could skip real interleavings and still call itself complete."
    )


def dishonest(audit: LabelAudit) -> str | None:
    """The audit's finding, in one sentence, or None when every label so far was honest."""
    return _dishonest(audit.problems) if audit.problems else None
