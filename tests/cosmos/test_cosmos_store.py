"""The store contract on CosmosStore, driven both under control (inline I/O) and by trio (threads).

Also: the item mapping (reserved fields, system fields stripped), misuse errors, errors outside
the contract (``stores.StoreUnavailable``, which never shows the key), and one scheduling point per
operation when a coroutine is stepped by hand.
"""

from __future__ import annotations

import socket
import traceback
from collections.abc import Callable
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest
import trio

from stores import CONTROLLED
from stores import IO_THREADS
from stores import Conflict
from stores import Doc
from stores import DocumentExists
from stores import DocumentNotFound
from stores import Expected
from stores import NotFound
from stores import StoreMisuse
from stores import StoreUnavailable
from stores import Updated
from stores.cosmos import RESERVED_FIELDS
from stores.cosmos import CosmosStore
from stores.emulator import EmulatorHandle
from stores.emulator import start_emulator

from ._drive import drive
from ._drive import step
from ._drive import under_trio

Run = Callable[[Coroutine[Any, Any, Any]], Any]


DRIVERS: dict[str, Run] = {"controlled": drive, "trio": under_trio}


@pytest.fixture(params=list(DRIVERS))
def run(request: pytest.FixtureRequest) -> Run:
    return DRIVERS[request.param]


@pytest.fixture
def store(cosmos_store: CosmosStore) -> CosmosStore:
    return cosmos_store


def test_create_then_get_returns_rev_1_and_the_body(store: CosmosStore, pk: str, run: Run) -> None:
    doc = run(store.create("a", pk, {"x": 1, "nested": {"y": [1, "z"]}}))
    assert (doc.id, doc.partition_key, doc.rev) == ("a", pk, 1)
    assert dict(doc.body) == {"x": 1, "nested": {"y": [1, "z"]}}
    assert isinstance(doc.etag, str)
    assert doc.etag
    assert run(store.get("a", pk)) == doc


def test_get_of_missing_id_or_other_partition_is_none(
    store: CosmosStore, pk: str, run: Run
) -> None:
    run(store.create("a", pk, {}))
    assert run(store.get("missing", pk)) is None
    assert run(store.get("a", pk + "-other")) is None


def test_create_twice_raises_document_exists_and_keeps_the_first(
    store: CosmosStore, pk: str, run: Run
) -> None:
    first = run(store.create("a", pk, {"x": 1}))
    with pytest.raises(DocumentExists, match="already exists"):
        run(store.create("a", pk, {"x": 2}))
    assert run(store.get("a", pk)) == first


def test_same_id_in_two_partitions_are_two_documents(store: CosmosStore, pk: str, run: Run) -> None:
    a = run(store.create("a", pk, {"x": 1}))
    b = run(store.create("a", pk + "-2", {"x": 2}))
    assert (a.body["x"], b.body["x"]) == (1, 2)


def test_replace_writes_the_whole_body_and_bumps_both_tokens(
    store: CosmosStore, pk: str, run: Run
) -> None:
    doc = run(store.create("a", pk, {"x": 1, "y": 1}))
    new = run(store.replace("a", pk, {"x": 2}))
    assert dict(new.body) == {"x": 2}
    assert new.rev == doc.rev + 1
    assert new.etag != doc.etag
    assert run(store.get("a", pk)) == new


def test_replace_of_missing_document_raises_document_not_found(
    store: CosmosStore, pk: str, run: Run
) -> None:
    with pytest.raises(DocumentNotFound):
        run(store.replace("nope", pk, {"x": 1}))


@pytest.mark.parametrize("which", ["rev", "etag", "both"])
def test_update_if_match_on_match_writes_and_bumps_both_tokens(
    store: CosmosStore, pk: str, run: Run, which: str
) -> None:
    doc = run(store.create("a", pk, {"x": 1, "y": 1}))
    expected = {
        "rev": Expected(rev=doc.rev),
        "etag": Expected(etag=doc.etag),
        "both": Expected(etag=doc.etag, rev=doc.rev),
    }[which]
    result = run(store.update_if_match("a", pk, expected, {"x": 2}))
    assert isinstance(result, Updated)
    assert result.ok
    assert dict(result.doc.body) == {"x": 2, "y": 1}
    assert result.doc.rev == doc.rev + 1
    assert result.doc.etag != doc.etag
    assert run(store.get("a", pk)) == result.doc


