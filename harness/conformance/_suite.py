"""Store conformance: point the suite at a backend, get a verdict with evidence.

``run_store_conformance(make_store)`` is a plain function (no pytest) that takes a factory of
fresh, empty stores and runs, in order:

1. ``sequential contract``: every documented behaviour of the ``Store`` protocol, one call
   at a time (tokens bump on write, stale tokens conflict and write nothing, not-found, no
   ABA across delete and re-create, create never overwrites, listing, misuse errors);
2. ``atomicity (threads)``: 12 trio tasks read one document, then race ``update_if_match``
   with the same token, in worker threads for I/O backends: exactly one may win;
3. ``random`` / ``pct`` / ``exhaustive``: controlled schedules of the claim race;
4. ``linearizability``: concurrent get / compare-and-set histories under random schedules,
   checked against the compare-and-set register model;
5. ``fleet``: every shipped scenario with the coordinator, against the reference model;
6. ``faults`` (when ``faults=True``): the claim race behind the scheduler-driven fault layer.

The factory is user code, and is called once before any check runs (``probe_factory``): a
first call that raises, calls ``sys.exit``, hangs past ``timeout`` or returns something that
is not a store raises :class:`FactoryError` (bad input, exit 2 from the CLI) and no check runs;
one that raises ``StoreUnavailable`` or ``OSError`` fails every check as infrastructure (exit 3)
without running it.  The checks call the factory again, many times, under the same watchdog:
a later call that raises, exits, hangs or returns garbage is a finding about the backend.

Every store the suite touches is wrapped in a validator: a result of the wrong type or shape
(a ``Doc`` for another id, a rev that is not an int, ...) is a non-conformance with the
offending value as evidence.  An exception that is not part of the contract is reported with
its type and message, never as a crash of the harness.  Each check runs in a watchdog thread:
an operation that takes longer than ``timeout`` seconds is reported as a hang, naming the
operation (the stuck thread is abandoned; it is a daemon).

The result is a :class:`ConformanceResult`; with ``raise_on_failure=True`` (the default) a
failing result raises :class:`NonConformance`, an ``AssertionError`` carrying the result and
the reproducer of the first failure.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import attrs

from stores import Store
from stores import StoreUnavailable

from .._findings import Finding
from .._findings import who_raised
from ..explore import Counterexample
from ..explore import ScheduleFinding
from ..runtime import RuntimeMisuse
from ._checks import Passed
from ._checks import check_atomicity
from ._checks import check_exploration
from ._checks import check_faults
from ._checks import check_fleet
from ._checks import check_linearizability
from ._checks import check_sequential
from ._factory import FactoryError
from ._factory import StoreFactory
from ._factory import describe_exit
from ._factory import factory_name
from ._factory import load_factory
from ._factory import not_a_store
from ._factory import probe_factory
from ._validator import MalformedResult
from ._validator import ValidatingStore
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
    "atomicity (threads)",
    "random schedules",
    "pct schedules",
    "exhaustive schedules",
    "linearizability",
    "fleet scenarios",
    "faults",
)


@attrs.frozen(kw_only=True)
class ConformanceCheck:
    """One check's verdict; ``evidence`` says what was seen, ``counterexample`` how to replay."""

    name: str
    passed: bool
    evidence: str
    seconds: float
    counterexample: Counterexample | None = None
    infrastructure: bool = False
    #: Schedules (or histories) explored; None for checks that explore none.
    schedules: int | None = None


@attrs.frozen(kw_only=True)
class ConformanceResult:
    backend: str
    checks: tuple[ConformanceCheck, ...]

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
            if c.counterexample is not None:
                lines.append("")
                lines.append(c.counterexample.render())
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
) -> ConformanceResult:
    """Run the conformance suite on stores from ``make_store`` (see the module docstring).

    ``budget`` bounds the schedules of each exploring check; ``timeout`` is the per-operation
    hang limit in seconds (the factory's calls included).  ``name`` labels the backend in
    reports and reproducers; ``factory_spec`` (``MODULE:FACTORY``) makes printed replay
    commands runnable and names the factory in messages.  Raises :class:`FactoryError` before
    any check runs when ``make_store`` is not a usable factory.
    """
    if not callable(make_store):
        raise FactoryError(f"make_store must be a callable returning a Store, got {make_store!r}")
    label = factory_spec or getattr(make_store, "__qualname__", None) or repr(make_store)
    plan_names = [c for c in CHECKS if faults or c != "faults"]
    try:
        probe_factory(make_store, label=label, timeout=timeout)
    except (StoreUnavailable, OSError) as error:
        unmade = f"the factory could not make a store: {error}"
        result = _not_run(name, plan_names, unmade, on_check)
    else:
        result = _run_checks(
            make_store, label, plan_names, name, factory_spec, seed, budget, timeout, on_check
        )
    if raise_on_failure and not result.conforms:
        raise NonConformance(result)
    return result


