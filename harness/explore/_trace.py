"""A store wrapper that records every real store operation, for human-readable traces."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stores import Doc
from stores import Expected
from stores import Store
from stores import StoreWrapper
from stores import UpdateResult

__all__ = ["TracingStore", "describe_doc"]


def describe_doc(doc: Doc | None) -> str:
    if doc is None:
        return "none"
    body = doc.body
    if body.get("kind") == "job":
        holder = f" by {body['worker']} until {body['expires_at']}" if body.get("worker") else ""
        return f"job {body['status']} epoch {body['epoch']}{holder} (rev {doc.rev})"
    if body.get("kind") == "run":
        return f"run of epoch {body['epoch']} by {body['worker']} (rev {doc.rev})"
    return f"doc rev {doc.rev}"


class TracingStore(StoreWrapper):
    """Delegates to ``inner`` and appends one line per completed operation to ``log``.

    Adds no scheduling point of its own: the inner store's point is the operation's point, and
    the log line is written in the same step, right after the operation takes effect.  A fork
    starts an empty log.
    """

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.log: list[str] = []

    async def _call(self, what: str, coro: Any) -> Any:
        try:
            result = await coro
        except Exception as error:
            self.log.append(f"{what} -> raised {type(error).__name__}")
            raise
        if isinstance(result, Doc) or result is None:
            seen = describe_doc(result)
        elif isinstance(result, list):
            seen = ", ".join(f"{d.id}: {describe_doc(d)}" for d in result) or "empty"
        elif hasattr(result, "ok"):
            seen = "ok, wrote " + describe_doc(result.doc) if result.ok else result.reason
        else:
            seen = repr(result)
        self.log.append(f"{what} -> {seen}")
        return result

    async def create(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        r: Doc = await self._call(f"create({id})", self.inner.create(id, partition_key, body))
        return r

    async def get(self, id: str, partition_key: str) -> Doc | None:
        r: Doc | None = await self._call(f"get({id})", self.inner.get(id, partition_key))
        return r

    async def replace(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        r: Doc = await self._call(
            f"replace({id}, unconditional)", self.inner.replace(id, partition_key, body)
        )
        return r

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        what = f"update_if_match({id}, rev={expected.rev})"
        r: UpdateResult = await self._call(
            what, self.inner.update_if_match(id, partition_key, expected, patch)
        )
        return r

    async def delete(self, id: str, partition_key: str) -> bool:
        r: bool = await self._call(f"delete({id})", self.inner.delete(id, partition_key))
        return r

    async def list_partition(self, partition_key: str) -> list[Doc]:
        r: list[Doc] = await self._call(
            f"list({partition_key})", self.inner.list_partition(partition_key)
        )
        return r
