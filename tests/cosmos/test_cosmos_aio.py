"""``AioCosmosStore``: the store contract through ``azure.cosmos.aio`` on aiohttp, with real HTTP
to the embedded endpoint (or ``COSMOS_ENDPOINT``), under the controlled asyncio runtime and
under plain asyncio; its named backends ``cosmos-aio`` (passes) and ``rcw-cosmos-aio`` (the
control, caught); its tokens replay exactly."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator

import pytest

from harness.backends import get_backend
from harness.explore import explore
from harness.explore import replay
from harness.runtime import RandomScheduler
from harness.runtime import drive
from harness.runtime import run_actors
from harness.runtime import use_runtime
from stores import Conflict
from stores import DocumentExists
from stores import DocumentNotFound
from stores import Expected
from stores import NotFound
from stores import StoreMisuse
from stores import StoreUnavailable
from stores import Updated
from stores.cosmos import AioCosmosStore
from stores.cosmos import CosmosStore
from stores.cosmos import EndpointUnavailable
from stores.emulator import EmulatorHandle

from ._endpoints import closed_port
from .conftest import worker_name


@pytest.fixture(scope="module")
def account(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(database, container) on the account under test, created by the synchronous store."""
    if os.environ.get("COSMOS_ENDPOINT"):
        names = ("claimcheck-test", "store")
    else:
        names = (f"claimcheck-aio-{worker_name()}", "store")
        emulator: EmulatorHandle = request.getfixturevalue("embedded_emulator")
        with CosmosStore.for_emulator(emulator, database=names[0], container=names[1]):
            pass
    return names


@pytest.fixture
def store(request: pytest.FixtureRequest, account: tuple[str, str]) -> Iterator[AioCosmosStore]:
    """A fresh store (a client of its own), closed on the controlled loop after the test."""
    database, container = account
    if os.environ.get("COSMOS_ENDPOINT"):
        made = AioCosmosStore.from_env(database=database, container=container)
    else:
        emulator: EmulatorHandle = request.getfixturevalue("embedded_emulator")
        made = AioCosmosStore.for_emulator(emulator, database=database, container=container)
    with use_runtime("asyncio"):
        yield made
        drive(made.aclose())


def test_contract_round_trip_under_the_asyncio_control(store: AioCosmosStore, pk: str) -> None:
    doc = drive(store.create("a", pk, {"n": 1}))
    assert (doc.id, doc.partition_key, dict(doc.body), doc.rev) == ("a", pk, {"n": 1}, 1)
    assert drive(store.get("a", pk)) == doc
    with pytest.raises(DocumentExists):
        drive(store.create("a", pk, {"n": 2}))
    updated = drive(store.update_if_match("a", pk, Expected(rev=1, etag=doc.etag), {"n": 3}))
    assert isinstance(updated, Updated)
    assert (dict(updated.doc.body), updated.doc.rev) == ({"n": 3}, 2)
    assert updated.doc.etag != doc.etag
    assert drive(store.update_if_match("a", pk, Expected(rev=1), {"n": 4})) == Conflict()
    assert drive(store.update_if_match("a", pk, Expected(etag=doc.etag), {"n": 4})) == Conflict()
    assert drive(store.update_if_match("zz", pk, Expected(rev=1), {"n": 4})) == NotFound()
    replaced = drive(store.replace("a", pk, {"m": 5}))
    assert (dict(replaced.body), replaced.rev) == ({"m": 5}, 3)
    with pytest.raises(DocumentNotFound):
        drive(store.replace("zz", pk, {}))
    drive(store.create("b", pk, {}))
    assert [d.id for d in drive(store.list_partition(pk))] == ["a", "b"]
    assert drive(store.delete("a", pk)) is True
    assert drive(store.delete("a", pk)) is False
    assert drive(store.get("a", pk)) is None
    # No ABA: a re-created document goes on from the deleted one's rev.
    assert drive(store.create("a", pk, {})).rev == 4
    assert drive(store.apurge_partition(pk)) == 2 + 0  # a and b; the tombstone was replaced
    assert drive(store.list_partition(pk)) == []


def test_items_are_the_synchronous_stores_items(
    store: AioCosmosStore, account: tuple[str, str], pk: str
) -> None:
    written = drive(store.create("shared", pk, {"k": "v"}))
    database, container = account
    if os.environ.get("COSMOS_ENDPOINT"):
        sync = CosmosStore.from_env(database=database, container=container)
    else:
        sync = CosmosStore(
            endpoint=store.endpoint, key="a2V5", database=database, container=container
        )
    with sync:
        assert drive(sync.get("shared", pk)) == written