@pytest.mark.parametrize("which", ["rev", "etag", "both", "mixed"])
def test_stale_token_is_a_conflict_and_writes_nothing(
    store: CosmosStore, pk: str, run: Run, which: str
) -> None:
    old = run(store.create("a", pk, {"x": 1}))
    new = run(store.replace("a", pk, {"x": 2}))
    expected = {
        "rev": Expected(rev=old.rev),
        "etag": Expected(etag=old.etag),
        "both": Expected(etag=old.etag, rev=old.rev),
        "mixed": Expected(etag=new.etag, rev=old.rev),
    }[which]
    result = run(store.update_if_match("a", pk, expected, {"x": 3}))
    assert isinstance(result, Conflict)
    assert result.reason == "conflict"
    assert run(store.get("a", pk)) == new


def test_update_if_match_of_missing_document_is_not_found(
    store: CosmosStore, pk: str, run: Run
) -> None:
    result = run(store.update_if_match("nope", pk, Expected(rev=1), {"x": 1}))
    assert isinstance(result, NotFound)
    assert result.reason == "not_found"
    assert run(store.get("nope", pk)) is None


def test_update_if_match_of_deleted_document_is_not_found(
    store: CosmosStore, pk: str, run: Run
) -> None:
    doc = run(store.create("a", pk, {"x": 1}))
    assert run(store.delete("a", pk)) is True
    for expected in (Expected(rev=doc.rev), Expected(etag=doc.etag)):
        assert isinstance(run(store.update_if_match("a", pk, expected, {"x": 2})), NotFound)
    assert run(store.get("a", pk)) is None


def test_delete_says_whether_it_removed_a_document(store: CosmosStore, pk: str, run: Run) -> None:
    run(store.create("a", pk, {}))
    assert run(store.delete("a", pk)) is True
    assert run(store.delete("a", pk)) is False
    assert run(store.delete("never", pk)) is False
    assert run(store.get("a", pk)) is None
    with pytest.raises(DocumentNotFound):
        run(store.replace("a", pk, {}))


def test_no_aba_after_delete_and_recreate(store: CosmosStore, pk: str, run: Run) -> None:
    first = run(store.create("a", pk, {"x": 1}))
    second = run(store.update_if_match("a", pk, Expected(rev=first.rev), {"x": 2})).doc
    assert run(store.delete("a", pk)) is True
    again = run(store.create("a", pk, {"x": 1}))
    assert again.rev == second.rev + 1  # the rev continues: never reused
    assert again.etag not in (first.etag, second.etag)
    for stale in (first, second):
        for expected in (Expected(rev=stale.rev), Expected(etag=stale.etag)):
            assert isinstance(run(store.update_if_match("a", pk, expected, {"x": 9})), Conflict)
    assert run(store.get("a", pk)) == again
    with pytest.raises(DocumentExists):
        run(store.create("a", pk, {"x": 3}))


def test_rev_strictly_increases_with_every_write(store: CosmosStore, pk: str, run: Run) -> None:
    doc = run(store.create("a", pk, {"n": 0}))
    revs, etags = [doc.rev], [doc.etag]
    for n in range(1, 7):
        if n == 3:
            run(store.delete("a", pk))
            doc = run(store.create("a", pk, {"n": n}))
        elif n % 2:
            doc = run(store.replace("a", pk, {"n": n}))
        else:
            doc = run(store.update_if_match("a", pk, Expected(etag=doc.etag), {"n": n})).doc
        revs.append(doc.rev)
        etags.append(doc.etag)
    assert revs == sorted(set(revs))
    assert len(set(etags)) == len(etags)


def test_list_partition_is_sorted_by_id_scoped_and_skips_deleted(
    store: CosmosStore, pk: str, run: Run
) -> None:
    for id in ("c", "a", "B", "b", "d"):
        run(store.create(id, pk, {"name": id}))
    run(store.create("z", pk + "-other", {}))
    run(store.delete("d", pk))
    docs = run(store.list_partition(pk))
    assert [d.id for d in docs] == ["B", "a", "b", "c"]  # Python's str order
    assert all(d.partition_key == pk for d in docs)
    assert docs[1] == run(store.get("a", pk))
    assert [d.id for d in run(store.list_partition(pk + "-other"))] == ["z"]
    assert run(store.list_partition(pk + "-empty")) == []


def test_system_and_store_fields_never_reach_the_body(
    store: CosmosStore, pk: str, run: Run
) -> None:
    doc = run(store.create("a", pk, {"x": 1}))
    assert set(doc.body) == {"x"}
    for got in (run(store.get("a", pk)), run(store.list_partition(pk))[0]):
        assert isinstance(got, Doc)
        assert set(got.body) == {"x"}


