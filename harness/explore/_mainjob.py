"""The main job (``claimcheck run`` with no selection): every check on every default store.

A correct store must pass every check and a control must be caught by every check; the job
succeeds only when both hold, so a check that stopped finding the control's bug is itself a
finding ("MISSED").
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence

import attrs

from ..backends import Backend
from ..backends import get_backend
from ._concurrent import run_concurrently
from ._counterexample import STRATEGIES
from ._counterexample import Counterexample
from ._explore import explore
from ._runner import StoreFactory
from ._scenarios import get_scenario
from ._scenarios import scenario_names

__all__ = [
    "DEFAULT_COORDINATORS",
    "DEFAULT_STORES",
    "CheckRow",
    "main_job",
    "planned_checks",
    "render_table",
]

DEFAULT_STORES = (
    "memory",
    "rcw-memory",
    "sqlite",
    "rcw-sqlite",
    "cosmos",
    "rcw-cosmos",
    "cosmos-aio",
    "rcw-cosmos-aio",
    "faulty-memory",
    "naive-faulty-memory",
)

#: Users' coordinators the main job checks, as ``--coordinator`` does, on the memory store:
#: (the name its rows carry, ``MODULE:FACTORY``, whether it is a control that must be caught).
DEFAULT_COORDINATORS = (
    ("memory/lease-coordinator", "examples.lease_coordinator:make", False),
    ("memory/naive-lease-coordinator", "examples.lease_coordinator:make_naive", True),
)

#: Schedules per random/PCT check in the main job, and the exhaustive cap (multi-job has a few
#: thousand reduced schedules; the others finish far below it).
BUDGET = 500
EXHAUSTIVE_CAP = 5000


@attrs.frozen(kw_only=True)
class CheckRow:
    store: str
    control: bool
    check: str
    failed: bool
    evidence: str
    counterexample: Counterexample | None = None
    #: Schedules explored (controlled checks); None for trio trials, which have no schedule.
    schedules: int | None = None
    #: For a failure without a schedule (a conformance check): the lines that reproduce it.
    reproducer: tuple[str, ...] = ()

    @property
    def as_expected(self) -> bool:
        return self.failed == self.control

    @property
    def verdict(self) -> str:
        if self.control:
            return "caught" if self.failed else "MISSED"
        return "FAIL" if self.failed else "pass"


def _trio_checks(
    store: str, control: bool, factory: StoreFactory, seed: int, trials: int
) -> Iterator[CheckRow]:
    for scenario, size in (("claim-race", 2), ("claim-race", 10), ("zombie-lease", 3)):
        outcome = run_concurrently(get_scenario(scenario), size, factory, seed=seed, trials=trials)
        problems = [v.sentence for v in outcome.violations]
        if scenario == "claim-race" and not control:
            # Exactly one winner in every trial; the others lost the compare-and-set
            # (conflict) or read the job after the winner wrote (not_claimable).
            wrong = [t for t, won in enumerate(outcome.claimed_counts) if won != 1]
            if wrong:
                problems.append(
                    f"trial {wrong[0]}: {outcome.claimed_counts[wrong[0]]} claimed (expected 1)"
                )
        failed = bool(problems)
        if failed:
            evidence = f"{outcome.failing_trials}/{outcome.trials} trials failed: {problems[0]}"
        else:
            evidence = f"{outcome.trials} trials (seed {seed}), no violation"
        yield CheckRow(
            store=store,
            control=control,
            check=f"trio {scenario} x{size}",
            failed=failed,
            evidence=evidence,
        )


def _controlled_checks(
    store: str,
    control: bool,
    factory: StoreFactory,
    seed: int,
    backend: Backend,
    coordinator: tuple[str, str] | None = None,
) -> Iterator[CheckRow]:
    """Every planned check of ``backend``; with ``coordinator`` (its row name and
    ``MODULE:FACTORY``), of that user's coordinator on it."""
    for scenario, strategy in _planned(backend):
        budget = EXHAUSTIVE_CAP if strategy == "exhaustive" else BUDGET
        if backend.max_schedules is not None:
            budget = min(budget, backend.max_schedules)
        # Shrinking replays hundreds of candidate schedules: cheap in process, minutes
        # against a server (a backend with a schedule cap), where the first finding stands.
        result = explore(
            scenario,
            store,
            strategy,
            seed=seed,
            budget=budget,
            factory=factory,
            shrink=backend.max_schedules is None,
            coordinator=None if coordinator is None else coordinator[1],
        )
        cx = result.counterexample
        if cx is not None:
            evidence = f"schedule #{result.schedules}: {cx.violations[0].sentence}"
        elif strategy == "exhaustive":
            bound = f", {result.bound}" if result.bound else ""
            if result.complete:
                evidence = f"proven: all {result.schedules} schedules (DPOR{bound})"
            else:
                evidence = f"first {result.schedules} schedules (DPOR{bound}), no violation"
        else:
            evidence = f"{result.schedules} schedules (seed {seed}), no violation"
        yield CheckRow(
            store=store if coordinator is None else coordinator[0],
            control=control,
            check=f"{strategy} {scenario}",
            failed=cx is not None,
            evidence=evidence,
            counterexample=cx,
            schedules=result.schedules,
        )