def test_each_operation_awaits_its_labelled_point_first(store: AioCosmosStore, pk: str) -> None:
    async def actor() -> object:
        await store.create("x", pk, {})
        await store.get("x", pk)
        await store.update_if_match("x", pk, Expected(rev=1), {"y": 1})
        await store.list_partition(pk)
        return await store.delete("x", pk)

    execution = run_actors([actor], RandomScheduler(0), runtime="asyncio")
    assert execution.results == (True,)
    labelled = [p for p in execution.points if p[0] != "asyncio"]
    assert labelled == [
        ("create", pk, "x", True),
        ("get", pk, "x", False),
        ("update_if_match", pk, "x", True),
        ("list_partition", pk, None, False),
        ("delete", pk, "x", True),
    ]
    # The requests' own awaits are the loop's steps: labelled as dependent on everything.
    assert {p[0] for p in execution.points} == {"asyncio"} | {p[0] for p in labelled}


def test_works_under_plain_asyncio_and_closes_cleanly(
    request: pytest.FixtureRequest, account: tuple[str, str], pk: str
) -> None:
    database, container = account

    async def main() -> list[str]:
        if os.environ.get("COSMOS_ENDPOINT"):
            made = AioCosmosStore.from_env(database=database, container=container)
        else:
            emulator: EmulatorHandle = request.getfixturevalue("embedded_emulator")
            made = AioCosmosStore.for_emulator(emulator, database=database, container=container)
        try:
            await asyncio.gather(*(made.create(f"d{i}", pk, {"i": i}) for i in range(4)))
            return [d.id for d in await made.list_partition(pk)]
        finally:
            await made.aclose()

    assert asyncio.run(main()) == ["d0", "d1", "d2", "d3"]


def test_a_closed_store_is_misuse(store: AioCosmosStore, pk: str) -> None:
    drive(store.aclose())
    with pytest.raises(StoreMisuse, match="was closed"):
        drive(store.get("x", pk))


def test_a_wrong_certificate_pin_is_refused(embedded_emulator: EmulatorHandle, pk: str) -> None:
    wrong = AioCosmosStore(
        endpoint=embedded_emulator.endpoint,
        key=embedded_emulator.key,
        database="claimcheck-aio-pin",
        container="store",
        tls_fingerprint="00" * 32,
    )
    with use_runtime("asyncio"):
        try:
            with pytest.raises(StoreUnavailable, match=r"failed|could not be reached"):
                drive(wrong.get("x", pk))
        finally:
            drive(wrong.aclose())


def test_a_refused_connection_marks_the_endpoint_down_for_good(pk: str) -> None:
    dead = AioCosmosStore(
        endpoint=f"http://127.0.0.1:{closed_port()}/",
        key="a2V5",
        database="db",
        container="store",
    )
    with use_runtime("asyncio"):
        with pytest.raises(EndpointUnavailable, match="refused the connection"):
            drive(dead.get("x", pk))
        # Down for good: the next call raises at once, without a request.
        with pytest.raises(EndpointUnavailable, match="refused the connection"):
            drive(dead.create("x", pk, {}))
        drive(dead.aclose())


# -- the named backends -------------------------------------------------------------------------


def test_the_backends_are_registered_as_store_and_control() -> None:
    assert get_backend("cosmos-aio").control is False
    assert get_backend("rcw-cosmos-aio").control is True


@pytest.mark.parametrize("strategy", ["random", "pct"])
def test_cosmos_aio_passes_claim_race(strategy: str) -> None:
    result = explore("claim-race", "cosmos-aio", strategy, seed=0, budget=12, database=None)
    assert result.counterexample is None
    assert result.schedules == 12


@pytest.mark.parametrize("strategy", ["random", "pct"])
def test_the_control_is_caught_and_its_token_replays_exactly(strategy: str) -> None:
    result = explore("claim-race", "rcw-cosmos-aio", strategy, seed=0, budget=40, database=None)
    found = result.counterexample
    assert found is not None
    assert {v.kind for v in found.violations} & {"double-assignment", "not-linearizable"}
    # In a fresh backend (a new endpoint, new clients): the same schedule, the same finding.
    again = replay(found.token)
    assert again is not None
    assert again.violations == found.violations
    assert again.trace == found.trace


@pytest.mark.parametrize("name", ["cosmos-aio", "rcw-cosmos-aio"])
def test_exhaustive_search_runs_on_the_aio_backends(name: str) -> None:
    # aiohttp writes each request body in a task of its own: spawned tasks are no actors of
    # the symmetry reduction (they once indexed past its classes).
    result = explore("claim-race", name, "exhaustive", seed=0, budget=20, database=None)
    assert (result.counterexample is not None) == get_backend(name).control


def test_a_fresh_store_per_schedule_leaves_no_documents() -> None:
    prefix = f"t-{uuid.uuid4().hex[:6]}"
    with get_backend("cosmos-aio").open() as factory:
        first = factory(lambda s: s)
        drive(first.create("x", prefix, {}))
        second = factory(lambda s: s)  # purges the first schedule's namespace
        assert drive(second.list_partition(prefix)) == []
        with pytest.raises(StoreMisuse):
            drive(first.get("x", prefix))
