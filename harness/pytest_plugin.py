"""claimcheck's pytest plugin (entry point ``pytest11``): seeds that survive ``-n auto``.

* ``--harness-seed N`` (or ``HARNESS_SEED=N``) fixes the base seed; otherwise one is drawn at
  random per session.  Either way it is printed in the report header.
* Under pytest-xdist the controller passes its base seed to every worker, and each test derives
  its own seed from the base seed and its node id (``harness_seed`` fixture), so ``-n auto``
  and ``-n 0`` explore exactly the same schedules, whatever worker runs which test.
* ``harness_pytest_command`` is the exact command that reruns the current test with the
  current base seed: findings raised in tests print it next to the schedule token.
* ``--harness-store MODULE:FACTORY`` adds one item per conformance check.  The factory is
  imported and called once at session start: one that cannot be (or that returns no store)
  is a usage error, never a failure of every check.
"""

from __future__ import annotations

import hashlib
import os
import random
import shlex
from typing import Any

import pytest

__all__ = ["derive_seed"]

_SEED_KEY = pytest.StashKey[int]()


def derive_seed(base: int, nodeid: str) -> int:
    """A per-test seed: stable across runs, workers and test order."""
    digest = hashlib.sha256(f"{base}:{nodeid}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def _parse_seed(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise pytest.UsageError(
            f"claimcheck: harness seed {text!r} is not a whole number; pass e.g. "
            "--harness-seed 42 or HARNESS_SEED=42."
        ) from None


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("claimcheck", "claimcheck concurrency harness")
    group.addoption(
        "--harness-store",
        action="store",
        default=None,
        metavar="MODULE:FACTORY",
        help="run claimcheck's store conformance suite on stores from this factory "
        "(adds one test item per check)",
    )
    group.addoption(
        "--harness-explore",
        action="store",
        default=None,
        metavar="SCENARIO:STORE:STRATEGY[:BUDGET[:SIZE]]",
        help="explore one scenario on one named store as --harness-shards test items, each a "
        "disjoint part (spread over workers by -n or --tx); the merged count is printed",
    )
    group.addoption(
        "--harness-coordinator",
        action="store",
        default=None,
        metavar="MODULE:FACTORY",
        help="--harness-explore checks this coordinator (FACTORY(store, clock) -> coordinator) "
        "instead of fleet.Coordinator",
    )
    group.addoption(
        "--harness-shards",
        action="store",
        type=int,
        default=1,
        metavar="N",
        help="how many parts --harness-explore is split into (default 1)",
    )
    group.addoption(
        "--harness-seed",
        action="store",
        default=None,
        metavar="N",
        help="base seed for claimcheck schedules (default: $HARNESS_SEED, else random); "
        "printed in the header, derived per test so -n auto and -n 0 agree",
    )


def pytest_configure(config: pytest.Config) -> None:
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    if workerinput is not None and "claimcheck_seed" in workerinput:
        seed = int(workerinput["claimcheck_seed"])
    elif config.getoption("harness_seed") is not None:
        seed = _parse_seed(str(config.getoption("harness_seed")))
    elif os.environ.get("HARNESS_SEED"):
        seed = _parse_seed(os.environ["HARNESS_SEED"])
    else:
        seed = random.SystemRandom().randrange(1 << 32)
    config.stash[_SEED_KEY] = seed


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist controller: hand the base seed to each worker."""
    node.workerinput["claimcheck_seed"] = node.config.stash[_SEED_KEY]


def pytest_report_header(config: pytest.Config) -> str:
    return f"claimcheck: --harness-seed={config.stash[_SEED_KEY]}"


@pytest.fixture
def harness_base_seed(request: pytest.FixtureRequest) -> int:
    """The session's base seed (same in every xdist worker)."""
    return request.config.stash[_SEED_KEY]


@pytest.fixture
def harness_seed(request: pytest.FixtureRequest) -> int:
    """This test's seed, derived from the base seed and the test's node id."""
    return derive_seed(request.config.stash[_SEED_KEY], request.node.nodeid)


@pytest.fixture
def harness_pytest_command(request: pytest.FixtureRequest) -> str:
    """The command that reruns this test with this base seed."""
    seed = request.config.stash[_SEED_KEY]
    return f"pytest {shlex.quote(request.node.nodeid)} --harness-seed {seed}"


class CheckFailed(AssertionError):
    """A conformance check failed; its message is the evidence and the reproducer."""


