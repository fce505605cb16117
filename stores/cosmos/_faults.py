"""Faults at the HTTP level for ``CosmosStore``: a transport that lies about the network.

``FaultyTransport(inner, decide)`` wraps the azure-core transport a ``CosmosStore`` builds
(``CosmosStore(..., transport_wrapper=lambda t: FaultyTransport(t, decide))``).  It sits under
every policy of the SDK, so the SDK's own retries see the faults exactly as they would see a
real network and a real service, and the store sees whatever the SDK makes of them.  Every
request asks ``decide(request)`` for one decision; nothing here draws a random number:

======================  =============================================================  ========
decision                what the SDK receives                                          applied?
======================  =============================================================  ========
``pass``                the server's real answer                                       as sent
``lost_after_apply``    the request reaches the server, whose answer is replaced by a  yes (*)
                        synthetic 503 (the answer was lost after the server acted)
``reset_after_apply``   the request reaches the server, then ``ServiceResponseError``  yes (*)
                        (the connection dropped before the answer arrived)
``throttle``            a synthetic 429 with ``x-ms-retry-after-ms: 1``; not sent      no
``unavailable``         a synthetic 503; not sent                                      no
``refused``             ``ServiceRequestError`` (could not connect); not sent          no
======================  =============================================================  ========

(*) if the server accepted it: a conditional write that the server refused with 412 is still
refused, only the client does not learn it.

What azure-cosmos 4.17.1 does with them (asserted in ``tests/cosmos/test_cosmos_faults.py``,
figures in ``docs/cosmos.md``, "Faults"): a 429 is retried 9 times, each after what
``x-ms-retry-after-ms`` says; a 503 once, 500 ms later, reads and writes alike, so a write whose
answer was ``lost_after_apply`` is sent twice and the copy of a conditional replace answers 412
(of a create, 409): the caller is told it lost a race that it won.  A ``ServiceRequestError``
(nothing sent) is tried 4 times over 2 s, reads and writes; a ``ServiceResponseError`` likewise
for reads, never for writes: the SDK does not resend a write whose answer it lost on the wire.

Decisions come from a callable so that tests script them (:func:`scripted`) and the harness
draws them from its scheduler (:func:`choice_decider` over ``harness.runtime.choose``; stores
never import harness).  ``decide`` is called under a lock, one request at a time, so it may
keep state without locking.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from typing import Any
from typing import Final
from urllib.parse import unquote
from urllib.parse import urlsplit

import attrs
from azure.core.exceptions import ServiceRequestError
from azure.core.exceptions import ServiceResponseError
from azure.core.pipeline.transport import HttpRequest
from azure.core.pipeline.transport import HttpResponse
from azure.core.pipeline.transport import HttpTransport
from azure.core.utils import CaseInsensitiveDict

from .._contract import StoreMisuse

__all__ = [
    "DECISIONS",
    "FAULT_TABLE",
    "Decide",
    "Exchange",
    "FaultyTransport",
    "Predicate",
    "choice_decider",
    "is_item_request",
    "item_request",
    "scripted",
]

PASS: Final = "pass"
LOST_AFTER_APPLY: Final = "lost_after_apply"
RESET_AFTER_APPLY: Final = "reset_after_apply"
THROTTLE: Final = "throttle"
UNAVAILABLE: Final = "unavailable"
REFUSED: Final = "refused"

#: Every decision ``decide`` may return.
DECISIONS: Final = frozenset(
    {PASS, LOST_AFTER_APPLY, RESET_AFTER_APPLY, THROTTLE, UNAVAILABLE, REFUSED}
)
#: Which decisions forward the request to the server.
_FORWARDS: Final = frozenset({PASS, LOST_AFTER_APPLY, RESET_AFTER_APPLY})

#: Decides the fate of one request: one of :data:`DECISIONS`.
Decide = Callable[[HttpRequest], str]
#: Selects requests (see :func:`item_request`).
Predicate = Callable[[HttpRequest], bool]

#: The default table of :func:`choice_decider`: index 0 (what a shrinker tends to) is ``pass``,
#: and most draws are, so that a random run still makes progress.
FAULT_TABLE: Final[tuple[str, ...]] = (
    *([PASS] * 15),
    THROTTLE,
    UNAVAILABLE,
    REFUSED,
    LOST_AFTER_APPLY,
    RESET_AFTER_APPLY,
)


@attrs.frozen(kw_only=True)
class Exchange:
    """One request as the transport handled it.

    ``status`` is the server's real status when the request was forwarded and answered (what
    the server did), ``None`` when it was not sent (or the real connection failed).
    """

    decision: str
    method: str
    path: str
    status: int | None

    @property
    def forwarded(self) -> bool:
        return self.decision in _FORWARDS

    def __str__(self) -> str:
        seen = "not sent" if self.status is None else f"server said {self.status}"
        return f"{self.decision}: {self.method} {self.path} ({seen})"


class FaultyTransport(HttpTransport[HttpRequest, HttpResponse]):
    """An azure-core transport that asks ``decide(request)`` what to do with each request.

    ``exchanges`` lists every request as it completed (all threads; a forwarded request is
    listed when its answer came), ``injected`` those with a decision other than ``pass``,
    ``forwarded`` those sent to the server.  ``decide`` is a plain attribute: tests replace it
    between operations (set-up with everything passing, then a script).  Closing the transport
    closes ``inner``.  An unknown decision raises ``StoreMisuse`` through the store call.
    """

    def __init__(self, inner: HttpTransport[HttpRequest, HttpResponse], decide: Decide) -> None:
        self.inner = inner
        self.decide = decide
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        self._serial = 0

    @property
    def injected(self) -> list[Exchange]:
        with self._lock:
            return [e for e in self.exchanges if e.decision != PASS]

    @property
    def forwarded(self) -> list[Exchange]:
        with self._lock:
            return [e for e in self.exchanges if e.forwarded]

    def __enter__(self) -> FaultyTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def open(self) -> None:
        self.inner.open()

    def close(self) -> None:
        self.inner.close()

    def send(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        with self._lock:
            decision = self.decide(request)
            if decision not in DECISIONS:
                raise StoreMisuse(
                    f"decide({request.method} {_path(request)}) returned {decision!r} "
                    f"({type(decision).__name__}); return one of {sorted(DECISIONS)!r}."
                )
            self._serial += 1
            serial = self._serial
        if decision not in _FORWARDS:
            self._record(decision, request, None)
            if decision == THROTTLE:
                return _synthetic(
                    request, 429, "TooManyRequests", serial, {"x-ms-retry-after-ms": "1"}
                )
            if decision == UNAVAILABLE:
                return _synthetic(request, 503, "ServiceUnavailable", serial)
            raise ServiceRequestError(
                f"injected fault: {request.method} {_path(request)} refused before it was sent"
            )
        try:
            response = self.inner.send(request, **kwargs)
        except BaseException:
            self._record(decision, request, None)  # a real network failure: no answer
            raise
        self._record(decision, request, response.status_code)
        if decision == LOST_AFTER_APPLY:
            return _synthetic(request, 503, "ServiceUnavailable", serial)
        if decision == RESET_AFTER_APPLY:
            raise ServiceResponseError(
                f"injected fault: connection reset after the server answered "
                f"{request.method} {_path(request)} with {response.status_code}"
            )
        return response

    def _record(self, decision: str, request: HttpRequest, status: int | None) -> None:
        with self._lock:
            self.exchanges.append(
                Exchange(
                    decision=decision, method=request.method, path=_path(request), status=status
                )
            )


class _SyntheticResponse(HttpResponse):
    """A complete response made up here, shaped like the service's error answers."""

    def __init__(
        self, request: HttpRequest, status: int, reason: str, headers: dict[str, str], body: bytes
    ) -> None:
        super().__init__(request, None)
        self.status_code = status
        self.reason = reason
        self.headers = CaseInsensitiveDict(headers)
        self.content_type = headers["Content-Type"]
        self._body = body

    def body(self) -> bytes:
        return self._body


