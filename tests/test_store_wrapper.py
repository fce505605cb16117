"""StoreWrapper: one way to wrap a store -- delegation, the fork capability, and its users."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from typing import Self

import pytest

from harness import drive
from harness.backends import FaultyStore
from harness.backends import NamespacedStore
from harness.conformance import CountingStore
from harness.conformance import HistoryClock
from harness.conformance import ValidatingStore
from harness.explore import TracingStore
from stores import Conflict
from stores import Doc
from stores import Expected
from stores import MemoryStore
from stores import ReadCheckWriteStore
from stores import Store
from stores import StoreWrapper
from stores import Updated
from stores import can_fork

from .zoo import LoggingStore
from .zoo import RenamingStore


def test_every_operation_is_delegated_to_inner() -> None:
    inner = MemoryStore()
    store = StoreWrapper(inner)
    created = drive(store.create("a", "p", {"x": 1}))
    assert drive(inner.get("a", "p")) == created
    assert drive(store.get("a", "p")) == created
    replaced = drive(store.replace("a", "p", {"x": 2}))
    assert drive(inner.get("a", "p")) == replaced
    updated = drive(store.update_if_match("a", "p", Expected(rev=replaced.rev), {"x": 3}))
    assert isinstance(updated, Updated)
    assert drive(inner.get("a", "p")) == updated.doc
    stale = drive(store.update_if_match("a", "p", Expected(rev=replaced.rev), {"x": 4}))
    assert isinstance(stale, Conflict)
    drive(inner.create("b", "p", {}))
    assert [d.id for d in drive(store.list_partition("p"))] == ["a", "b"]
    assert drive(store.delete("b", "p")) is True
    assert drive(inner.get("b", "p")) is None
    assert drive(store.delete("b", "p")) is False


class CountingGets(StoreWrapper):
    """Overrides one operation only."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.gets = 0

    async def get(self, id: str, partition_key: str) -> Doc | None:
        self.gets += 1
        return await self.inner.get(id, partition_key)


def test_a_subclass_overriding_one_operation_still_delegates_the_others() -> None:
    inner = MemoryStore()
    store = CountingGets(inner)
    doc = drive(store.create("a", "p", {"x": 1}))
    assert drive(store.get("a", "p")) == doc
    assert store.gets == 1
    drive(store.replace("a", "p", {"x": 2}))
    drive(store.update_if_match("a", "p", Expected(rev=2), {"x": 3}))
    assert drive(inner.get("a", "p")).body == {"x": 3}
    assert len(drive(store.list_partition("p"))) == 1
    assert drive(store.delete("a", "p")) is True
    assert drive(inner.get("a", "p")) is None
    assert store.gets == 1  # only the overridden operation went through the override


def test_a_wrapper_forks_when_its_inner_store_forks() -> None:
    store = CountingGets(MemoryStore())
    doc = drive(store.create("a", "p", {"x": 1}))
    assert store.can_fork
    assert can_fork(store)
    twin = store.fork()
    assert type(twin) is CountingGets
    assert twin.inner is not store.inner
    assert drive(twin.get("a", "p")) == doc
    drive(twin.replace("a", "p", {"x": 2}))
    assert drive(store.get("a", "p")) == doc  # the copy is independent


class Pinned(StoreWrapper):
    """Declares that it must not be forked."""

    forkable = False


def test_a_wrapper_does_not_fork_when_it_declares_so_or_its_inner_store_cannot() -> None:
    pinned = Pinned(MemoryStore())
    over_pinned = StoreWrapper(pinned)
    for store, reason in (
        (pinned, "Pinned declares forkable = False"),
        (over_pinned, "its inner store Pinned cannot fork"),
    ):
        assert not store.can_fork
        assert not can_fork(store)
        with pytest.raises(NotImplementedError, match=reason):
            store.fork()


def test_can_fork_answers_for_stores_that_are_not_wrappers() -> None:
    assert can_fork(MemoryStore())
    assert can_fork(MemoryStore())  # the memoised answer is the same


class Tagged(StoreWrapper):
    def __init__(self, inner: Store, tag: str) -> None:
        super().__init__(inner)
        self.tag = tag

    def _rewrap(self, inner: Store) -> Self:
        return type(self)(inner, self.tag)

    async def create(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        return await self.inner.create(id, partition_key, {**body, "tag": self.tag})


def test_rewrap_keeps_the_configuration_of_the_layer() -> None:
    twin = Tagged(MemoryStore(), "t1").fork()
    assert twin.tag == "t1"
    assert drive(twin.create("a", "p", {})).body == {"tag": "t1"}


def test_layers_fork_with_their_configuration() -> None:
    faulty = FaultyStore(MemoryStore(), seed=7, outside_runs=True).fork()
    assert (faulty.seed, faulty.outside_runs, faulty.injected) == (7, True, [])
    assert NamespacedStore(MemoryStore(), "ns").fork().prefix == "ns"
    control = ReadCheckWriteStore(MemoryStore())
    drive(control.create("a", "p", {}))
    twin = control.fork()
    assert type(twin) is ReadCheckWriteStore
    assert drive(twin.get("a", "p")) == drive(control.get("a", "p"))
    renamed = RenamingStore(MemoryStore())
    drive(renamed.create("a", "p", {}))
    copy = renamed.fork()
    assert isinstance(copy.inner, MemoryStore)  # renamed once, not twice
    assert drive(copy.get("a", "p")) == drive(renamed.get("a", "p"))


def test_the_validator_and_the_batch_counter_refuse_to_fork() -> None:
    assert not ValidatingStore(MemoryStore()).can_fork
    assert not CountingStore(MemoryStore(), HistoryClock()).can_fork


def test_only_the_fault_layer_declares_that_it_injects_faults() -> None:
    assert FaultyStore(MemoryStore()).injects_faults
    assert not StoreWrapper(MemoryStore()).injects_faults
    assert not ReadCheckWriteStore(MemoryStore()).injects_faults


@pytest.mark.parametrize(
    "layer",
    [
        FaultyStore,
        NamespacedStore,
        TracingStore,
        CountingStore,
        ValidatingStore,
        ReadCheckWriteStore,
        LoggingStore,
        RenamingStore,
    ],
)
def test_every_store_layer_is_a_store_wrapper(layer: type[object]) -> None:
    assert issubclass(layer, StoreWrapper)
