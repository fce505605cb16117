"""Fixtures for the Cosmos store tests: one endpoint per pytest-xdist worker.

With ``COSMOS_ENDPOINT`` and ``COSMOS_KEY`` set, the store tests run against that account (a
real one, or Microsoft's emulator); otherwise each worker process starts its own embedded
endpoint (``stores.emulator``) and uses a database named after the worker.  Each test works in
a partition of its own (the ``pk`` fixture), so tests never see each other's documents.

If the embedded endpoint cannot start, every test that needs it FAILS with the one-line
``EmulatorError`` message (what to run, where the log is): never a skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from stores.cosmos import CosmosStore
from stores.emulator import EmulatorError
from stores.emulator import EmulatorHandle
from stores.emulator import start_emulator


def worker_name() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def embedded_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorHandle]:
    """The embedded endpoint of this worker (always embedded, even with COSMOS_ENDPOINT)."""
    log = tmp_path_factory.mktemp("cosmos") / f"emulator-{worker_name()}.log"
    try:
        emulator = start_emulator(log_path=log)
    except EmulatorError as exc:
        failure = f"EmulatorError: {exc}"
    else:
        failure = ""
    if failure:  # failed outside the except block, so pytest prints the one line only
        pytest.fail(failure, pytrace=False)
    with emulator:
        yield emulator


@pytest.fixture(scope="session")
def cosmos_store(request: pytest.FixtureRequest) -> Iterator[CosmosStore]:
    """The store under test, shared by this worker's tests."""
    if os.environ.get("COSMOS_ENDPOINT"):
        store = CosmosStore.from_env(database="claimcheck-test", container="store")
    else:
        emulator: EmulatorHandle = request.getfixturevalue("embedded_emulator")
        store = CosmosStore.for_emulator(emulator, database=f"claimcheck-{worker_name()}")
    with store:
        yield store


@pytest.fixture
def pk() -> str:
    """A partition key no other test (or earlier run against a real account) uses."""
    return f"t-{uuid.uuid4().hex}"