@pytest.mark.parametrize("field", sorted(RESERVED_FIELDS - {"id"}))
def test_reserved_fields_are_misuse_in_body_and_patch(
    store: CosmosStore, pk: str, run: Run, field: str
) -> None:
    with pytest.raises(StoreMisuse, match=f"may not use the field.*'{field}'"):
        run(store.create("a", pk, {field: 1}))
    doc = run(store.create("a", pk, {"x": 1}))
    with pytest.raises(StoreMisuse, match=f"'{field}'"):
        run(store.replace("a", pk, {field: 1}))
    with pytest.raises(StoreMisuse, match=f"'{field}'"):
        run(store.update_if_match("a", pk, Expected(rev=doc.rev), {field: 1}))
    assert run(store.get("a", pk)) == doc


def test_body_is_a_read_only_copy(store: CosmosStore, pk: str, run: Run) -> None:
    body: dict[str, Any] = {"x": 1, "nested": {"y": 2}}
    doc = run(store.create("a", pk, body))
    body["x"] = 99
    body["nested"]["y"] = 99
    with pytest.raises(TypeError):
        doc.body["x"] = 3
    got = run(store.get("a", pk))
    assert dict(got.body) == {"x": 1, "nested": {"y": 2}}


@pytest.mark.parametrize("bad", ["", None, 7])
def test_ids_and_partition_keys_must_be_non_empty_strings(store: CosmosStore, bad: Any) -> None:
    with pytest.raises(StoreMisuse, match="id must be a non-empty str"):
        drive(store.get(bad, "p"))
    with pytest.raises(StoreMisuse, match="partition_key must be a non-empty str"):
        drive(store.create("a", bad, {}))
    with pytest.raises(StoreMisuse, match="partition_key must be a non-empty str"):
        drive(store.list_partition(bad))


def test_expected_must_be_an_expected_and_patch_a_mapping(store: CosmosStore, pk: str) -> None:
    doc = drive(store.create("a", pk, {"x": 1}))
    with pytest.raises(StoreMisuse, match=r"expected must be stores\.Expected"):
        drive(store.update_if_match("a", pk, {"rev": 1}, {"x": 2}))  # type: ignore[arg-type]
    with pytest.raises(StoreMisuse, match="patch must be a mapping"):
        drive(store.update_if_match("a", pk, Expected(rev=1), [("x", 2)]))  # type: ignore[arg-type]
    assert drive(store.get("a", pk)) == doc


# -- one scheduling point per operation, stepped by hand ----------------------------------------


def test_each_operation_yields_exactly_one_point_when_stepped_by_hand(
    store: CosmosStore, pk: str
) -> None:
    # step() sets stores.CONTROLLED, sends None until StopIteration and checks every yielded
    # value is a Point tuple (op, partition_key, id, writes).
    doc, points = step(store.create("a", pk, {"x": 1}))
    assert points == [("create", pk, "a", True)]
    got, points = step(store.get("a", pk))
    assert (got, points) == (doc, [("get", pk, "a", False)])
    result, points = step(store.update_if_match("a", pk, Expected(rev=1), {"x": 2}))
    assert result.ok
    assert points == [("update_if_match", pk, "a", True)]
    result, points = step(store.update_if_match("a", pk, Expected(rev=1), {"x": 3}))
    assert isinstance(result, Conflict)
    assert points == [("update_if_match", pk, "a", True)]
    new, points = step(store.replace("a", pk, {"x": 4}))
    assert (new.rev, points) == (3, [("replace", pk, "a", True)])
    listed, points = step(store.list_partition(pk))
    assert (listed, points) == ([new], [("list_partition", pk, None, False)])
    removed, points = step(store.delete("a", pk))
    assert (removed, points) == (True, [("delete", pk, "a", True)])


def test_misuse_is_raised_before_the_scheduling_point(store: CosmosStore) -> None:
    token = CONTROLLED.set(object())
    try:
        coro = store.create("a", "p", {"rev": 1})
        with pytest.raises(StoreMisuse):
            coro.send(None)
    finally:
        CONTROLLED.reset(token)


# -- errors outside the contract ------------------------------------------------------------------

SECRET = "c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seQ=="


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_unreachable_endpoint_raises_store_unavailable_naming_it_not_the_key() -> None:
    endpoint = f"https://127.0.0.1:{closed_port()}/"
    with pytest.raises(StoreUnavailable) as info:
        CosmosStore(endpoint=endpoint, key=SECRET, database="d", container="c")
    message = str(info.value)
    assert endpoint in message
    assert "\n" not in message
    assert "check that the endpoint is running" in message
    full = "".join(traceback.format_exception(info.value))
    assert SECRET not in full