def _synthetic(
    request: HttpRequest,
    status: int,
    code: str,
    serial: int,
    extra: dict[str, str] | None = None,
) -> _SyntheticResponse:
    body = json.dumps({"code": code, "message": f"injected fault ({status} {code})"}).encode()
    headers = {
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
        # Deterministic, and recognisably not the service's.
        "x-ms-activity-id": f"00000000-0000-0000-0000-{serial:012d}",
        "x-ms-substatus": "0",
        "x-ms-request-charge": "0",
        **(extra or {}),
    }
    return _SyntheticResponse(request, status, code, headers, body)


def _path(request: HttpRequest) -> str:
    return unquote(urlsplit(request.url).path)


def is_item_request(request: HttpRequest) -> bool:
    """A request on a container's items (point reads and writes, queries), as opposed to the
    SDK's own traffic (account, database and container metadata)."""
    parts = _path(request).strip("/").split("/")
    return len(parts) >= 5 and parts[0] == "dbs" and parts[2] == "colls" and parts[4] == "docs"


def item_request(*, method: str | None = None, id: str | None = None) -> Predicate:
    """A predicate for :func:`scripted`: item requests with this HTTP method (``GET`` read,
    ``POST`` create or query, ``PUT`` replace, ``DELETE``) on the item ``id`` (``None``: any
    item; a create or query names no item)."""

    def matches(request: HttpRequest) -> bool:
        if not is_item_request(request) or (method is not None and request.method != method):
            return False
        if id is None:
            return True
        parts = _path(request).strip("/").split("/")
        return len(parts) == 6 and parts[5] == id

    return matches


def scripted(decisions: Iterable[str], *, when: Predicate = is_item_request) -> Decide:
    """Answer the requests for which ``when`` holds with ``decisions`` in order, then ``pass``;
    every other request passes.  E.g. ``scripted(["lost_after_apply"], when=is_replace)``."""
    script = list(decisions)
    unknown = sorted(set(script) - DECISIONS)
    if unknown:
        raise StoreMisuse(
            f"scripted(decisions=...) has unknown decisions {unknown!r}; use {sorted(DECISIONS)!r}."
        )
    pending = iter(script)

    def decide(request: HttpRequest) -> str:
        return next(pending, PASS) if when(request) else PASS

    return decide


def choice_decider(
    choose: Callable[[int], int | None],
    *,
    table: Sequence[str] = FAULT_TABLE,
    when: Predicate = is_item_request,
) -> Decide:
    """Decisions drawn as ints from ``choose(len(table))`` (``harness.runtime.choose`` has that
    shape: recorded in the schedule, replayed, ``None`` outside a controlled run, which passes).

    Only requests for which ``when`` holds draw: by default item requests, because the SDK's
    own traffic (e.g. its periodic account refresh) depends on wall-clock time and would make
    the sequence of draws differ from one replay to the next.
    """
    table = tuple(table)
    if not table or table[0] != PASS or not set(table) <= DECISIONS:
        raise StoreMisuse(
            f"choice_decider(table=...) must start with 'pass' (the choice a shrinker reaches) "
            f"and hold only {sorted(DECISIONS)!r}, got {table!r}."
        )

    def decide(request: HttpRequest) -> str:
        if not when(request):
            return PASS
        value = choose(len(table))
        return PASS if value is None else table[value]

    return decide