class ConformanceItem(pytest.Item):
    """One check of the conformance suite (``--harness-store``).

    A failure shows the check's evidence and how to reproduce it, and nothing else: the
    traceback would only show this plugin reading a cached result.
    """

    def __init__(self, *, spec: str, check: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.check = check

    def runtest(self) -> None:
        from .conformance import get_cached_result

        result = get_cached_result(self.spec, seed=self.config.stash[_SEED_KEY])
        for check in result.checks:
            if check.name == self.check and not check.passed:
                shown = check.render_reproducer() if check.counterexample else ""
                if not shown:
                    shown = "\n".join(
                        [check.evidence, "reproduce with:", *(f"  {r}" for r in check.reproducer)]
                    )
                raise CheckFailed(shown)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str | Any:
        if isinstance(excinfo.value, CheckFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[str, int | None, str]:
        return self.spec, None, f"claimcheck conformance {self.spec}: {self.check}"


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """``--harness-store``: import the factory and call it once, before anything runs.

    A factory that cannot be imported, called, or make a store is a usage error (exit 4, its
    reason on stderr), never seven failed checks that blame the store.  Checked in the process
    that owns the run: under xdist the controller, whose usage errors reach the terminal
    (a worker's would be lost as "no tests ran").
    """
    spec = session.config.getoption("harness_store")
    if not spec or hasattr(session.config, "workerinput"):
        return
    from stores import StoreUnavailable

    from .conformance import DEFAULT_TIMEOUT
    from .conformance import FactoryError
    from .conformance import load_factory
    from .conformance import probe_factory

    try:
        probe_factory(load_factory(spec), label=spec, timeout=DEFAULT_TIMEOUT)
    except FactoryError as error:
        raise pytest.UsageError(f"--harness-store: {error}") from None
    except (StoreUnavailable, OSError):
        pass  # the backend is down: every check item reports it as infrastructure


def _check_coordinator(spec: str) -> None:
    """A coordinator that cannot be loaded or built is bad usage, before any item runs."""
    from .explore import CoordinatorMisuse
    from .explore import load_coordinator

    try:
        load_coordinator(spec, try_it=True)
    except CoordinatorMisuse as error:
        raise pytest.UsageError(f"--harness-coordinator: {error}") from None


class ExplorePartItem(pytest.Item):
    """Part ``index`` of ``count`` of one exploration (``--harness-explore``).

    The parts explore disjoint schedules (``harness.runtime.Shard``); each records how many it
    ran in ``user_properties``, which reach the xdist controller, where the merged total is
    printed.  A part that finds a violation fails with the finding and its reproducer.
    """

    def __init__(self, *, spec: str, index: int, count: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec, self.index, self.count = spec, index, count

    def runtest(self) -> None:
        from .explore import ScheduleFinding
        from .explore import explore
        from .runtime import Shard

        scenario, store, strategy, budget, size = _explore_spec(self.spec)
        result = explore(
            scenario,
            store,
            strategy,
            seed=self.config.stash[_SEED_KEY],
            budget=budget,
            size=size,
            shard=Shard(self.index, self.count),
            coordinator=self.config.getoption("harness_coordinator"),
            pytest_command=_explore_command(self.config),
        )
        self.user_properties.append(("claimcheck_schedules", result.schedules))
        self.user_properties.append(("claimcheck_complete", result.complete))
        if result.counterexample is not None:
            raise ScheduleFinding(result.counterexample)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str | Any:
        from .explore import CoordinatorMisuse

        if isinstance(excinfo.value, AssertionError | CoordinatorMisuse):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[str, int | None, str]:
        return self.spec, None, f"claimcheck explore {self.spec} part {self.index + 1}/{self.count}"


def _explore_command(config: pytest.Config) -> str:
    """The pytest command line that reruns this exploration with this seed."""
    words = [
        "pytest",
        f"--harness-explore={config.getoption('harness_explore')}",
        f"--harness-shards={config.getoption('harness_shards')}",
        f"--harness-seed={config.stash[_SEED_KEY]}",
    ]
    coordinator = config.getoption("harness_coordinator")
    if coordinator:
        words.append(f"--harness-coordinator={coordinator}")
    return " ".join(words)


def _explore_spec(spec: str) -> tuple[str, str, str, int | None, int | None]:
    parts = spec.split(":")
    if not 3 <= len(parts) <= 5 or not all(parts[:3]):
        raise pytest.UsageError(
            f"--harness-explore {spec!r} is not SCENARIO:STORE:STRATEGY[:BUDGET[:SIZE]] "
            "(for example claim-race:memory:exhaustive)."
        )
    numbers = []
    for text in parts[3:]:
        try:
            numbers.append(int(text) if text else None)
        except ValueError:
            raise pytest.UsageError(
                f"--harness-explore {spec!r}: {text!r} is not a whole number."
            ) from None
    budget = numbers[0] if numbers else (None if parts[2] == "exhaustive" else 1000)
    size = numbers[1] if len(numbers) > 1 else None
    return parts[0], parts[1], parts[2], budget, size


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Sum the parts' counts where the reports arrive (the xdist controller, or the run)."""
    if report.when != "call":
        return
    props = dict(report.user_properties)
    if "claimcheck_schedules" not in props:
        return
    merged = _MERGED.setdefault("merged", {"parts": 0, "schedules": 0, "complete": True})
    merged["parts"] += 1
    merged["schedules"] += int(str(props["claimcheck_schedules"]))
    merged["complete"] = bool(merged["complete"] and props["claimcheck_complete"])


_MERGED: dict[str, dict[str, Any]] = {}


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    merged = _MERGED.get("merged")
    spec = config.getoption("harness_explore")
    if not spec or merged is None:
        return
    complete = ", complete" if merged["complete"] else ""
    terminalreporter.write_line(
        f"claimcheck: {spec}: {merged['schedules']} schedules over {merged['parts']} "
        f"part(s){complete}"
    )


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    explore_spec = config.getoption("harness_explore")
    coordinator = config.getoption("harness_coordinator")
    if coordinator and not explore_spec:
        raise pytest.UsageError(
            "--harness-coordinator needs --harness-explore SCENARIO:STORE:STRATEGY to check it"
        )
    if explore_spec:
        _explore_spec(explore_spec)
        if coordinator:
            _check_coordinator(coordinator)
        count = int(config.getoption("harness_shards"))
        if count < 1:
            raise pytest.UsageError(f"--harness-shards must be at least 1, got {count}.")
        for index in range(count):
            items.append(
                ExplorePartItem.from_parent(
                    session,
                    name=f"explore[{explore_spec}]::part{index + 1}of{count}",
                    spec=explore_spec,
                    index=index,
                    count=count,
                )
            )
    spec = config.getoption("harness_store")
    if not spec:
        return
    from .conformance import CHECKS

    for check in CHECKS:
        if check == "faults":
            continue
        items.append(
            ConformanceItem.from_parent(
                session, name=f"conformance[{spec}]::{check}", spec=spec, check=check
            )
        )