def test_endpoint_that_goes_away_raises_store_unavailable(tmp_path: Path) -> None:
    with start_emulator(log_path=tmp_path / "server.log") as emulator:
        store = CosmosStore.for_emulator(emulator, database="d")
    # Refused (ServiceRequestError) or reset on a pooled connection (ServiceResponseError): a
    # read either way, so nothing was written and the answer is StoreUnavailable.
    with store, pytest.raises(StoreUnavailable, match=r"failed get of 'a'.*nothing was written"):
        drive(store.get("a", "p"))


def test_unreachable_plain_http_endpoint_goes_through_requests_and_is_unavailable() -> None:
    # Not a pinned loopback https endpoint: azure-core's RequestsTransport (the real-account
    # path) carries the request, and its connection error maps the same way.
    endpoint = f"http://127.0.0.1:{closed_port()}/"
    with pytest.raises(
        StoreUnavailable, match=r"refused the connection: failed connect in d/c"
    ) as info:
        CosmosStore(endpoint=endpoint, key=SECRET, database="d", container="c")
    assert endpoint in str(info.value)
    assert type(info.value.__cause__).__name__ == "ServiceRequestError"
    assert SECRET not in "".join(traceback.format_exception(info.value))


def test_repr_names_the_endpoint_and_never_the_key(cosmos_store: CosmosStore) -> None:
    text = repr(cosmos_store)
    assert cosmos_store.endpoint in text
    assert "key" not in text.lower()


def test_from_env_needs_endpoint_and_key() -> None:
    with pytest.raises(StoreMisuse, match="COSMOS_KEY not set"):
        CosmosStore.from_env(environ={"COSMOS_ENDPOINT": "https://example.invalid:443/"})
    with pytest.raises(StoreMisuse, match="COSMOS_ENDPOINT and COSMOS_KEY not set"):
        CosmosStore.from_env(environ={})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"endpoint": ""}, "endpoint=.... must be a non-empty str"),
        ({"endpoint": "127.0.0.1:8081"}, r"must be an https:// \(or http://\) URL"),
        ({"database": ""}, "database=.... must be a non-empty str"),
        ({"key": ""}, "key=.... must be a non-empty str"),
        ({"key": "not base64!"}, r"key=.... is not base64 \(11 characters\)"),
    ],
)
def test_constructor_rejects_bad_arguments_without_echoing_the_key(
    kwargs: dict[str, Any], match: str
) -> None:
    args: dict[str, Any] = {
        "endpoint": "https://127.0.0.1:1/",
        "key": SECRET,
        "database": "d",
        "container": "c",
        **kwargs,
    }
    with pytest.raises(StoreMisuse, match=match) as info:
        CosmosStore(**args)
    assert SECRET not in str(info.value)


def test_non_ascii_bodies_round_trip(store: CosmosStore, pk: str, run: Run) -> None:
    body = {"name": "Zoë ✓ 🚀", "ключ": "значение", "nested": {"ü": ["é", 1.5, None, True]}}
    doc = run(store.create("å-1", pk, body))
    assert dict(doc.body) == body
    result = run(store.update_if_match("å-1", pk, Expected(rev=doc.rev), {"name": "Ünïcode"}))
    assert result.ok
    assert dict(run(store.get("å-1", pk)).body) == {**body, "name": "Ünïcode"}


def test_loopback_endpoint_without_a_fingerprint_is_pinned_on_first_use(
    embedded_emulator: EmulatorHandle, pk: str
) -> None:
    # No fingerprint given: the store pins what the loopback server presents, so no
    # InsecureRequestWarning is raised (warnings are errors in this suite).
    with CosmosStore(
        endpoint=embedded_emulator.endpoint,
        key=embedded_emulator.key,
        database="tofu",
        container="store",
    ) as store:
        assert drive(store.create("a", pk, {})).rev == 1


def test_concurrent_calls_reuse_one_connection_per_io_thread(
    embedded_emulator: EmulatorHandle, pk: str
) -> None:
    # With a pool smaller than the thread count, urllib3 opens (and throws away) new TLS
    # connections for the overflow on every round: measured 156 connections over these 40
    # rounds with a pool of 10.  Sized to IO_THREADS, the count stays at about IO_THREADS.
    with CosmosStore.for_emulator(embedded_emulator, database="pool") as store:
        drive(store.create("a", pk, {}))

        async def rounds() -> None:
            for _ in range(40):
                async with trio.open_nursery() as nursery:
                    for _ in range(IO_THREADS):
                        nursery.start_soon(store.get, "a", pk)

        trio.run(rounds)
        transport: Any = store._transport
        pinned = transport.inner  # the pinned transport, under the health check
        pool = pinned._pool.connection_from_url(embedded_emulator.endpoint)
        assert 1 <= pool.num_connections <= IO_THREADS + 4
