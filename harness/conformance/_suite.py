"""Store conformance: point the suite at a backend, get a verdict with evidence.

``run_store_conformance(make_store)`` is a plain function (no pytest) that takes a factory of
fresh, empty stores and runs, in order:

1. ``sequential contract``: every documented behaviour of the ``Store`` protocol, one call
   at a time (tokens bump on write, stale tokens conflict and write nothing, not-found,
   create never overwrites, listing, misuse errors);
2. ``tokens``: no token matches again after delete and re-create (ABA), the etag and the rev
   each on its own; an unconditional replace, or a write that changes nothing, changes both;
3. ``body isolation``: a caller that changes a body after passing it, or one it got back,
   changes nothing stored;
4. ``partition isolation``: the same id in two partitions, partitions whose names share a
   prefix, and names a careless key encoding would merge are all distinct documents;
5. ``scheduling labels``: the labels of the store's scheduling points say what each call did,
   and an exhaustive search with partial-order reduction reaches every outcome of one without;
6. ``atomicity (threads)``: 12 trio tasks race ``update_if_match`` with the same token, in
   worker threads for I/O backends: exactly one may win;
7. ``create race (threads)``: 12 tasks create one id at once, for several shapes of id;
8. ``create race (schedules)``: clients enqueueing one job id, every schedule, same shapes;
9. ``random`` / ``pct`` / ``exhaustive``: controlled schedules of the claim race;
10. ``linearizability``: concurrent get / compare-and-set histories under random schedules,
    checked against the compare-and-set register model;
11. ``fleet``: every shipped scenario with the coordinator, against the reference model;
12. ``endurance``: 2,000 mixed operations on one store, one at a time then from 12 tasks at
    once, with the growth of open file descriptors and threads;
13. ``faults`` (when ``faults=True``): the claim race behind the scheduler-driven fault layer.

The factory is user code, and is called once before any check runs (``probe_factory``): a
first call that raises, calls ``sys.exit``, hangs past ``timeout`` or returns something that
is not a store raises :class:`FactoryError` (bad input, exit 2 from the CLI) and no check runs;
one that raises ``StoreUnavailable`` or ``OSError`` fails every check as infrastructure (exit 3)
without running it.  The checks call the factory again, many times (about ``3.5 * budget + 100``
times in all), under the same watchdog: a later call that raises, exits, hangs or returns
garbage is a finding about the backend.  It may return a store or a context manager giving
one; each store is released (``close()``, ``aclose()`` or the context's exit) once its
schedule, trial or case is over.

Every store the suite touches is wrapped in a validator: a result of the wrong type or shape
(a ``Doc`` for another id, a rev that is not an int, ...) is a non-conformance with the
offending value as evidence.  An exception that is not part of the contract is reported with
its type and message, never as a crash of the harness.  Each check runs in a watchdog thread:
when any operation in flight takes longer than ``timeout`` seconds the check is reported as a
hang naming every operation in flight (the stuck threads are abandoned; they are daemons).

When the backend's operations take long (it waits on I/O), the pieces of a check (ranges of
seeds, scenarios, cases) run on several stores at once; the verdict, counterexample and counts
of a seed are the same either way.  The result is a :class:`ConformanceResult`; with
``raise_on_failure=True`` (the default) a failing result raises :class:`NonConformance`, an
``AssertionError`` carrying the result and the reproducer of the first failure.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from collections.abc import Sequence

import attrs

from stores import IO_THREADS
from stores import StoreUnavailable

from .._findings import Finding
from .._findings import who_raised
from ..explore import Counterexample
from ..explore import ScheduleFinding
from ..runtime import RuntimeMisuse
from ._cases import Case
from ._cases import CaseFailed
from ._cases import run_cases
from ._checks import Passed
from ._checks import check_exploration
from ._checks import check_faults
from ._checks import check_fleet
from ._checks import check_linearizability
from ._endurance import check_endurance
from ._factory import FactoryError
from ._factory import StoreFactory
from ._factory import describe_exit
from ._factory import factory_name
from ._factory import load_factory
from ._factory import probe_factory
from ._isolation import BODIES
from ._isolation import PARTITIONS
from ._labels import LabelAudit
from ._labels import check_labels
from ._parallel import Pool
from ._races import check_atomicity
from ._races import check_create_race
from ._races import check_create_schedules
from ._races import first_error
from ._sequential import CONTRACT
from ._sequential import TOKENS
from ._stores import Infrastructure
from ._stores import Keeper
from ._validator import MalformedResult
from ._validator import raised_by_store
from ._watchdog import DEFAULT_TIMEOUT
from ._watchdog import Hang
from ._watchdog import Watch
from ._watchdog import watched

__all__ = [
    "CHECKS",
    "ConformanceCheck",
    "ConformanceResult",
    "NonConformance",
    "get_cached_result",
    "run_store_conformance",
]

CHECKS = (
    "sequential contract",
    "tokens",
    "body isolation",
    "partition isolation",
    "scheduling labels",
    "atomicity (threads)",
    "create race (threads)",
    "create race (schedules)",
    "random schedules",
    "pct schedules",
    "exhaustive schedules",
    "linearizability",
    "fleet scenarios",
    "endurance",
    "faults",
)

#: Mean seconds per operation from which the pieces of a check run side by side.
SLOW_OPERATION = 0.001


@attrs.frozen(kw_only=True)
class ConformanceCheck:
    """One check's verdict; ``evidence`` says what was seen, ``counterexample`` (a schedule)
    or ``reproducer`` (commands, or a program) how to see it again."""

    name: str
    passed: bool
    evidence: str
    seconds: float
    counterexample: Counterexample | None = None
    infrastructure: bool = False
    #: Schedules (or histories) explored; None for checks that explore none.
    schedules: int | None = None
    #: For a failure without a schedule: lines that reproduce it (commands, then a program).
    reproducer: tuple[str, ...] = ()

    def render_reproducer(self) -> str:
        """How to see this failure again, as printed under the table."""
        if self.counterexample is not None:
            return self.counterexample.render()
        return "\n".join(
            [f"{self.name}: {self.evidence}", "  reproduce with:"]
            + [f"    {line}" for line in self.reproducer]
        )


@attrs.frozen(kw_only=True)
class ConformanceResult:
    backend: str
    checks: tuple[ConformanceCheck, ...]
    #: Stores the factory made during the checks, and how many of them were released.
    stores_made: int = 0
    stores_released: int = 0

    @property
    def conforms(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> tuple[ConformanceCheck, ...]:
        return tuple(c for c in self.checks if not c.passed)

    @property
    def infrastructure_failed(self) -> bool:
        return any(c.infrastructure for c in self.failures)

    def render(self) -> str:
        width = max(len(c.name) for c in self.checks)
        lines = [f"conformance of {self.backend}:"]
        for c in self.checks:
            verdict = "pass" if c.passed else ("INFRA" if c.infrastructure else "FAIL")
            lines.append(f"  {c.name:<{width}}  {verdict:<5}  {c.evidence}")
        for c in self.failures:
            if c.counterexample is not None or c.reproducer:
                lines.append("")
                lines.append(c.render_reproducer())
        verdict = "conforms" if self.conforms else f"does NOT conform ({len(self.failures)} failed)"
        lines.append(f"{self.backend} {verdict}")
        return "\n".join(lines)


class NonConformance(Finding):
    """The backend failed at least one check; carries the result and its reproducers."""

    def __init__(self, result: ConformanceResult) -> None:
        super().__init__(result.render())
        self.result = result


def run_store_conformance(
    make_store: StoreFactory,
    *,
    name: str = "custom",
    factory_spec: str | None = None,
    seed: int = 0,
    budget: int = 200,
    faults: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    raise_on_failure: bool = True,
    on_check: Callable[[ConformanceCheck], None] | None = None,
    checks: Sequence[str] | None = None,
    workers: int | None = None,
) -> ConformanceResult:
    """Run the conformance suite on stores from ``make_store`` (see the module docstring).

    ``budget`` bounds the schedules of each exploring check; ``timeout`` is the per-operation
    hang limit in seconds (the factory's calls and releases included).  ``name`` labels the
    backend in reports and reproducers; ``factory_spec`` (``MODULE:FACTORY``) makes printed
    replay commands runnable and names the factory in messages.  ``checks`` runs only the
    named checks (names from :data:`CHECKS`).  ``workers`` is how many stores a check may use
    at once (default: 1, or ``stores.IO_THREADS`` once operations are seen to take over a
    millisecond).  Raises :class:`FactoryError` before any check runs when ``make_store`` is
    not a usable factory.
    """
    if not callable(make_store):
        raise FactoryError(f"make_store must be a callable returning a Store, got {make_store!r}")
    unknown = [c for c in checks or () if c not in CHECKS]
    if unknown:
        raise ValueError(f"unknown check(s) {unknown}; choose from {list(CHECKS)}")
    label = factory_spec or getattr(make_store, "__qualname__", None) or repr(make_store)
    # "faults" runs when asked for, by ``faults=True`` or by name.
    plan_names = (
        [c for c in CHECKS if c in checks]
        if checks
        else [c for c in CHECKS if faults or c != "faults"]
    )
    try:
        probe_factory(make_store, label=label, timeout=timeout)
    except (StoreUnavailable, OSError) as error:
        unmade = f"the factory could not make a store: {error}"
        result = _not_run(name, plan_names, unmade, on_check)
    else:
        run = _Run(
            make_store=make_store,
            label=label,
            name=name,
            factory_spec=factory_spec,
            seed=seed,
            budget=budget,
            timeout=timeout,
            workers=workers,
        )
        result = run.all(plan_names, on_check)
    if raise_on_failure and not result.conforms:
        raise NonConformance(result)
    return result


@attrs.define(eq=False, kw_only=True)
class _Run:
    """One run of the suite: its settings, the label audit, and what the stores cost."""

    make_store: StoreFactory
    label: str
    name: str
    factory_spec: str | None
    seed: int
    budget: int
    timeout: float
    workers: int | None
    audit: LabelAudit = attrs.field(factory=LabelAudit)
    made: int = 0
    released: int = 0
    finished: int = 0
    busy_seconds: float = 0.0

    def pool(self) -> Pool:
        if self.workers is not None:
            return Pool(self.workers)
        slow = self.finished and self.busy_seconds / self.finished >= SLOW_OPERATION
        return Pool(IO_THREADS if slow else 1)

    def plan(self, keeper: Keeper) -> dict[str, Callable[[], Passed]]:
        seed, budget, name, pool = self.seed, self.budget, self.name, self.pool()

        def cases(named: Sequence[tuple[str, Case]], what: str) -> Callable[[], Passed]:
            def run() -> Passed:
                ran = run_cases(keeper, pool, named)
                return Passed(
                    evidence=f"{ran.assertions} assertions over {ran.cases} stores ({what})"
                )

            return run

        def labels() -> Passed:
            evidence, schedules = check_labels(keeper, self.audit, pool, 300)
            return Passed(evidence=evidence, schedules=schedules)

        def creates() -> Passed:
            evidence, schedules = check_create_schedules(keeper, pool, name, budget)
            return Passed(evidence=evidence, schedules=schedules)

        return {
            "sequential contract": cases(CONTRACT, "every documented behaviour"),
            "tokens": cases(TOKENS, "ABA of etag and rev, replace, unchanged writes"),
            "body isolation": cases(BODIES, "bodies passed in and handed out"),
            "partition isolation": cases(PARTITIONS, "same ids, prefixes, mergeable names"),
            "scheduling labels": labels,
            "atomicity (threads)": lambda: Passed(evidence=check_atomicity(keeper)),
            "create race (threads)": lambda: Passed(evidence=check_create_race(keeper, pool)),
            "create race (schedules)": creates,
            "random schedules": lambda: check_exploration(
                "random", keeper, pool, seed, budget, name, self.audit
            ),
            "pct schedules": lambda: check_exploration(
                "pct", keeper, pool, seed, budget, name, self.audit
            ),
            "exhaustive schedules": lambda: check_exploration(
                "exhaustive", keeper, pool, seed, budget, name, self.audit
            ),
            "linearizability": lambda: check_linearizability(
                keeper, pool, seed, max(10, budget // 10)
            ),
            "fleet scenarios": lambda: check_fleet(keeper, pool, seed, max(20, budget // 4), name),
            "endurance": lambda: Passed(evidence=check_endurance(keeper, seed)),
            "faults": lambda: check_faults(keeper, pool, seed, budget, name),
        }

    def all(
        self, plan_names: list[str], on_check: Callable[[ConformanceCheck], None] | None
    ) -> ConformanceResult:
        checks: list[ConformanceCheck] = []
        for check_name in plan_names:
            check = self.one(check_name)
            checks.append(check)
            if on_check is not None:
                on_check(check)
        return ConformanceResult(
            backend=self.name,
            checks=tuple(checks),
            stores_made=self.made,
            stores_released=self.released,
        )

    def one(self, check_name: str) -> ConformanceCheck:
        # A watch and a keeper per check: the threads of a check abandoned as hung may still
        # finish calls later, and must not be taken for the next check's calls.
        watch = Watch()
        keeper = Keeper(self.make_store, self.label, watch, self.audit)
        fn = self.plan(keeper)[check_name]
        started = time.monotonic()
        counterexample: Counterexample | None = None
        infrastructure = False
        schedules: int | None = None
        program: tuple[str, ...] = ()
        try:
            outcome = watched(fn, watch, self.timeout)
            passed, evidence, schedules = True, outcome.evidence, outcome.schedules
        except ScheduleFinding as finding:
            cx = finding.counterexample
            passed, evidence, schedules = False, cx.violations[0].sentence, cx.schedule_index
            counterexample = attrs.evolve(cx, factory_spec=self.factory_spec)
        except CaseFailed as failed:
            passed, evidence, program = False, str(failed), failed.program
        except (Hang, MalformedResult) as error:
            passed, evidence = False, str(error)
        except Infrastructure as error:
            passed, evidence, infrastructure = False, str(error), True
        except StoreUnavailable as error:
            passed, evidence, infrastructure = False, f"store unavailable: {error}", True
        except AssertionError as error:
            passed, evidence = False, str(error) or "assertion failed"
        except BaseException as error:
            # An exception outside the contract, or a store that calls sys.exit (SystemExit
            # would otherwise end the whole run with the store's exit code, silently).
            # Only Ctrl-C ends the run (exit 130).
            if _interrupted(error):
                raise
            passed = False
            evidence = _blame(error)
        finally:
            keeper.abandon()
            self.made += keeper.made
            self.released += keeper.released
            self.finished += watch.finished
            self.busy_seconds += watch.busy_seconds
        return ConformanceCheck(
            name=check_name,
            passed=passed,
            evidence=" ".join(evidence.split()),
            seconds=time.monotonic() - started,
            counterexample=counterexample,
            infrastructure=infrastructure,
            schedules=schedules,
            reproducer=() if passed or counterexample else self.reproducer(check_name, program),
        )

    def reproducer(self, check_name: str, program: tuple[str, ...]) -> tuple[str, ...]:
        """The command that runs the suite again (this check is in it), then the program of a
        failed case, made runnable by importing the factory."""
        if self.factory_spec:
            lines = [f"claimcheck conformance {self.factory_spec} --seed {self.seed}"]
            module, _, attr = self.factory_spec.partition(":")
            importing = f"from {module} import {attr} as make_store"
        else:
            lines = [
                f"run_store_conformance(make_store, checks=[{check_name!r}], seed={self.seed})"
            ]
            importing = "# make_store: your store factory"
        if program:
            lines += ["# or, the calls of the failed case on a fresh store:", importing, *program]
        return tuple(lines)


def _not_run(
    name: str,
    plan_names: list[str],
    evidence: str,
    on_check: Callable[[ConformanceCheck], None] | None,
) -> ConformanceResult:
    """Every check failed as infrastructure, unrun: the backend could not make a first store."""
    checks = []
    for check_name in plan_names:
        check = ConformanceCheck(
            name=check_name,
            passed=False,
            evidence=" ".join(f"not run: {evidence}".split()),
            seconds=0.0,
            infrastructure=True,
        )
        checks.append(check)
        if on_check is not None:
            on_check(check)
    return ConformanceResult(backend=name, checks=tuple(checks))


_RESULTS: dict[tuple[str, int], ConformanceResult] = {}


def get_cached_result(spec: str, *, seed: int) -> ConformanceResult:
    """The suite's result for ``spec``, run once per process (the pytest plugin's items share
    it, one item per check)."""
    key = (spec, seed)
    if key not in _RESULTS:
        _RESULTS[key] = run_store_conformance(
            load_factory(spec),
            name=factory_name(spec),
            factory_spec=spec,
            seed=seed,
            raise_on_failure=False,
        )
    return _RESULTS[key]


def _interrupted(error: BaseException) -> bool:
    """Whether ``error`` is, or holds, a Ctrl-C (which ends the run: exit 130)."""
    if isinstance(error, BaseExceptionGroup):
        return error.subgroup(KeyboardInterrupt) is not None
    return isinstance(error, KeyboardInterrupt)


def _blame(error: BaseException) -> str:
    """Who raised ``error``, in one line: the store only when it came out of the store."""
    error = first_error(error)  # a nursery's racers: the first one's reason
    op = raised_by_store(error)
    if op is not None:
        if isinstance(error, SystemExit):
            return f"the store called {describe_exit(error)} (in {op})"
        return f"the store raised {type(error).__name__}: {error} (in {op})"
    if isinstance(error, RuntimeMisuse):
        return f"the controlled runtime refused an await: {error}"
    return who_raised(error)
