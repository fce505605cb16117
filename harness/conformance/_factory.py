"""The store factory, which is user code: ``"package.module:attribute"`` names the callable that
makes fresh stores (the CLI's and the pytest plugin's way to point the suite at a backend).

A factory that cannot be used is bad input, :class:`FactoryError` (exit 2 from the CLI), and
never a finding about the backend: a module that cannot be imported (or exits while being
imported), a name that is not there or not callable, and, from :func:`probe_factory`, a first
call that raises, exits, hangs, or returns something that is not a store.  Only once that
first call has made a store are failures of later calls findings (see ``_suite``).

A factory returns a store, or a context manager whose ``__enter__`` returns one (a
``contextlib.contextmanager`` generator, say).  Once the suite is done with a store it calls
the store's ``close()`` (or awaits its ``aclose()``), or exits the context manager
(:func:`open_made`, :func:`close_made`).
"""

from __future__ import annotations

import inspect
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import trio

from stores import Store
from stores import StoreUnavailable
from stores import StoreWrapper

from .._loading import SpecError
from .._loading import describe_exit
from .._loading import resolve
from ._watchdog import Hang
from ._watchdog import within

__all__ = [
    "OPERATIONS",
    "FactoryError",
    "Made",
    "StoreFactory",
    "UserStore",
    "close_made",
    "describe_exit",
    "factory_name",
    "load_factory",
    "not_a_store",
    "open_made",
    "probe_factory",
]

#: Makes a fresh, empty store each time it is called (or a context manager giving one).
StoreFactory = Callable[[], Store]

#: The operations of ``stores.Store``: what the suite needs of whatever a factory returns.
OPERATIONS = ("create", "get", "replace", "update_if_match", "delete", "list_partition")

_HARNESS = Path(__file__).resolve().parents[1]


class FactoryError(Exception):
    """The factory cannot be imported or called, or does not make a store (exit 2 from the CLI)."""


def load_factory(spec: str) -> StoreFactory:
    """``"package.module:attribute"`` -> the factory it names (a callable returning a Store)."""
    try:
        factory = resolve(spec, "store factory", "mypkg.stores:make_store")
    except SpecError as error:
        message = str(error)
        if "while being imported" in message:
            message += "; a store factory must return a store"
        raise FactoryError(message) from None
    if not callable(factory):
        raise FactoryError(f"{spec!r} is not callable; it must return a fresh, empty Store")
    return _as_used(factory)


class UserStore(StoreWrapper):
    """A store from a user's factory as the harness uses it: never forked, released by
    :meth:`close`.

    ``fork`` is no part of the ``Store`` contract: a ``MemoryStore`` subclass inherits a
    ``fork()`` that returns a plain ``MemoryStore``, and a replay that forked it would replay
    a correct store instead of the one that failed.  ``close()`` releases the store as its
    factory made it (the store's own ``close()``/``aclose()``, or the context manager's exit).
    """

    forkable = False

    def __init__(self, inner: Store, release: Callable[[], Any] | None = None) -> None:
        super().__init__(inner)
        self._release = release

    def close(self) -> None:
        release, self._release = self._release, None
        close_made((self.inner, release))


def _as_used(factory: Callable[[], Any]) -> StoreFactory:
    """``factory``, its stores wrapped in :class:`UserStore` (what is not a store is passed on
    unchanged, for the caller to report)."""

    def make() -> Store:
        made = factory()
        try:
            store, release = open_made(made)
        except FactoryError:
            return made  # type: ignore[no-any-return]
        return UserStore(store, release)

    make.__qualname__ = getattr(factory, "__qualname__", "make_store")
    return make


