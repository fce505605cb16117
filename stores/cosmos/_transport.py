"""The HTTP transport under the SDK client, and the client's set-up on one container (its
arguments checked by ``check_arguments``, its timeouts, the container opened or created).

Two transports: azure-core's ``RequestsTransport`` for the real service (proxies, CA bundles,
environment settings), and :class:`PinnedTransport` straight on urllib3 for an endpoint whose
certificate is pinned (an emulator's self-signed one).  Both keep one pooled connection per I/O
thread.  ``TransportWrapper`` is the hook that puts e.g. ``FaultyTransport`` under the SDK.

Right above the real transport (under any wrapper) sits the health check: every request may
wait :data:`CONNECT_TIMEOUT` seconds for a connection and :data:`READ_TIMEOUT` for the answer,
and an endpoint that refuses a connection, does not answer in time, or whose process is known
to have exited (:class:`EndpointHealth`) is *down* for good: every later request fails at once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import os
import ssl
import threading
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any
from typing import Protocol
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
from azure.cosmos.documents import ConnectionPolicy
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
    "CONNECT_TIMEOUT",
    "READ_TIMEOUT",
    "EndpointHealth",
    "EndpointProbe",
    "PinnedTransport",
    "TransportWrapper",
    "account_from_env",
    "build_transport",
    "check_arguments",
    "emulator_account",
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

#: Seconds a request may wait for a TCP (and TLS) connection, and then for its answer.  The SDK's
#: defaults are 5 s and 65 s, and its account read retries with 3, 5, 25 and 65 s: a silent
#: endpoint took 98 s to fail.  Cosmos answers in milliseconds; 5 s of silence is an outage.
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 5

#: Why an endpoint is gone for good (one line, naming what to look at), or ``None`` while it may
#: be up: e.g. ``stores.emulator.EmulatorHandle.exit_reason``, which reports the server's exit.
EndpointProbe = Callable[[], str | None]

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


class EndpointHealth:
    """Whether one store's endpoint is down for good, and why (one line).

    Down means: ``probe`` (if any) says the endpoint's process exited, or a request that really
    went to the network (not one a ``TransportWrapper`` failed on purpose) was refused, could
    not connect within :data:`CONNECT_TIMEOUT`, or got no answer within :data:`READ_TIMEOUT`.
    It never comes back up: the SDK's own retries (4 attempts, 1 s apart, or 3 to 65 s each for
    the account read) and the caller's (the coordinator retries an unavailable store 16 times)
    would only delay the verdict, and under the harness a dead endpoint is an infrastructure
    failure (exit 3), not a store behaviour to explore.  A reset connection does not count: the
    SDK retries it, and a pooled connection can be dropped by a live server.

    Thread-safe: the first reason recorded wins, except that the probe's (the exit status and
    the log) replaces a network symptom of the same death.
    """

    def __init__(self, endpoint: str, probe: EndpointProbe | None = None) -> None:
        self.endpoint = endpoint
        self._probe = probe
        self._lock = threading.Lock()
        self._down: str | None = None
        #: True once the reason is the probe's: a whole sentence, ending with where to look.
        self.probed = False

    def reason(self) -> str | None:
        """Why the endpoint is down (one line, naming the endpoint), or ``None``."""
        if not self.probed and self._probe is not None:
            why = self._probe()
            if why is not None:
                with self._lock:
                    self._down, self.probed = why, True
        return self._down

    def mark(self, symptom: str) -> None:
        """Record that the endpoint ``symptom`` (e.g. "refused the connection")."""
        with self._lock:
            if self._down is None:
                self._down = f"Cosmos endpoint {self.endpoint} {symptom}"


class _HealthTransport(HttpTransport[HttpRequest, HttpResponse]):
    """The real transport, with :class:`EndpointHealth` consulted before and fed after each
    request.  A request to a down endpoint is not sent: it fails as a refused connection would
    (``ServiceRequestError``, so the SDK knows nothing was written), and the SDK's back-off
    before its next attempt is skipped."""

    def __init__(
        self, inner: HttpTransport[HttpRequest, HttpResponse], health: EndpointHealth
    ) -> None:
        self.inner = inner
        self.health = health

    def __enter__(self) -> _HealthTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def open(self) -> None:
        self.inner.open()

    def close(self) -> None:
        self.inner.close()

    def sleep(self, duration: float) -> None:
        if self.health.reason() is None:
            self.inner.sleep(duration)

    def send(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        down = self.health.reason()
        if down is not None:
            raise ServiceRequestError(f"not sent: {down}")
        try:
            return self.inner.send(request, **kwargs)
        except ServiceRequestTimeoutError:
            seconds = kwargs.get("connection_timeout", CONNECT_TIMEOUT)
            self.health.mark(f"did not accept a connection within {seconds:g} s (connect timeout)")
            raise
        except ServiceResponseTimeoutError:
            seconds = kwargs.get("read_timeout", READ_TIMEOUT)
            self.health.mark(f"did not answer within {seconds:g} s (read timeout)")
            raise
        except ServiceRequestError as exc:
            self.health.mark(_connect_failure(exc))
            raise


def _connect_failure(exc: BaseException) -> str:
    """What a failed connection attempt says about the endpoint."""
    seen: set[int] = set()
    pending: list[object] = [exc]
    while pending:
        error = pending.pop()
        if not isinstance(error, BaseException) or id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, ConnectionRefusedError):
            return "refused the connection"
        # urllib3 keeps the cause in .reason, requests in args[0], azure-core in .inner_exception.
        pending += [error.__cause__, error.__context__, getattr(error, "reason", None)]
        pending += [getattr(error, "inner_exception", None), *error.args[:1]]
    detail = " ".join(str(exc).split())
    return f"could not be reached ({detail[:200]})"


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
    tls_fingerprint: str | None, wrapper: TransportWrapper | None, health: EndpointHealth
) -> HttpTransport[HttpRequest, HttpResponse]:
    """The transport for the SDK client: pinned if ``tls_fingerprint`` is given, watched by
    ``health``, then passed through ``wrapper``.  The caller owns (and must close) what is
    returned."""
    transport: HttpTransport[HttpRequest, HttpResponse] = _HealthTransport(
        _requests_transport() if tls_fingerprint is None else PinnedTransport(tls_fingerprint),
        health,
    )
    if wrapper is not None:
        try:
            transport = wrapper(transport)
        except BaseException:
            transport.close()
            raise
    return transport


def check_arguments(*, endpoint: str, key: str, database: str, container: str) -> None:
    """Raise ``StoreMisuse`` for an argument ``CosmosStore`` cannot connect with."""
    for name, value in (
        ("endpoint", endpoint),
        ("database", database),
        ("container", container),
    ):
        if not isinstance(value, str) or not value:
            raise StoreMisuse(
                f"CosmosStore({name}=...) must be a non-empty str, got {value!r} "
                f"({type(value).__name__})."
            )
    if urlsplit(endpoint).scheme not in ("https", "http"):
        raise StoreMisuse(
            f"CosmosStore(endpoint=...) must be an https:// (or http://) URL, got {endpoint!r}; "
            "pass the account URI, e.g. https://<account>.documents.azure.com:443/."
        )
    if not isinstance(key, str) or not key:
        raise StoreMisuse(
            f"CosmosStore(key=...) must be a non-empty str, got a {type(key).__name__}; "
            "pass the account's primary key (COSMOS_KEY)."
        )
    try:
        base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        # Never echo the value: it is meant to be a secret.
        raise StoreMisuse(
            f"CosmosStore(key=...) is not base64 ({len(key)} characters); pass the "
            "account's primary key (COSMOS_KEY) as the portal shows it."
        ) from None


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


def loopback_fingerprint(endpoint: str, health: EndpointHealth) -> str:
    """Hex SHA-256 of the certificate ``endpoint`` presents now; raises ``OSError`` if it
    cannot be reached, after telling ``health`` how it failed."""
    parts = urlsplit(endpoint)
    address = (parts.hostname or "localhost", parts.port or 443)
    try:
        # The timeout bounds the connect and each read of the handshake.
        pem = ssl.get_server_certificate(address, timeout=READ_TIMEOUT)
    except ConnectionRefusedError:
        health.mark("refused the connection")
        raise
    except TimeoutError:
        health.mark(f"did not answer within {READ_TIMEOUT:g} s (read timeout, TLS handshake)")
        raise
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

    # Every request, the SDK's account reads included, waits at most CONNECT_TIMEOUT for a
    # connection and READ_TIMEOUT for its answer.
    policy = ConnectionPolicy()
    policy.RequestTimeout = policy.DBAConnectionTimeout = CONNECT_TIMEOUT
    policy.ReadTimeout = policy.DBAReadTimeout = policy.RecoveryReadTimeout = READ_TIMEOUT
    client = CosmosClient(
        endpoint,
        credential=key,
        transport=transport,
        connection_policy=policy,
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


class _AccountSettings(Protocol):
    """What :meth:`CosmosStore.for_emulator` needs (``stores.emulator.EmulatorHandle`` has it)."""

    @property
    def endpoint(self) -> str: ...

    @property
    def key(self) -> str: ...

    @property
    def tls_fingerprint(self) -> str: ...

    def exit_reason(self) -> str | None: ...


def account_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``endpoint``, ``key`` and ``tls_fingerprint`` from ``COSMOS_ENDPOINT``, ``COSMOS_KEY``
    and ``COSMOS_TLS_FINGERPRINT`` (``StoreMisuse`` naming what is missing): the ``from_env``
    of both Cosmos stores."""
    env = os.environ if environ is None else environ
    endpoint = env.get("COSMOS_ENDPOINT", "")
    key = env.get("COSMOS_KEY", "")
    if not endpoint or not key:
        missing = " and ".join(
            name for name, v in (("COSMOS_ENDPOINT", endpoint), ("COSMOS_KEY", key)) if not v
        )
        raise StoreMisuse(
            f"{missing} not set: set COSMOS_ENDPOINT (the account URI) and COSMOS_KEY (its "
            "key), or use the embedded endpoint (stores.emulator.start_emulator)."
        )
    return {
        "endpoint": endpoint,
        "key": key,
        "tls_fingerprint": env.get("COSMOS_TLS_FINGERPRINT") or None,
    }


def emulator_account(emulator: _AccountSettings) -> dict[str, Any]:
    """The account arguments of an embedded endpoint, its process watched (``probe``)."""
    return {
        "endpoint": emulator.endpoint,
        "key": emulator.key,
        "tls_fingerprint": emulator.tls_fingerprint,
        "probe": emulator.exit_reason,
    }
