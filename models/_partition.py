"""Splitting a history by key, for models whose keys never interact."""

from __future__ import annotations

from collections.abc import Sequence

from ._protocol import OpT

__all__ = ["partition_by_key"]


def partition_by_key(operations: Sequence[OpT]) -> list[list[OpT]]:
    """One part per ``op.input.key``, in order of first appearance, each in history order.

    Only for models whose keys never interact: each key's sub-history is then checked on its
    own (P-compositionality), which is sound only because no operation spans two keys.
    """
    parts: dict[object, list[OpT]] = {}
    for op in operations:
        parts.setdefault(op.input.key, []).append(op)
    return list(parts.values())
