"""Factory loading: ``"package.module:attribute"`` names the callable that makes fresh stores
(the CLI's and the pytest plugin's way to point the suite at a backend)."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from stores import Store

__all__ = ["FactoryError", "StoreFactory", "load_factory"]

#: Makes a fresh, empty store each time it is called.
StoreFactory = Callable[[], Store]


class FactoryError(Exception):
    """The factory cannot be imported or called (exit 2 from the CLI)."""


def load_factory(spec: str) -> StoreFactory:
    """``"package.module:attribute"`` -> the factory it names (a callable returning a Store)."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise FactoryError(
            f"store factory {spec!r} is not MODULE:FACTORY; pass e.g. mypkg.stores:make_store"
        )
    try:
        module = importlib.import_module(module_name)
    except Exception as error:
        raise FactoryError(
            f"cannot import module {module_name!r} for store factory {spec!r}: "
            f"{type(error).__name__}: {error}"
        ) from None
    factory = module
    for part in attr.split("."):
        try:
            factory = getattr(factory, part)
        except AttributeError:
            raise FactoryError(f"module {module_name!r} has no attribute {attr!r}") from None
    if not callable(factory):
        raise FactoryError(f"{spec!r} is not callable; it must return a fresh, empty Store")
    return factory
