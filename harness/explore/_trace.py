"""A store wrapper that records every real store operation, for human-readable traces."""

from __future__ import annotations

import types
from collections.abc import Callable
from collections.abc import Generator
from collections.abc import Mapping
from typing import Any

from stores import Doc
from stores import Expected
from stores import Store
from stores import StoreWrapper
from stores import UpdateResult

__all__ = ["TraceLog", "TracingStore", "describe_doc"]


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


class TraceLog(list[str]):
    """The lines of a :class:`TracingStore`, one per completed operation, each with the step
    in which it completed.

    ``resumes`` counts the steps that resumed a call inside the tracing store (each scheduling
    point the inner store yields is resumed by exactly one step); ``steps[i]`` is the value of
    ``resumes`` when line ``i`` was written: 0 before any step, ``k`` during the k-th such
    step.  A store with several points per operation writes no line at its earlier points,
    so lines cannot be matched to steps by position.  ``clear()`` starts both over.
    """

    def __init__(self) -> None:
        super().__init__()
        self.resumes = 0
        self.steps: list[int] = []

    def add(self, line: str) -> None:
        self.append(line)
        self.steps.append(self.resumes)

    def clear(self) -> None:
        super().clear()
        self.steps.clear()
        self.resumes = 0


class TracingStore(StoreWrapper):
    """Delegates to ``inner`` and adds one line per completed operation to ``log``.

    Adds no scheduling point of its own.  Each line is written in the step in which the
    operation completes (right after it takes effect, for a store with one point per
    operation), and the log records which step that was (:class:`TraceLog`).  A fork starts
    an empty log.
    """

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.log = TraceLog()

    @staticmethod
    @types.coroutine
    def follow(
        awaitable: Any,
        on_point: Callable[[Any], None] | None = None,
        on_resume: Callable[[], None] | None = None,
    ) -> Generator[Any, Any, Any]:
        """Await ``awaitable`` as its caller would, showing ``on_point`` each value it yields
        to its driver (a scheduling point), and telling ``on_resume`` each time the driver
        resumes it.  Sends, throws (trio's cancellations) and close pass through unchanged.

        For any layer that must watch the points of the calls it makes: this store counts
        resumes, the conformance suite's validator checks each point's label.
        """
        gen = awaitable.__await__()
        to_send: Any = None
        to_throw: BaseException | None = None
        while True:
            try:
                yielded = gen.send(to_send) if to_throw is None else gen.throw(to_throw)
            except StopIteration as stop:
                return stop.value
            if on_point is not None:
                on_point(yielded)
            to_send, to_throw = None, None
            try:
                to_send = yield yielded
            except GeneratorExit:
                gen.close()
                raise
            except BaseException as error:
                to_throw = error
            if on_resume is not None:
                on_resume()

    async def _call(self, what: str, coro: Any) -> Any:
        pending: list[Any] = [None]

        def resumed() -> None:
            # A "delay" point (a fault layer's extra point) is a step of its own in the trace,
            # whatever side of this store the fault layer is on: it is not counted here.
            if not (type(pending[0]) is tuple and pending[0][:1] == ("delay",)):
                self.log.resumes += 1

        try:
            result = await self.follow(
                coro, on_point=lambda p: pending.__setitem__(0, p), on_resume=resumed
            )
        except Exception as error:
            self.log.add(f"{what} -> raised {type(error).__name__}")
            raise
        if isinstance(result, Doc) or result is None:
            seen = describe_doc(result)
        elif isinstance(result, list):
            seen = ", ".join(f"{d.id}: {describe_doc(d)}" for d in result) or "empty"
        elif hasattr(result, "ok"):
            seen = "ok, wrote " + describe_doc(result.doc) if result.ok else result.reason
        else:
            seen = repr(result)
        self.log.add(f"{what} -> {seen}")
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
