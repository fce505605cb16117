"""The Azure Cosmos DB backend: the store contract over the ``azure-cosmos`` SDK, synchronous
(``CosmosStore``) and asyncio (``AioCosmosStore``, on ``azure.cosmos.aio`` and aiohttp).

Layout: ``_store`` (``CosmosStore``: the item layout, tombstones, compare-and-set by If-Match),
``_transport`` (the HTTP transport under the SDK client, its timeouts and ``EndpointHealth``,
and the client's set-up), ``_errors`` (SDK errors mapped onto ``OutcomeUnknown`` /
``StoreUnavailable`` / ``EndpointUnavailable``), ``_faults`` (``FaultyTransport``: faults
injected at the HTTP level, under the SDK's retries), ``_aio_store`` and ``_aio_transport``
(``AioCosmosStore`` and its pinned aiohttp transport, watched by the same ``EndpointHealth``).

This package and its modules are the only ones that import ``azure``; ``import stores`` does
not load it (``stores.CosmosStore`` is resolved lazily).  Design notes and measured figures are
in ``docs/cosmos.md``.
"""

from ._aio_store import AioCosmosStore
from ._errors import EndpointUnavailable
from ._faults import DECISIONS
from ._faults import FAULT_TABLE
from ._faults import Decide
from ._faults import Exchange
from ._faults import FaultyTransport
from ._faults import Predicate
from ._faults import choice_decider
from ._faults import is_item_request
from ._faults import item_request
from ._faults import scripted
from ._store import RESERVED_FIELDS
from ._store import CosmosStore
from ._transport import CONNECT_TIMEOUT
from ._transport import READ_TIMEOUT
from ._transport import EndpointProbe
from ._transport import TransportWrapper

__all__ = [
    "CONNECT_TIMEOUT",
    "DECISIONS",
    "FAULT_TABLE",
    "READ_TIMEOUT",
    "RESERVED_FIELDS",
    "AioCosmosStore",
    "CosmosStore",
    "Decide",
    "EndpointProbe",
    "EndpointUnavailable",
    "Exchange",
    "FaultyTransport",
    "Predicate",
    "TransportWrapper",
    "choice_decider",
    "is_item_request",
    "item_request",
    "scripted",
]
