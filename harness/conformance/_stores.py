"""The stores a check uses: made by the factory under the watchdog, validated, closed after use.

Every store the suite makes goes through one :class:`Keeper` per run.  Once the probe has made
a first store, a later factory call that fails, exits, hangs or returns no store is a finding
about the backend.  A store is released (its ``close()`` / ``aclose()``, or its context
manager's exit) as soon as its check is done with it: after each schedule for the exploring
checks, after each trial or case for the others.  A release that raises or hangs is a finding
too, unless the check already failed for another reason (the first failure is the evidence).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from collections.abc import Iterator

from stores import Store
from stores import StoreUnavailable

from .._findings import Finding
from ..backends import Wrap
from ._factory import FactoryError
from ._factory import Made
from ._factory import StoreFactory
from ._factory import close_made
from ._factory import describe_exit
from ._factory import open_made
from ._labels import LabelAudit
from ._validator import Transcript
from ._validator import ValidatingStore
from ._watchdog import Watch

__all__ = ["Abandoned", "FactoryFailed", "Infrastructure", "Keeper"]


class Infrastructure(Exception):
    """The backend's infrastructure failed (exit 3), not the backend's logic."""


class FactoryFailed(Finding):
    """A later call of a factory that had made a store (or a release of one) failed."""


class Abandoned(BaseException):
    """The check this store was for is over (abandoned as hung): a thread of it that is still
    running stops at its next store instead of running on into the next check."""


class Keeper:
    """Makes validated stores from ``make_store`` and releases them; safe to share by threads.

    ``made`` counts the factory's calls, ``released`` the stores released (the evidence that
    nothing was left open).
    """

    def __init__(
        self, make_store: StoreFactory, label: str, watch: Watch, audit: LabelAudit
    ) -> None:
        self.make_store = make_store
        self.label = label
        self.watch = watch
        self.audit = audit
        self._lock = threading.Lock()
        self._open: dict[int, Made] = {}
        self.made = 0
        self.released = 0
        self.abandoned = False

    def abandon(self) -> None:
        """The check is over: :meth:`make` refuses from now on (see :class:`Abandoned`)."""
        self.abandoned = True

    def make(self, transcript: Transcript | None = None) -> ValidatingStore:
        """A fresh store from the factory, validated; release it with :meth:`release`."""
        if self.abandoned:
            raise Abandoned
        ticket = self.watch.start(f"the factory {self.label}")
        try:
            made = open_made(self.make_store())
        except (StoreUnavailable, OSError) as error:
            raise Infrastructure(f"the factory could not make a store: {error}") from error
        except SystemExit as error:
            raise FactoryFailed(
                f"the factory {self.label} called {describe_exit(error)} on a later call; a "
                "store factory must return a store each time it is called"
            ) from None
        except FactoryError as error:
            raise FactoryFailed(
                f"the factory {self.label} returned {error} on a later call"
            ) from None
        except Finding:
            raise
        except Exception as error:
            raise FactoryFailed(
                f"the factory {self.label} raised {type(error).__name__}: {error} on a later "
                "call; it must return a fresh, empty store each time it is called"
            ) from error
        finally:
            self.watch.finish(ticket)
        store = ValidatingStore(made[0], self.watch, audit=self.audit, transcript=transcript)
        with self._lock:
            self.made += 1
            self._open[id(store)] = made
        return store

    def release(self, store: Store, *, quietly: bool = False) -> None:
        """Release ``store`` (made by :meth:`make`); ``quietly`` ignores a failing release."""
        with self._lock:
            made = self._open.pop(id(store), None)
        if made is None:
            return
        ticket = self.watch.start(f"close() of a store from {self.label}")
        try:
            close_made(made)
        except (Exception, SystemExit) as error:
            if not quietly:
                raise FactoryFailed(
                    f"releasing a store from {self.label} (its close(), aclose() or context "
                    f"exit) raised {type(error).__name__}: {error}; it must release the "
                    "store's resources and return"
                ) from None
        finally:
            self.watch.finish(ticket)
        with self._lock:
            self.released += 1

    @contextlib.contextmanager
    def opened(self, transcript: Transcript | None = None) -> Iterator[ValidatingStore]:
        """``with keeper.opened() as store``: one store, released at the end of the block."""
        store = self.make(transcript)
        try:
            yield store
        except BaseException:
            self.release(store, quietly=True)
            raise
        self.release(store)

    @contextlib.contextmanager
    def series(self) -> Iterator[Callable[[], ValidatingStore]]:
        """A factory for one schedule after another: each call releases the store the call
        before it made (its schedule is over), and the last is released at the end."""
        previous: list[ValidatingStore] = []

        def make() -> ValidatingStore:
            while previous:
                self.release(previous.pop())
            previous.append(self.make())
            return previous[-1]

        try:
            yield make
        except BaseException:
            for store in previous:
                self.release(store, quietly=True)
            raise
        for store in previous:
            self.release(store)

    @contextlib.contextmanager
    def exploring(self) -> Iterator[Callable[[Wrap], Store]]:
        """:meth:`series` in the shape ``explore(factory=...)`` takes."""
        with self.series() as make:
            yield lambda wrap: wrap(make())
