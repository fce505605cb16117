"""The control: the pre-fix compare-and-swap, kept broken on purpose."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._contract import Conflict
from ._contract import DocumentNotFound
from ._contract import Expected
from ._contract import NotFound
from ._contract import Updated
from ._contract import UpdateResult
from ._contract import validate_expected
from ._contract import validate_patch
from ._wrapper import StoreWrapper

__all__ = ["ReadCheckWriteStore"]


class ReadCheckWriteStore(StoreWrapper):
    """Wraps any store and does ``update_if_match`` the old way -- THE BUG IS DELIBERATE.

    Bug: ``update_if_match`` is ``get``, compare rev/etag in Python, then an unconditional
    ``replace``, with awaits (scheduling points) in between.  Two callers can both read rev N,
    both pass the comparison and both write: a lost update, and in the coordinator a double
    assignment of one job at one epoch.  The comparison is not a fence because nothing stops a
    write landing between the ``get`` and the ``replace``.

    This class exists as a control: every check that shows a correct store passing must also
    show, by assertion, that this store fails.  Never fix it.  All other operations delegate to
    the wrapped store unchanged (``StoreWrapper``), and so does ``fork``: a control over a copy.
    """

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        validate_expected(expected)
        validate_patch(patch)
        current = await self.inner.get(id, partition_key)  # read ...
        if current is None:
            return NotFound()
        if not expected.matches(current):  # ... check ...
            return Conflict()
        try:  # ... and write unconditionally: another writer may have come in between.
            doc = await self.inner.replace(id, partition_key, {**current.body, **patch})
        except DocumentNotFound:
            return NotFound()
        return Updated(doc=doc)
