"""Named store backends, as the CLI, the scenarios and the pytest plugin refer to them."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import AbstractContextManager
from contextlib import ExitStack
from contextlib import contextmanager
from typing import TYPE_CHECKING
from typing import Any

import attrs

from stores import MemoryStore
from stores import ReadCheckWriteStore
from stores import Store

from ._namespace import NamespacedStore

if TYPE_CHECKING:
    from stores.cosmos import CosmosStore
    from stores.emulator import EmulatorHandle

__all__ = [
    "Backend",
    "UnknownBackend",
    "backend_names",
    "coordinator_options",
    "get_backend",
    "identity",
]

Wrap = Callable[[Store], Store]


def identity(store: Store) -> Store:
    return store


class UnknownBackend(LookupError):
    """A store name that claimcheck does not know."""


@attrs.frozen(kw_only=True)
class Backend:
    """How to get fresh stores of one kind.

    ``open()`` is a context manager that brings up whatever the backend needs (nothing for
    memory; a server for Cosmos) and yields a factory: ``factory(wrap)`` returns a fresh, empty
    store whose innermost (real) store has been passed through ``wrap`` -- the harness uses
    ``wrap`` to trace every real store operation, including the two halves of the control's
    read-check-write.  ``control`` is true for stores that must FAIL the checks.

    A store from ``factory`` serves one schedule: it may be used until ``factory`` is called
    again (the harness runs one schedule, set-up to final read, at a time) or ``open()`` ends.
    Then the backend may reclaim it (Cosmos purges its documents; using it afterwards is
    ``StoreMisuse``), so that a long run costs the same per schedule at its end as at its start.
    """

    name: str
    control: bool
    description: str
    open: Callable[[], AbstractContextManager[Callable[[Wrap], Store]]]
    #: Keyword arguments for the ``fleet.Coordinator`` driven over this backend's stores
    #: (a control of the coordinator itself sets ``resolve_ambiguity=False``).
    coordinator: Mapping[str, Any] = attrs.field(factory=dict)
    #: Fault decisions are data choices drawn from the scheduler: exhaustive search (which
    #: enumerates schedules only) and trio runs (which have no scheduler) do not apply.
    faults: bool = False
    #: At most this many schedules per check in the main job (a server costs ~1 ms/request).
    max_schedules: int | None = None
    #: Trials per true-concurrency check in the main job.
    trials: int = 20
    #: Whether the main job runs trio trials (true concurrency) on it: not for a store that
    #: awaits asyncio itself.
    trio_trials: bool = True


def coordinator_options(name: str) -> Mapping[str, Any]:
    """The coordinator options of a registered backend; none for an unregistered name."""
    backend = _BACKENDS.get(name)
    return {} if backend is None else backend.coordinator


@contextmanager
def _memory() -> Iterator[Callable[[Wrap], Store]]:
    yield lambda wrap: wrap(MemoryStore())


@contextmanager
def _rcw_memory() -> Iterator[Callable[[Wrap], Store]]:
    yield lambda wrap: ReadCheckWriteStore(wrap(MemoryStore()))


@contextmanager
def _sqlite() -> Iterator[Callable[[Wrap], Store]]:
    from stores import fresh_sqlite_stores

    with fresh_sqlite_stores() as make:
        yield lambda wrap: wrap(make())


@contextmanager
def _rcw_sqlite() -> Iterator[Callable[[Wrap], Store]]:
    from stores import fresh_sqlite_stores

    with fresh_sqlite_stores() as make:
        yield lambda wrap: ReadCheckWriteStore(wrap(make()))


class _Namespaces:
    """Fresh, empty stores in one shared container (see ``_cosmos_stores``), one at a time.
    ``make()`` gives the store a namespace wraps and what releases it once its schedule is
    over (after the namespace itself was closed).

    Every store gets the **same** namespace, emptied (purged) before the next store is made.
    The namespace is in the partition key the inner store puts in its scheduling labels, and
    the exhaustive search compares the labels of one schedule with those of earlier schedules:
    a namespace per schedule made two writes to one document look independent, and the search
    skipped their other order (the conformance check "scheduling labels" shows it).
    """

    def __init__(self, make: Callable[[], tuple[Store, Callable[[NamespacedStore], None]]]):
        import uuid

        self._make = make
        # The run id only keeps runs against a shared real account apart; it decides nothing.
        self._run = uuid.uuid4().hex[:8]
        self._current: list[tuple[NamespacedStore, Callable[[NamespacedStore], None]]] = []

    def fresh(self) -> Store:
        self.close()
        inner, release = self._make()
        store = NamespacedStore(inner, self._run)
        self._current.append((store, release))
        return store

    def close(self) -> None:
        while self._current:
            store, release = self._current.pop()
            store.close()
            release(store)


def _shared_cosmos(stack: ExitStack) -> tuple[CosmosStore, EmulatorHandle | None]:
    """The container every schedule's namespace lives in: on ``COSMOS_ENDPOINT``/``COSMOS_KEY``
    (a real account, or Microsoft's emulator), else on an embedded endpoint started here and
    stopped with ``stack``.  A failure to start raises ``EmulatorError`` (exit 3 from the CLI)."""
    import os

    from stores.cosmos import CosmosStore
    from stores.emulator import start_emulator

    if os.environ.get("COSMOS_ENDPOINT"):
        shared = CosmosStore.from_env(database="claimcheck", container="harness")
        emulator = None
    else:
        emulator = stack.enter_context(start_emulator())
        shared = CosmosStore.for_emulator(emulator, database="claimcheck")
    stack.enter_context(shared)
    return shared, emulator


@contextmanager
def _cosmos_stores() -> Iterator[Callable[[], Store]]:
    """Fresh, empty Cosmos-backed stores: one container, a private namespace per store.

    ``COSMOS_ENDPOINT``/``COSMOS_KEY`` select a real account (or Microsoft's emulator);
    otherwise the embedded endpoint is started here and stopped on exit.  The key is never
    printed.  A failure to start raises ``EmulatorError`` (exit 3 from the CLI); an endpoint
    that dies or stops answering during the run makes the next store call raise
    ``stores.cosmos.EndpointUnavailable`` (a ``StoreError``: exit 3, naming the endpoint's log).

    Asking for a new store purges the previous one's namespace (its schedule is over, see
    ``Backend``), and a normal exit purges the last: the container never holds more than the
    schedule in progress, so every query costs the same at the end of a run as at its start.
    """
    with ExitStack() as stack:
        shared, _ = _shared_cosmos(stack)
        namespaces = _Namespaces(lambda: (shared, lambda _: None))
        yield namespaces.fresh
        # Not on an exception: the endpoint may be what failed, and the error must come out.
        namespaces.close()


@contextmanager
def _aio_cosmos_stores() -> Iterator[Callable[[], Store]]:
    """Fresh, empty ``AioCosmosStore``s, as ``_cosmos_stores`` gives ``CosmosStore``s: each
    with a client of its own (its aiohttp session belongs to this thread's controlled loop, and
    no schedule may depend on connections an earlier one pooled), in a namespace of the shared
    container, purged by the synchronous store and closed once its schedule is over.

    Every run inside the block starts under the asyncio control (``use_runtime``): aiohttp
    needs a task from its first request, which the stepper cannot see coming.
    """
    from stores.cosmos import AioCosmosStore

    from ..runtime import drive
    from ..runtime import use_runtime

    with ExitStack() as stack:
        shared, emulator = _shared_cosmos(stack)
        stack.enter_context(use_runtime("asyncio"))

        def make() -> tuple[Store, Callable[[NamespacedStore], None]]:
            if emulator is None:
                store = AioCosmosStore.from_env(
                    database="claimcheck", container="harness", create_if_missing=False
                )
            else:
                store = AioCosmosStore.for_emulator(
                    emulator, database="claimcheck", create_if_missing=False
                )

            def release(namespace: NamespacedStore) -> None:
                try:
                    for partition in sorted(namespace.partitions):
                        shared.purge_partition(f"{namespace.prefix}~{partition}")
                finally:
                    drive(store.aclose(), runtime="asyncio")

            return store, release

        namespaces = _Namespaces(make)
        try:
            yield namespaces.fresh
        except BaseException:
            # The endpoint may be what failed: close the clients, purge nothing.
            for store, _ in namespaces._current:
                inner = store.inner
                if isinstance(inner, AioCosmosStore):
                    drive(inner.aclose(), runtime="asyncio")
            raise
        namespaces.close()


@contextmanager
def _cosmos() -> Iterator[Callable[[Wrap], Store]]:
    with _cosmos_stores() as make:
        yield lambda wrap: wrap(make())


@contextmanager
def _rcw_cosmos() -> Iterator[Callable[[Wrap], Store]]:
    with _cosmos_stores() as make:
        yield lambda wrap: ReadCheckWriteStore(wrap(make()))


@contextmanager
def _cosmos_aio() -> Iterator[Callable[[Wrap], Store]]:
    with _aio_cosmos_stores() as make:
        yield lambda wrap: wrap(make())


@contextmanager
def _rcw_cosmos_aio() -> Iterator[Callable[[Wrap], Store]]:
    with _aio_cosmos_stores() as make:
        yield lambda wrap: ReadCheckWriteStore(wrap(make()))


@contextmanager
def _faulty_cosmos() -> Iterator[Callable[[Wrap], Store]]:
    from ._faults import FaultyStore

    with _cosmos_stores() as make:
        yield lambda wrap: FaultyStore(wrap(make()))


@contextmanager
def _faulty_memory() -> Iterator[Callable[[Wrap], Store]]:
    from ._faults import FaultyStore

    yield lambda wrap: FaultyStore(wrap(MemoryStore()))


_BACKENDS: dict[str, Backend] = {}


def register(backend: Backend) -> None:
    _BACKENDS[backend.name] = backend


register(Backend(name="memory", control=False, description="in-process MemoryStore", open=_memory))
register(
    Backend(
        name="rcw-memory",
        control=True,
        description="ReadCheckWriteStore(MemoryStore()): the pre-fix CAS, must fail",
        open=_rcw_memory,
    )
)


register(
    Backend(
        name="sqlite",
        control=False,
        description="SqliteStore: one WAL database file per store, one connection per thread",
        open=_sqlite,
    )
)
register(
    Backend(
        name="rcw-sqlite",
        control=True,
        description="ReadCheckWriteStore(SqliteStore(...)): the pre-fix CAS, must fail",
        open=_rcw_sqlite,
    )
)
register(
    Backend(
        name="cosmos",
        control=False,
        description="CosmosStore via azure-cosmos (embedded endpoint, or COSMOS_ENDPOINT/KEY)",
        open=_cosmos,
        max_schedules=40,
        trials=8,
    )
)
register(
    Backend(
        name="rcw-cosmos",
        control=True,
        description="ReadCheckWriteStore(CosmosStore(...)): the pre-fix CAS, must fail",
        open=_rcw_cosmos,
        max_schedules=40,
        trials=8,
    )
)
register(
    Backend(
        name="cosmos-aio",
        control=False,
        description="AioCosmosStore via azure.cosmos.aio on aiohttp, under the asyncio control "
        "(embedded endpoint, or COSMOS_ENDPOINT/KEY)",
        open=_cosmos_aio,
        max_schedules=40,
        # Every scenario with every strategy, as cosmos; no trio trials: the store awaits
        # asyncio itself, which trio's true concurrency cannot drive.
        trio_trials=False,
    )
)
register(
    Backend(
        name="rcw-cosmos-aio",
        control=True,
        description="ReadCheckWriteStore(AioCosmosStore(...)): the pre-fix CAS, must fail",
        open=_rcw_cosmos_aio,
        max_schedules=40,
        # Every scenario with every strategy, as cosmos; no trio trials: the store awaits
        # asyncio itself, which trio's true concurrency cannot drive.
        trio_trials=False,
    )
)
register(
    Backend(
        name="faulty-memory",
        control=False,
        description="MemoryStore behind scheduler-chosen faults: lost responses, 503s, "
        "misleading 412s, latency",
        open=_faulty_memory,
        faults=True,
    )
)


register(
    Backend(
        name="naive-faulty-memory",
        control=True,
        description="faulty-memory driven by a coordinator that does not resolve ambiguous "
        "outcomes (a misleading 412 reads as a lost claim): must fail",
        open=_faulty_memory,
        coordinator={"resolve_ambiguity": False},
        faults=True,
    )
)


register(
    Backend(
        name="faulty-cosmos",
        control=False,
        description="CosmosStore behind scheduler-chosen faults",
        open=_faulty_cosmos,
        faults=True,
        max_schedules=40,
    )
)
register(
    Backend(
        name="naive-faulty-cosmos",
        control=True,
        description="faulty-cosmos driven by the coordinator that does not resolve ambiguous "
        "outcomes: must fail",
        open=_faulty_cosmos,
        coordinator={"resolve_ambiguity": False},
        faults=True,
        max_schedules=40,
    )
)


def backend_names() -> list[str]:
    return list(_BACKENDS)


def get_backend(name: str) -> Backend:
    try:
        return _BACKENDS[name]
    except KeyError:
        raise UnknownBackend(
            f"unknown store {name!r}; choose one of: {', '.join(_BACKENDS)}."
        ) from None
