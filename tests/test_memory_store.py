"""The store contract on MemoryStore: sequential behaviour and misuse errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from stores import Expected
from stores import MemoryStore
from stores import ReadCheckWriteStore
from stores import Store
from stores import StoreMisuse

from .contract_suite import *  # noqa: F403  (the shared sequential contract tests)
from .contract_suite import run

# Sequentially, the control behaves like the real thing: its bug needs concurrency.
FACTORIES: dict[str, Callable[[], Store]] = {
    "memory": MemoryStore,
    "rcw-memory": lambda: ReadCheckWriteStore(MemoryStore()),
}


@pytest.fixture(params=list(FACTORIES))
def store(request: pytest.FixtureRequest) -> Store:
    return FACTORIES[request.param]()


def test_expected_needs_a_token() -> None:
    with pytest.raises(StoreMisuse, match=r"needs etag=\.\.\. or rev=\.\.\."):
        Expected()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"rev": 0}, "positive int"),
        ({"rev": "1"}, "positive int"),
        ({"rev": True}, "positive int"),
        ({"etag": ""}, "non-empty str"),
        ({"etag": 5}, "non-empty str"),
    ],
)
def test_expected_rejects_bad_tokens(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(StoreMisuse, match=match):
        Expected(**kwargs)


def test_body_must_be_a_mapping_with_str_keys(store: Store) -> None:
    with pytest.raises(StoreMisuse, match="body must be a mapping"):
        run(store.create("a", "p", [1, 2]))  # type: ignore[arg-type]
    with pytest.raises(StoreMisuse, match="body keys must be str"):
        run(store.create("a", "p", {1: 2}))  # type: ignore[dict-item]
