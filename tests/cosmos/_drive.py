"""Drivers for store coroutines in these tests: stepped by hand under control, or by trio.

Kept here rather than imported from ``harness`` so that the Cosmos tests depend only on
``stores`` and ``trio``.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

import trio

from stores import CONTROLLED


def step(coro: Coroutine[Any, Any, Any]) -> tuple[Any, list[tuple[Any, ...]]]:
    """Run ``coro`` under control: send None until StopIteration; return the result and every
    value it yielded, each checked to be a ``stores.Point`` tuple."""
    token = CONTROLLED.set(object())
    points: list[tuple[Any, ...]] = []
    try:
        while True:
            try:
                value = coro.send(None)
            except StopIteration as stop:
                return stop.value, points
            if type(value) is not tuple or len(value) != 4:
                coro.close()
                raise AssertionError(f"yielded {value!r}, not a Point tuple")
            op, partition_key, id, writes = value
            assert isinstance(op, str)
            assert isinstance(partition_key, str)
            assert id is None or isinstance(id, str)
            assert isinstance(writes, bool)
            points.append(value)
    finally:
        CONTROLLED.reset(token)


def drive(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coro`` to completion under control (blocking I/O inline); return its result."""
    return step(coro)[0]


async def _await(coro: Coroutine[Any, Any, Any]) -> Any:
    return await coro


def under_trio(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coro`` in a fresh trio run (blocking I/O in a worker thread); return its result."""
    return trio.run(_await, coro)
