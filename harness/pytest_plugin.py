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


class ConformanceItem(pytest.Item):
    """One check of the conformance suite (``--harness-store``)."""

    def __init__(self, *, spec: str, check: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.check = check

    def runtest(self) -> None:
        from .conformance import get_cached_result

        result = get_cached_result(self.spec, seed=self.config.stash[_SEED_KEY])
        for check in result.checks:
            if check.name == self.check and not check.passed:
                text = check.evidence
                if check.counterexample is not None:
                    text += "\n" + check.counterexample.render()
                raise AssertionError(text)

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


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
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