def _planned(backend: Backend) -> list[tuple[str, str]]:
    """The controlled checks of ``backend`` in the main job: (scenario, strategy)."""
    return [(scenario, strategy) for scenario in scenario_names() for strategy in STRATEGIES]


def _runs_trio(backend: Backend) -> bool:
    return backend.trio_trials and not backend.faults


def planned_checks(
    stores: Sequence[str], coordinators: Sequence[tuple[str, str, bool]] = ()
) -> int:
    """How many rows :func:`main_job` will produce for ``stores`` and ``coordinators`` (for
    progress display)."""
    total = len(coordinators) * len(_planned(get_backend("memory")))
    for name in stores:
        backend = get_backend(name)
        total += (3 if _runs_trio(backend) else 0) + len(_planned(backend))
    return total


def main_job(
    stores: Sequence[str] | None = None,
    *,
    seed: int = 0,
    on_row: Callable[[CheckRow], None] | None = None,
    coordinators: Sequence[tuple[str, str, bool]] | None = None,
) -> list[CheckRow]:
    """Every check on ``stores`` (default: ``DEFAULT_STORES``), then on the memory store with
    each of ``coordinators`` (default: ``DEFAULT_COORDINATORS`` when ``stores`` is the default,
    else none)."""
    rows: list[CheckRow] = []
    if coordinators is None:
        coordinators = DEFAULT_COORDINATORS if stores is None else ()
    for name in DEFAULT_STORES if stores is None else stores:
        backend = get_backend(name)
        with backend.open() as factory:
            trio_rows = (
                _trio_checks(name, backend.control, factory, seed, backend.trials)
                if _runs_trio(backend)
                else ()
            )
            controlled = _controlled_checks(name, backend.control, factory, seed, backend)
            for row in (*trio_rows, *controlled):
                rows.append(row)
                if on_row is not None:
                    on_row(row)
    memory = get_backend("memory")
    for label, spec, control in coordinators:
        with memory.open() as factory:
            for row in _controlled_checks("memory", control, factory, seed, memory, (label, spec)):
                rows.append(row)
                if on_row is not None:
                    on_row(row)
    return rows


def render_table(rows: Sequence[CheckRow], width: int = 100) -> str:
    headers = ("store", "check", "verdict", "evidence")
    cells = [(r.store, r.check, r.verdict, r.evidence) for r in rows]
    w = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers[:3])]
    room = max(20, width - sum(w) - 6)

    def line(c: tuple[str, ...]) -> str:
        evidence = c[3] if len(c[3]) <= room else c[3][: room - 3] + "..."
        return f"{c[0]:<{w[0]}}  {c[1]:<{w[1]}}  {c[2]:<{w[2]}}  {evidence}"

    out = [line(headers), "  ".join("-" * x for x in (*w, min(room, 40)))]
    out += [line(c) for c in cells]
    return "\n".join(out)