def _run_checks(
    make_store: StoreFactory,
    label: str,
    plan_names: list[str],
    name: str,
    factory_spec: str | None,
    seed: int,
    budget: int,
    timeout: float,
    on_check: Callable[[ConformanceCheck], None] | None,
) -> ConformanceResult:
    watch = Watch()

    def make() -> Store:
        # The factory made a store once already (probe_factory): from here on its failures
        # are findings about the backend, and a hang is named by the watchdog.
        watch.current = (f"the factory {label}", time.monotonic())
        try:
            store = make_store()
        except (StoreUnavailable, OSError) as error:
            raise _Infrastructure(f"the factory could not make a store: {error}") from error
        except SystemExit as error:
            raise _FactoryFailed(
                f"the factory {label} called {describe_exit(error)} on a later call; a store "
                "factory must return a store each time it is called"
            ) from None
        except Exception as error:
            raise _FactoryFailed(
                f"the factory {label} raised {type(error).__name__}: {error} on a later call; "
                "it must return a fresh, empty store each time it is called"
            ) from error
        finally:
            watch.current = None
        problem = not_a_store(store)
        if problem is not None:
            raise MalformedResult(f"the factory {label} returned {problem} on a later call")
        return ValidatingStore(store, watch)

    plan: dict[str, Callable[[], Passed]] = {
        "sequential contract": lambda: check_sequential(make),
        "atomicity (threads)": lambda: check_atomicity(make),
        "random schedules": lambda: check_exploration("random", make, seed, budget, name),
        "pct schedules": lambda: check_exploration("pct", make, seed, budget, name),
        "exhaustive schedules": lambda: check_exploration("exhaustive", make, seed, budget, name),
        "linearizability": lambda: check_linearizability(make, seed, max(10, budget // 10)),
        "fleet scenarios": lambda: check_fleet(make, seed, max(20, budget // 4), name),
        "faults": lambda: check_faults(make, seed, budget, name),
    }
    checks: list[ConformanceCheck] = []
    for check_name in plan_names:
        fn = plan[check_name]
        started = time.monotonic()
        counterexample: Counterexample | None = None
        infrastructure = False
        schedules: int | None = None
        try:
            outcome = watched(fn, watch, timeout)
            passed, evidence, schedules = True, outcome.evidence, outcome.schedules
        except ScheduleFinding as finding:
            cx = finding.counterexample
            passed, evidence, schedules = False, cx.violations[0].sentence, cx.schedule_index
            counterexample = attrs.evolve(cx, factory_spec=factory_spec)
        except (Hang, MalformedResult) as error:
            passed, evidence = False, str(error)
        except _Infrastructure as error:
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
            watch.current = None
        check = ConformanceCheck(
            name=check_name,
            passed=passed,
            evidence=" ".join(evidence.split()),
            seconds=time.monotonic() - started,
            counterexample=counterexample,
            infrastructure=infrastructure,
            schedules=schedules,
        )
        checks.append(check)
        if on_check is not None:
            on_check(check)
    return ConformanceResult(backend=name, checks=tuple(checks))


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


class _Infrastructure(Exception):
    pass


class _FactoryFailed(Finding):
    """A later call of a factory that had made a store: a finding about the backend."""


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
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]  # a nursery's racers: the first one's reason
    op = raised_by_store(error)
    if op is not None:
        if isinstance(error, SystemExit):
            return f"the store called {describe_exit(error)} (in {op})"
        return f"the store raised {type(error).__name__}: {error} (in {op})"
    if isinstance(error, RuntimeMisuse):
        return f"the controlled runtime refused an await: {error}"
    return who_raised(error)
