"""The asyncio HTTP transport under ``azure.cosmos.aio``, and that client's set-up.

The same two paths as the synchronous store's ``_transport``: azure-core's ``AioHttpTransport``
for a real account (proxies and environment settings as usual), and :class:`PinnedAioTransport`
for an endpoint whose certificate is pinned (the embedded one): an ``aiohttp`` session whose
connector checks the certificate's SHA-256 (``aiohttp.Fingerprint``) instead of a CA chain, so
no warning is ever emitted and no process-wide state is touched.  Right above the real
transport sits the same :class:`EndpointHealth` as in the synchronous store: a refused
connection, a connect or read timeout, or an exited endpoint process mark the endpoint down for
good, and every later request fails at once, without a request.

The aiohttp session is made on first use, inside the event loop that drives the store (a
session belongs to one loop), and closed by :func:`close_client`.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from azure.core.exceptions import ServiceRequestError
from azure.core.exceptions import ServiceRequestTimeoutError
from azure.core.exceptions import ServiceResponseTimeoutError
from azure.core.pipeline.transport import AsyncHttpResponse
from azure.core.pipeline.transport import AsyncHttpTransport
from azure.core.pipeline.transport import HttpRequest
from azure.core.pipeline.transport._aiohttp import AioHttpTransport
from azure.cosmos.aio import ContainerProxy
from azure.cosmos.aio import CosmosClient
from azure.cosmos.documents import ConnectionPolicy

from .._contract import StoreMisuse
from ._transport import CONNECT_TIMEOUT
from ._transport import READ_TIMEOUT
from ._transport import EndpointHealth
from ._transport import _connect_failure as connect_failure

__all__ = [
    "AioTransport",
    "PinnedAioTransport",
    "build_aio_transport",
    "close_client",
    "open_aio_container",
]

AioTransport = AsyncHttpTransport[HttpRequest, AsyncHttpResponse]

#: Connections kept per host: one store serves the actors of one schedule.
_POOL_SIZE = 16


class PinnedAioTransport(AioHttpTransport):
    """azure-core's aiohttp transport on a session whose connector pins the server's
    certificate (hex SHA-256): the chain check is replaced by the pin, for an emulator's
    self-signed certificate.  No environment settings (proxies) on a pinned loopback endpoint.
    """

    def __init__(self, fingerprint: str) -> None:
        super().__init__(session_owner=True)
        self._fingerprint = aiohttp.Fingerprint(bytes.fromhex(fingerprint))

    async def open(self) -> None:
        if self.session is None:
            connector = aiohttp.TCPConnector(ssl=self._fingerprint, limit_per_host=_POOL_SIZE)
            self.session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                trust_env=False,
            )
        await super().open()  # type: ignore[no-untyped-call]

    async def send(self, request: Any, **kwargs: Any) -> Any:
        # Verification "on" for aiohttp: the connector's pin applies (off would skip it).
        kwargs["connection_verify"] = True
        return await super().send(request, **kwargs)


class _AioHealthTransport(AioTransport):
    """The real transport, with :class:`EndpointHealth` consulted before and fed after each
    request (see ``_transport._HealthTransport``, its synchronous twin)."""

    def __init__(self, inner: AioTransport, health: EndpointHealth) -> None:
        self.inner = inner
        self.health = health

    async def __aenter__(self) -> _AioHealthTransport:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def open(self) -> None:
        await self.inner.open()

    async def close(self) -> None:
        await self.inner.close()

    async def sleep(self, duration: float) -> None:
        if self.health.reason() is None:
            await self.inner.sleep(duration)

    async def send(self, request: HttpRequest, **kwargs: Any) -> AsyncHttpResponse:
        down = self.health.reason()
        if down is not None:
            raise ServiceRequestError(f"not sent: {down}")
        try:
            return await self.inner.send(request, **kwargs)
        except ServiceRequestTimeoutError:
            seconds = kwargs.get("connection_timeout", CONNECT_TIMEOUT)
            self.health.mark(f"did not accept a connection within {seconds:g} s (connect timeout)")
            raise
        except ServiceResponseTimeoutError:
            seconds = kwargs.get("read_timeout", READ_TIMEOUT)
            self.health.mark(f"did not answer within {seconds:g} s (read timeout)")
            raise
        except ServiceRequestError as exc:
            self.health.mark(connect_failure(exc))
            raise


def build_aio_transport(tls_fingerprint: str | None, health: EndpointHealth) -> AioTransport:
    """The transport for the asyncio SDK client: pinned if ``tls_fingerprint`` is given,
    watched by ``health``.  Nothing is opened until the first request."""
    inner: AioTransport = (
        AioHttpTransport() if tls_fingerprint is None else PinnedAioTransport(tls_fingerprint)
    )
    return _AioHealthTransport(inner, health)


async def open_aio_container(
    *,
    endpoint: str,
    key: str,
    database: str,
    container: str,
    partition_key_path: str,
    transport: AioTransport,
    pinned: bool,
    create_if_missing: bool,
) -> tuple[CosmosClient, ContainerProxy]:
    """An asyncio SDK client on ``transport`` and its proxy for ``database``/``container``
    (see ``_transport.open_container``).  On failure the client (and so ``transport``) is
    closed."""
    from azure.cosmos import PartitionKey
    from azure.cosmos.exceptions import CosmosResourceExistsError

    policy = ConnectionPolicy()
    policy.RequestTimeout = policy.DBAConnectionTimeout = CONNECT_TIMEOUT
    policy.ReadTimeout = policy.DBAReadTimeout = policy.RecoveryReadTimeout = READ_TIMEOUT
    client = CosmosClient(
        endpoint,
        credential=key,
        transport=transport,
        connection_policy=policy,
        connection_verify=not pinned,
    )

    async def create() -> ContainerProxy:
        db = await client.create_database_if_not_exists(id=database)
        return await db.create_container_if_not_exists(
            id=container, partition_key=PartitionKey(path=partition_key_path)
        )

    try:
        await client.__aenter__()
        # The SDK checks the account's endpoints in a background task on start-up; finish it
        # here, so that it is no part of any schedule.
        manager = getattr(client.client_connection, "_global_endpoint_manager", None)
        refresh = getattr(manager, "refresh_task", None)
        if refresh is not None:
            await refresh
        if create_if_missing:
            try:
                proxy = await create()
            except CosmosResourceExistsError:
                proxy = await create()  # created by another process in between
        else:
            proxy = client.get_database_client(database).get_container_client(container)
        paths = (await proxy.read())["partitionKey"]["paths"]
    except BaseException:
        await close_client(client)
        raise
    if paths != [partition_key_path]:
        await close_client(client)
        raise StoreMisuse(
            f"container {container!r} of database {database!r} at {endpoint} is "
            f"partitioned by {paths!r}, AioCosmosStore needs [{partition_key_path!r}]; use "
            "another container name."
        )
    return client, proxy


async def close_client(client: CosmosClient) -> None:
    """Close ``client``: its background task, its pipeline and the aiohttp session under it."""
    await client.close()
