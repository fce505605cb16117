"""SDK errors mapped onto the store contract's two failures.

A write that was sent and whose answer was lost (or timed out, or was a server failure other
than a refusal) *may* have been applied: ``OutcomeUnknown``.  Anything that proves nothing was
written (unreachable endpoint, rejected key, 429 after the SDK's retries, a failed read):
``StoreUnavailable``; its subclass ``EndpointUnavailable`` when the endpoint is down for good
(``EndpointHealth``).  Every message names the endpoint and what to do, in one line, and never
holds the account key.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from typing import Any
from typing import NoReturn
from typing import TypeVar

import attrs
from azure.core.exceptions import AzureError
from azure.core.exceptions import ServiceRequestError
from azure.core.exceptions import ServiceResponseError
from azure.cosmos.exceptions import CosmosClientTimeoutError
from azure.cosmos.exceptions import CosmosHttpResponseError

from .._contract import OutcomeUnknown
from .._contract import StoreError
from .._contract import StoreUnavailable
from ._transport import EndpointHealth

__all__ = ["EndpointUnavailable", "ErrorMapper", "MaybeApplied", "send_write"]

T = TypeVar("T")


class EndpointUnavailable(StoreUnavailable):
    """The endpoint is down for good: its process exited, or it refused a connection, or it did
    not answer within the store's timeouts (see ``EndpointHealth``).  Nothing was written by the
    call that raises it, and every later call of the same store raises it at once, without a
    request.  Under ``claimcheck`` it ends the run with exit 3; the message (one line) says what
    happened and where to look, e.g. "the embedded Cosmos endpoint exited (code -9) ...; see
    LOG" or "Cosmos endpoint URL did not answer within 5 s (read timeout): ..."."""


class MaybeApplied(Exception):
    """A write request was sent and its answer lost (or was a server-side failure): the write
    may or may not have been applied.  Internal: ``ErrorMapper.guard`` turns it into
    ``OutcomeUnknown``."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(cause)
        self.cause = cause


def send_write(call: Callable[[], Mapping[str, Any]]) -> dict[str, Any]:
    """Send one write request.  Errors after which it may have been applied (the answer was
    lost, timed out, or was a server-side failure other than 503) become ``MaybeApplied``;
    errors that prove it was not applied (refused before sending, 4xx, 429) pass."""
    try:
        return dict(call())
    except CosmosHttpResponseError as exc:
        status = exc.status_code or 0
        # A 503 too: the SDK resends a write once after a 503, so the answer we see may
        # belong to a resend of an attempt that applied (observed; see docs/cosmos.md).
        if status == 408 or status >= 500:
            raise MaybeApplied(exc) from exc
        raise
    except (ServiceResponseError, CosmosClientTimeoutError) as exc:
        raise MaybeApplied(exc) from exc


@attrs.frozen(kw_only=True)
class ErrorMapper:
    """Turns the SDK's errors for one container into the contract's, with one-line messages.

    ``secret`` (the account key) is kept only to redact it from error text; it is left out of
    the repr.  ``health`` says whether the endpoint is down for good.
    """

    endpoint: str
    database: str
    container: str
    secret: str = attrs.field(repr=False)
    health: EndpointHealth = attrs.field(repr=False)

    def guard(self, op: str, id: str | None, fn: Callable[[], T]) -> T:
        """Run ``fn``; SDK errors the contract does not cover become ``OutcomeUnknown`` (a write
        that may have been applied) or ``StoreUnavailable`` (nothing was applied).  On an
        endpoint that is down for good, ``fn`` is not run: ``EndpointUnavailable``."""
        down = self.health.reason()
        if down is not None:
            raise EndpointUnavailable(self._gone(op, id, down))
        try:
            return fn()
        except StoreError:
            raise
        except MaybeApplied as lost:
            exc = lost.cause
            raise OutcomeUnknown(
                f"Cosmos endpoint {self.endpoint} lost the answer to {op}{_of(id)} in "
                f"{self.database}/{self.container}: {self.describe(exc)}; the write may or may "
                "not have been applied: re-read the document (or repeat the same conditional "
                "write) before going on."
            ) from exc
        except CosmosHttpResponseError as exc:
            self.unavailable(op, id, exc, _http_advice(exc.status_code))
        except (ServiceRequestError, ServiceResponseError) as exc:
            self.unavailable(
                op,
                id,
                exc,
                "check that the endpoint is running and reachable (COSMOS_ENDPOINT, or the "
                "embedded endpoint's log)",
            )
        except AzureError as exc:
            self.unavailable(op, id, exc, "see the chained exception")

    def unavailable(self, op: str, id: str | None, exc: BaseException, advice: str) -> NoReturn:
        down = self.health.reason()
        if down is not None:
            raise EndpointUnavailable(self._gone(op, id, down)) from exc
        raise StoreUnavailable(
            f"Cosmos endpoint {self.endpoint} failed {op}{_of(id)} in {self.database}/"
            f"{self.container}: {self.describe(exc)}; {advice}; nothing was written."
        ) from exc

    def _gone(self, op: str, id: str | None, down: str) -> str:
        if self.health.probed:
            return down  # a whole sentence that ends with where to look
        return (
            f"{down}: failed {op}{_of(id)} in {self.database}/{self.container}; check that the "
            "endpoint is running and reachable (COSMOS_ENDPOINT, or the embedded endpoint's "
            "log); nothing was written."
        )

    def describe(self, exc: BaseException) -> str:
        status = getattr(exc, "status_code", None)
        what = f"HTTP {status}" if isinstance(status, int) else type(exc).__name__
        detail = self.redact(_first_line(getattr(exc, "http_error_message", None) or str(exc)))
        return f"{what}: {detail}"

    def redact(self, text: str) -> str:
        return text.replace(self.secret, "<key>") if self.secret else text


def _of(id: str | None) -> str:
    return "" if id is None else f" of {id!r}"


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    line = " ".join(lines[:2]) if lines else "(no message)"
    return line if len(line) <= 200 else line[:197] + "..."


def _http_advice(status: int | None) -> str:
    if status == 401:
        return "the key was rejected: check COSMOS_KEY for this endpoint"
    if status == 403:
        return "the key may not do this (or the firewall blocks this client): check the account"
    if status == 429:
        return "throttled beyond the SDK's retries: raise the container's throughput"
    if status is not None and status >= 500:
        return "the service failed: retry later, or see the embedded endpoint's log"
    return "an answer the store contract does not expect: see the chained exception"
