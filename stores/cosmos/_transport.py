"""The HTTP transport under the SDK client, and the client's set-up on one container.

Two transports: azure-core's ``RequestsTransport`` for the real service (proxies, CA bundles,
environment settings), and :class:`PinnedTransport` straight on urllib3 for an endpoint whose
certificate is pinned (an emulator's self-signed one).  Both keep one pooled connection per I/O
thread.  ``TransportWrapper`` is the hook that puts e.g. ``FaultyTransport`` under the SDK.
"""

from __future__ import annotations

import hashlib
import ipaddress
import ssl
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from azure.core.exceptions import ServiceRequestError
from azure.core.exceptions import ServiceRequestTimeoutError
from azure.core.exceptions import ServiceResponseError
from azure.core.exceptions import ServiceResponseTimeoutError
from azure.core.pipeline.transport import HttpRequest
from azure.core.pipeline.transport import HttpResponse
from azure.core.pipeline.transport import HttpTransport
from azure.core.pipeline.transport import RequestsTransport
from azure.cosmos import ContainerProxy
from azure.cosmos import CosmosClient
from azure.cosmos import PartitionKey
from azure.cosmos.exceptions import CosmosResourceExistsError
from requests import Session
from requests.adapters import HTTPAdapter
from urllib3 import BaseHTTPResponse
from urllib3 import PoolManager
from urllib3 import Timeout
from urllib3.exceptions import ConnectTimeoutError
from urllib3.exceptions import HTTPError
from urllib3.exceptions import NewConnectionError
from urllib3.exceptions import ProtocolError
from urllib3.exceptions import ReadTimeoutError
from urllib3.exceptions import SSLError
from urllib3.util.retry import Retry

from .._contract import StoreMisuse
from .._points import IO_THREADS

__all__ = [
    "PinnedTransport",
    "TransportWrapper",
    "build_transport",
    "is_loopback_https",
    "loopback_fingerprint",
    "open_container",
]

#: Wraps the HTTP transport a ``CosmosStore`` builds before the SDK client gets it, e.g.
#: ``stores.cosmos.FaultyTransport``.  The wrapper sits under every SDK policy (retries,
#: auth, session tokens), so whatever it does looks to the SDK like the network and the server.
TransportWrapper = Callable[
    [HttpTransport[HttpRequest, HttpResponse]], HttpTransport[HttpRequest, HttpResponse]
]

#: Pooled connections per host.  requests' and urllib3's default pool keeps 10; with IO_THREADS
#: (16) threads the extra ones are opened and thrown away on every request, each paying a TCP
#: connect and a TLS handshake, and throughput collapses.  One connection per I/O thread.
_POOL_SIZE = IO_THREADS