def probe_factory(make_store: StoreFactory, *, label: str, timeout: float) -> None:
    """Call ``make_store`` once, under the watchdog, before any check runs.

    Raises :class:`FactoryError` (bad input, exit 2) when the call raises, calls ``sys.exit``,
    does not return within ``timeout`` seconds, or returns something that is not a store.  A
    hang here is bad input and not a finding: no store was ever made, so there is no backend
    to judge yet (a later call that hangs is a finding).  ``StoreUnavailable`` and ``OSError``
    pass through: the backend's infrastructure is down, which is exit 3, not a bad factory.
    ``label`` names the factory in messages (its ``MODULE:FACTORY``).
    """
    try:
        made = within(make_store, timeout, f"the factory {label}")
    except Hang as hang:
        raise FactoryError(
            f"{hang} when called once before the checks; a store factory must return a "
            f"store within the per-operation timeout ({timeout:g} s)"
        ) from None
    except (StoreUnavailable, OSError, KeyboardInterrupt):
        raise
    except SystemExit as error:
        raise FactoryError(
            f"the factory {label} called {describe_exit(error)} while being called; a store "
            "factory must return a store"
        ) from None
    except BaseException as error:
        raise FactoryError(
            f"the factory {label} cannot be called: {type(error).__name__}: {error}{_where(error)}"
        ) from None
    try:
        opened = within(lambda: open_made(made), timeout, f"the factory {label}'s __enter__")
    except FactoryError as error:
        raise FactoryError(
            f"the factory {label} returned {error}; a store factory must return a fresh, "
            "empty store"
        ) from None
    except Hang as hang:
        raise FactoryError(f"{hang} when called once before the checks") from None
    except (StoreUnavailable, OSError, KeyboardInterrupt):
        raise
    except BaseException as error:
        raise FactoryError(
            f"the context manager the factory {label} returned cannot be entered: "
            f"{type(error).__name__}: {error}{_where(error)}"
        ) from None
    # The probe's store is a store like any other: released once used.  A close that fails
    # here is left to the checks, which close every store they make and report it.
    try:
        within(lambda: close_made(opened), timeout, f"close() of the factory {label}'s store")
    except (Exception, SystemExit):
        pass


#: A store the factory made, and how to release it (None: nothing to call).
Made = tuple[Store, Callable[[], Any] | None]


def open_made(made: object) -> Made:
    """The store in what a factory returned, and its release: a store's ``close()`` or
    ``aclose()``, or the context manager's exit.  Raises :class:`FactoryError` naming what was
    returned when it is no store, nor a context manager giving one (the message is the object
    of "the factory returned ...")."""
    problem = not_a_store(made)
    if problem is None:
        return made, _closer(made)  # type: ignore[return-value]
    kind = type(made)
    if callable(getattr(kind, "__enter__", None)) and callable(getattr(kind, "__exit__", None)):
        entered = made.__enter__()  # type: ignore[attr-defined]
        inner = not_a_store(entered)
        if inner is not None:
            made.__exit__(None, None, None)  # type: ignore[attr-defined]
            raise FactoryError(f"a context manager whose __enter__ gave {inner}")
        return entered, lambda: made.__exit__(None, None, None)  # type: ignore[attr-defined]
    raise FactoryError(problem)


def _closer(store: object) -> Callable[[], Any] | None:
    for name in ("close", "aclose"):
        try:
            method = getattr(store, name, None)
        except Exception:  # user code: a property that raises is no close method
            method = None
        if callable(method):
            return method  # type: ignore[no-any-return]
    return None


def close_made(made: Made) -> None:
    """Release a store once nothing uses it any more: call its release, and when that returns
    an awaitable (an ``aclose()``, or an ``async def close``), await it under trio."""
    release = made[1]
    if release is None:
        return
    result = release()
    if inspect.isawaitable(result):

        async def wait() -> None:
            await result

        trio.run(wait)


def not_a_store(value: object) -> str | None:
    """Why ``value`` is not a store, as the object of "the factory returned ...", or None
    when it has the six operations of ``stores.Store``."""
    if inspect.iscoroutine(value):
        value.close()  # never awaited, on purpose: no "never awaited" warning
        return "a coroutine (an async factory), not a store: the factory must be a plain function"
    if isinstance(value, type):
        return f"the class {value.__qualname__}, not a store: call it in the factory"
    if value is None:
        return "None, not a store (does it forget to return the store it made?)"
    missing = [op for op in OPERATIONS if not _has_operation(value, op)]
    if not missing:
        return None
    try:
        shown = repr(value)
    except Exception:  # user code, to the last: a __repr__ that raises
        shown = f"<{type(value).__name__} object>"
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return f"{shown} ({type(value).__name__}), which is not a store: it has no {', '.join(missing)}"


def _has_operation(value: object, op: str) -> bool:
    try:
        return callable(getattr(value, op, None))
    except Exception:  # a property or __getattr__ that raises: not an operation either
        return False


def factory_name(spec: str) -> str:
    """A name for the backend behind ``spec``, from module and factory alike, usable in report
    file names and schedule tokens: ``mypkg.stores:make_store`` -> ``mypkg-stores-make-store``
    (two backends whose factories share a name do not overwrite each other's reports)."""
    words = "".join(c if c.isascii() and c.isalnum() else " " for c in spec.lower()).split()
    name = "-".join(words) or "custom"
    return name if name[0].isalpha() else "x" + name


def _where(error: BaseException) -> str:
    """`` (at file.py:7)`` when ``error`` was raised inside the factory, not by calling it."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return ""
    last = Path(frames[-1].filename).resolve()
    if last.is_relative_to(_HARNESS):
        return ""
    return f" (at {last.name}:{frames[-1].lineno})"