class PinnedTransport(HttpTransport[HttpRequest, HttpResponse]):
    """An azure-core transport straight on urllib3, for an endpoint whose certificate is pinned.

    Why not requests: per Cosmos call, requests' own work (preparing the request, merging
    environment settings, hooks, cookies, header dicts) is a third of the client's CPU time, and
    the client's CPU time is the throughput limit (the SDK holds the GIL while it works):
    measured 1.5 ms vs 1.0 ms of client CPU per point read.  The real service goes through
    azure-core's RequestsTransport instead (proxies, CA bundles, environment settings).

    Why a pin and not just ``connection_verify=False``: the embedded server's certificate is
    self-signed (and expired), so no chain check can pass; with verification merely off, urllib3
    warns ``InsecureRequestWarning`` on every request, which warnings-as-errors test runs turn
    into failures, and silencing it would mean changing the process-wide warning filters from
    worker threads.  Pinning keeps the connection authenticated (urllib3 then counts it as
    verified, so there is nothing to warn about) and touches no global state.

    Errors map to azure-core's as RequestsTransport maps them, so the SDK's retry policies
    (reads retried on a response error, writes only on a request error) behave the same.
    """

    def __init__(self, fingerprint: str) -> None:
        self._pool = PoolManager(
            num_pools=4,
            maxsize=_POOL_SIZE,
            cert_reqs="CERT_NONE",  # the pin below replaces the chain check
            assert_fingerprint=fingerprint,
            retries=False,
        )

    def __enter__(self) -> PinnedTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def open(self) -> None:
        pass

    def close(self) -> None:
        self._pool.clear()

    def send(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        if kwargs.get("stream"):
            raise ValueError("the pinned Cosmos transport does not stream responses")
        timeout = Timeout(
            connect=kwargs.get("connection_timeout", 300),
            read=kwargs.get("read_timeout", 300),
        )
        data = request.data
        if data is not None and not isinstance(data, (str, bytes)):
            raise TypeError(f"the pinned Cosmos transport sends str or bytes, got {type(data)}")
        try:
            response = self._pool.request(
                request.method,
                request.url,
                body=data,
                headers=request.headers,
                timeout=timeout,
                retries=False,
                redirect=False,
                preload_content=True,
            )
        except (NewConnectionError, SSLError) as exc:  # before its base, ConnectTimeoutError
            raise ServiceRequestError(exc, error=exc) from exc
        except ConnectTimeoutError as exc:
            raise ServiceRequestTimeoutError(exc, error=exc) from exc
        except ReadTimeoutError as exc:
            raise ServiceResponseTimeoutError(exc, error=exc) from exc
        except (ProtocolError, HTTPError) as exc:
            raise ServiceResponseError(exc, error=exc) from exc
        return _PinnedResponse(request, response)


class _PinnedResponse(HttpResponse):
    """A fully read urllib3 response, as azure-core's legacy pipeline expects one."""

    def __init__(self, request: HttpRequest, response: BaseHTTPResponse) -> None:
        super().__init__(request, response)
        self.status_code = response.status
        self.headers = response.headers  # case-insensitive, like requests' headers
        self.reason = response.reason
        self.content_type = response.headers.get("Content-Type")
        self._body: bytes = response.data

    def body(self) -> bytes:
        return self._body


def _requests_transport() -> RequestsTransport:
    """azure-core's RequestsTransport with a pool of one connection per I/O thread.

    Retries stay off in the adapter, as in azure-core's own: the SDK's retry policies decide.
    """
    session = Session()
    adapter = HTTPAdapter(
        pool_connections=4,  # host pools kept: the account endpoint plus regional ones
        pool_maxsize=_POOL_SIZE,
        max_retries=Retry(total=False, redirect=False, raise_on_status=False),
    )
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return RequestsTransport(session=session, session_owner=True)


def build_transport(
    tls_fingerprint: str | None, wrapper: TransportWrapper | None
) -> HttpTransport[HttpRequest, HttpResponse]:
    """The transport for the SDK client: pinned if ``tls_fingerprint`` is given, then passed
    through ``wrapper``.  The caller owns (and must close) what is returned."""
    transport: HttpTransport[HttpRequest, HttpResponse] = (
        _requests_transport() if tls_fingerprint is None else PinnedTransport(tls_fingerprint)
    )
    if wrapper is not None:
        try:
            transport = wrapper(transport)
        except BaseException:
            transport.close()
            raise
    return transport


def is_loopback_https(endpoint: str) -> bool:
    parts = urlsplit(endpoint)
    if parts.scheme != "https" or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def loopback_fingerprint(endpoint: str) -> str:
    """Hex SHA-256 of the certificate ``endpoint`` presents now; raises ``OSError`` if it
    cannot be reached."""
    parts = urlsplit(endpoint)
    pem = ssl.get_server_certificate((parts.hostname or "localhost", parts.port or 443), timeout=10)
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def open_container(
    *,
    endpoint: str,
    key: str,
    database: str,
    container: str,
    partition_key_path: str,
    transport: HttpTransport[HttpRequest, HttpResponse],
    pinned: bool,
    create_if_missing: bool,
) -> tuple[CosmosClient, ContainerProxy]:
    """An SDK client on ``transport`` and its proxy for ``database``/``container``, created
    (partitioned by ``partition_key_path``) if missing.  Raises the SDK's errors as they come
    (the caller maps them) and ``StoreMisuse`` for a container with another partition key.
    On failure the client is closed; ``transport`` never is."""

    def create(client: CosmosClient) -> ContainerProxy:
        db = client.create_database_if_not_exists(id=database)
        return db.create_container_if_not_exists(
            id=container, partition_key=PartitionKey(path=partition_key_path)
        )

    client = CosmosClient(
        endpoint,
        credential=key,
        transport=transport,
        # With a pin the chain check is off and the pin authenticates the server.
        connection_verify=not pinned,
    )
    try:
        if create_if_missing:
            try:
                proxy = create(client)
            except CosmosResourceExistsError:
                # Another process (an xdist worker) created it between our read and
                # our create: the second pass reads it.
                proxy = create(client)
        else:
            proxy = client.get_database_client(database).get_container_client(container)
        paths = proxy.read()["partitionKey"]["paths"]
    except BaseException:
        client.close()
        raise
    if paths != [partition_key_path]:
        client.close()
        raise StoreMisuse(
            f"container {container!r} of database {database!r} at {endpoint} is "
            f"partitioned by {paths!r}, CosmosStore needs [{partition_key_path!r}]; use another "
            "container name."
        )
    return client, proxy
