"""The SQLite store: the contract over one database file, through the standard ``sqlite3``."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
import threading
import weakref
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager
from typing import Any
from typing import TypeVar

from ._contract import Conflict
from ._contract import Doc
from ._contract import DocumentExists
from ._contract import DocumentNotFound
from ._contract import Expected
from ._contract import NotFound
from ._contract import StoreMisuse
from ._contract import StoreUnavailable
from ._contract import Updated
from ._contract import UpdateResult
from ._contract import document_key
from ._contract import freeze_body
from ._contract import validate_expected
from ._contract import validate_key
from ._contract import validate_patch
from ._points import run_io

__all__ = ["SqliteStore", "SqliteUnavailable", "fresh_sqlite_stores"]

T = TypeVar("T")

#: ``PRAGMA user_version`` of a file holding this schema; any other non-zero value is refused.
_SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    partition_key TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    etag TEXT NOT NULL,
    rev INTEGER NOT NULL,
    PRIMARY KEY (partition_key, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS revs (
    partition_key TEXT NOT NULL,
    id TEXT NOT NULL,
    rev INTEGER NOT NULL,
    PRIMARY KEY (partition_key, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO counters (name, value) VALUES ('writes', 0);
"""

# ``revs`` keeps the last rev of every id ever written, deleted ones included: a delete removes
# the ``docs`` row only, so a re-create continues the count and an old rev never matches again.
_BUMP_REV = (
    "INSERT INTO revs (partition_key, id, rev) VALUES (?, ?, 1) "
    "ON CONFLICT (partition_key, id) DO UPDATE SET rev = rev + 1 RETURNING rev"
)
_BUMP_WRITES = "UPDATE counters SET value = value + 1 WHERE name = 'writes' RETURNING value"
_SELECT = "SELECT body, etag, rev FROM docs WHERE partition_key = ? AND id = ?"
_SELECT_BODY = "SELECT body FROM docs WHERE partition_key = ? AND id = ?"
_INSERT = "INSERT INTO docs (partition_key, id, body, etag, rev) VALUES (?, ?, ?, ?, ?)"
_REPLACE = "UPDATE docs SET body = ?, etag = ?, rev = ? WHERE partition_key = ? AND id = ?"
# The compare-and-set: one statement whose WHERE is the comparison.  A NULL expectation
# (that token not given) matches any value.
_UPDATE_IF_MATCH = (
    "UPDATE docs SET body = ?, etag = ?, rev = ? WHERE partition_key = ? AND id = ? "
    "AND (? IS NULL OR rev = ?) AND (? IS NULL OR etag = ?)"
)
_DELETE = "DELETE FROM docs WHERE partition_key = ? AND id = ?"
_LIST = "SELECT id, body, etag, rev FROM docs WHERE partition_key = ? ORDER BY id"

#: RETURNING (used by the two counter bumps) arrived in SQLite 3.35.0.
_MIN_SQLITE = (3, 35, 0)


class SqliteUnavailable(StoreUnavailable):
    """The database file could not be opened or used for a reason outside the contract.

    Raised for a path that cannot be opened or created, a file that is not a database or holds
    another schema, a write lock held by another connection for longer than the busy timeout,
    a disk error, or an SQLite too old for ``RETURNING``.  The message is one line naming the
    file and what to do.  The operation was not applied: every write is one transaction, and
    an error before its ``COMMIT`` rolls it back (a failing ``COMMIT`` is rolled back too).
    """


def _json(value: object) -> object:
    # Nested mappings that are not dicts (MappingProxyType, a frozen body) encode as objects.
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{value!r} ({type(value).__name__}) is not a JSON value")


_encode = json.JSONEncoder(separators=(",", ":"), default=_json).encode
_decode = json.loads


def _dumps(value: Mapping[str, Any], name: str) -> str:
    try:
        return _encode(value)
    except (TypeError, ValueError) as error:
        raise StoreMisuse(
            f"{name} must hold only JSON values (str, int, float, bool, None, lists and "
            f"str-keyed mappings): {error}; convert it before storing it."
        ) from None


def _release(
    connections: list[tuple[threading.Thread, sqlite3.Connection]],
    remove: tuple[str, ...],
    remove_dir: str | None,
) -> None:
    """Close every connection, then delete the files this store owns (runs once)."""
    while connections:
        connections.pop()[1].close()
    for path in remove:
        for suffix in ("", "-wal", "-shm", "-journal"):
            try:
                os.unlink(path + suffix)
            except FileNotFoundError:
                pass
    if remove_dir is not None:
        shutil.rmtree(remove_dir, ignore_errors=True)


class SqliteStore:
    """The store contract over one SQLite database file, in WAL mode.

    Callers: the fleet coordinator, the harness (named backends ``sqlite`` and ``rcw-sqlite``)
    and tests, like any :class:`stores.Store`.  Construct it with the file's path (created if
    missing, schema included), or with :meth:`temporary` for a fresh file in a fresh temporary
    directory.  :meth:`close` (or ``with``) closes every connection; a closed store raises
    :class:`StoreMisuse`.

    Threads: every operation is exactly one :func:`stores.run_io` call and runs whole inside it,
    so under trio it runs in a worker thread and under the controlled runtime it runs inline,
    right after its scheduling point.  Each thread gets its own connection (``sqlite3``
    connections must not be shared by threads running at once); a connection whose thread has
    ended is closed when another thread opens one.  Arguments are checked before the point.

    Atomicity argument: each write is one short transaction begun with ``BEGIN IMMEDIATE``,
    which takes the database's single write lock at once (waiting up to ``busy_timeout``
    seconds), so from its first read to its ``COMMIT`` no other connection, thread or process
    can write.  ``update_if_match`` reads the current body (for the merge) and then runs ONE
    conditional ``UPDATE ... WHERE rev = ? AND etag = ?``: the comparison is the statement's
    WHERE, and since the lock is held from the read to the write, the body merged is the body
    of the very row compared.  A deferred transaction would not do: it reads a snapshot and
    only then asks for the lock, so a writer could commit in between.  Reads (``get``,
    ``list_partition``) are single statements, each its own consistent snapshot.

    Tokens are deterministic: ``rev`` comes from the ``revs`` table, which keeps the last rev of
    every id across deletes (no ABA); the etag is ``s<n>`` from a file-wide write counter.  Both
    are bumped in the write's own transaction, so a rolled-back write consumes neither, and one
    schedule run twice on fresh files gives the same documents.

    Bodies are stored as JSON text (tuples come back as lists), written from the caller's
    mapping before the point and decoded afresh for every ``Doc`` returned: no caller can
    change what is stored, nor what another caller got.  ``PRAGMA synchronous=NORMAL``:
    a commit is atomic and isolated but, in WAL mode, may be lost on power failure; a store
    made with ``delete_on_close`` (a scratch file) uses ``synchronous=OFF``: no fsync at all.
    :meth:`fork` copies the file (the harness forks a set-up store per schedule).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 30.0,
        delete_on_close: bool = False,
        _remove_dir: str | None = None,
    ) -> None:
        """Open (or create) the database file at ``path`` and its schema.

        ``busy_timeout``: seconds a write waits for another connection's write lock before
        raising :class:`SqliteUnavailable`.  ``delete_on_close``: remove the file (and its WAL
        files) when the store is closed or garbage-collected.  Raises :class:`StoreMisuse` for
        a bad argument and :class:`SqliteUnavailable` when the file cannot be used.
        """
        if not isinstance(path, (str, os.PathLike)):
            raise StoreMisuse(
                f"path must be a str or os.PathLike naming a database file, got {path!r} "
                f"({type(path).__name__})."
            )
        given = os.fspath(path)
        if given in ("", ":memory:") or given.startswith("file:"):
            raise StoreMisuse(
                f"path must name a database file, got {given!r}: an in-memory database "
                "would give every thread its own database. Use SqliteStore.temporary()."
            )
        # Absolute, so that every thread's connection opens the same file whatever the cwd.
        self.path = os.path.abspath(given)
        if (
            isinstance(busy_timeout, bool)
            or not isinstance(busy_timeout, (int, float))
            or not busy_timeout > 0
        ):
            raise StoreMisuse(
                f"busy_timeout must be a positive number of seconds, got {busy_timeout!r} "
                f"({type(busy_timeout).__name__})."
            )
        if sqlite3.sqlite_version_info < _MIN_SQLITE:
            raise SqliteUnavailable(
                f"SqliteStore needs SQLite 3.35 or later, this Python has {sqlite3.sqlite_version}; "
                "use a Python built against a newer SQLite."
            )
        self.busy_timeout = float(busy_timeout)
        # A scratch file is deleted on close, so there is nothing to make durable: skipping
        # fsync (at checkpoints and on close) makes a fresh store per schedule 2-3x cheaper.
        self._synchronous = "OFF" if delete_on_close else "NORMAL"
        self._local = threading.local()
        self._lock = threading.Lock()
        self._closed = False
        # Shared with the finalizer, which must not hold the store itself.
        self._connections: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._finalizer = weakref.finalize(
            self,
            _release,
            self._connections,
            (self.path,) if delete_on_close else (),
            _remove_dir,
        )
        try:
            self._guard("open", self._open_schema)
        except BaseException:
            self._finalizer()
            raise

    @classmethod
    def temporary(cls, *, busy_timeout: float = 30.0) -> SqliteStore:
        """A store on a new file in a new temporary directory, both removed by :meth:`close`."""
        directory = tempfile.mkdtemp(prefix="claimcheck-sqlite-")
        return cls(
            os.path.join(directory, "store.db"),
            busy_timeout=busy_timeout,
            _remove_dir=directory,
        )

    def close(self) -> None:
        """Close every thread's connection (idempotent); call it once operations have ended."""
        with self._lock:
            self._closed = True
        self._finalizer()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqliteStore({self.path!r})"

    # -- connections -------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and not self._closed:
            return conn
        with self._lock:
            if self._closed:
                raise StoreMisuse(f"{self!r} is closed; open a new SqliteStore on the file.")
            # Connections of threads that have ended (trio's idle worker threads retire) are
            # never used again: close them rather than let them pile up.
            for entry in [e for e in self._connections if not e[0].is_alive()]:
                self._connections.remove(entry)
                entry[1].close()
            # check_same_thread=False only so that close() may close connections opened by
            # worker threads; each connection is otherwise used by its own thread alone.
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout,
                isolation_level=None,  # autocommit: transactions are the explicit BEGINs below
                check_same_thread=False,
            )
            self._connections.append((threading.current_thread(), conn))
        conn.execute(f"PRAGMA synchronous={self._synchronous}")
        self._local.conn = conn
        return conn

    def _open_schema(self, conn: sqlite3.Connection) -> None:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode != "wal":
            raise SqliteUnavailable(
                f"SqliteStore({self.path!r}) could not switch the file to WAL mode (got "
                f"{mode!r}); put the database on a local disk that supports shared memory."
            )
        if conn.execute("PRAGMA user_version").fetchone()[0] == _SCHEMA_VERSION:
            return  # a file this store made: opening it takes no write lock
        conn.execute("BEGIN IMMEDIATE")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, _SCHEMA_VERSION):
            conn.execute("ROLLBACK")
            raise SqliteUnavailable(
                f"SqliteStore({self.path!r}): the file holds another schema (user_version "
                f"{version}); point the store at a new file or one it created."
            )
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
        conn.execute("COMMIT")

    def fork(self) -> SqliteStore:
        """An independent copy on a new file next to this one, deleted when the copy is closed
        or garbage-collected.

        The harness sets up a scenario once and forks the result for every schedule (wrappers
        such as ``ReadCheckWriteStore`` fork their inner store).  SQLite's online backup copies
        a consistent snapshot even while other connections write.
        """

        def copy(conn: sqlite3.Connection) -> str:
            directory, name = os.path.split(self.path)
            fd, path = tempfile.mkstemp(prefix=f"{name}.fork-", suffix=".db", dir=directory)
            os.close(fd)
            try:
                target = sqlite3.connect(path, isolation_level=None)
                try:
                    target.execute("PRAGMA synchronous=OFF")  # a scratch copy: see __init__
                    conn.backup(target)
                finally:
                    target.close()
            except BaseException:
                os.unlink(path)
                raise
            return path

        path = self._guard("fork", copy)
        return SqliteStore(path, busy_timeout=self.busy_timeout, delete_on_close=True)

    def _guard(self, op: str, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` on this thread's connection; an SQLite error becomes SqliteUnavailable."""
        conn: sqlite3.Connection | None = None
        try:
            conn = self._connection()
            return fn(conn)
        except sqlite3.Error as error:
            if conn is not None and conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            hint = (
                f"another connection held the write lock for over {self.busy_timeout:g}s; "
                "raise busy_timeout or stop the other writer"
                if "locked" in str(error)
                else "check that the file is a database this store created, on a writable "
                "local disk"
            )
            raise SqliteUnavailable(
                f"SqliteStore({self.path!r}) could not {op}: {type(error).__name__}: {error}; "
                f"{hint}."
            ) from error

    @contextmanager
    def _immediate(self, conn: sqlite3.Connection) -> Iterator[list[bool]]:
        """A write transaction holding the write lock throughout; commits unless the body
        sets ``keep[0] = False`` or raises (then it rolls back)."""
        conn.execute("BEGIN IMMEDIATE")
        keep = [True]
        try:
            yield keep
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT" if keep[0] else "ROLLBACK")

    @staticmethod
    def _stamp(conn: sqlite3.Connection, key: tuple[str, str]) -> tuple[int, str]:
        """The next rev of ``key`` and a new etag (inside the caller's write transaction)."""
        rev: int = conn.execute(_BUMP_REV, key).fetchone()[0]
        writes: int = conn.execute(_BUMP_WRITES).fetchone()[0]
        return rev, f"s{writes}"

    # -- the contract ------------------------------------------------------------------------

    async def create(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        key = document_key(id, partition_key)
        text = _dumps(freeze_body(body), "body")

        def create(conn: sqlite3.Connection) -> Doc:
            with self._immediate(conn) as keep:
                rev, etag = self._stamp(conn, key)
                try:
                    conn.execute(_INSERT, (*key, text, etag, rev))
                except sqlite3.IntegrityError:
                    keep[0] = False  # also undoes the stamp
                    exists = True
                else:
                    exists = False
            if exists:
                raise DocumentExists(
                    f"document {id!r} already exists in partition {partition_key!r}"
                )
            return _doc(key, text, etag, rev)

        return await run_io(
            lambda: self._guard("create", create), "create", partition_key, id, True
        )

    async def get(self, id: str, partition_key: str) -> Doc | None:
        key = document_key(id, partition_key)

        def get(conn: sqlite3.Connection) -> Doc | None:
            row = conn.execute(_SELECT, key).fetchone()
            return None if row is None else _doc(key, *row)

        return await run_io(lambda: self._guard("get", get), "get", partition_key, id, False)

    async def replace(self, id: str, partition_key: str, body: Mapping[str, Any]) -> Doc:
        key = document_key(id, partition_key)
        text = _dumps(freeze_body(body), "body")

        def replace(conn: sqlite3.Connection) -> Doc | None:
            with self._immediate(conn) as keep:
                rev, etag = self._stamp(conn, key)
                if conn.execute(_REPLACE, (text, etag, rev, *key)).rowcount == 0:
                    keep[0] = False
                    return None
            return _doc(key, text, etag, rev)

        def replace_or_raise() -> Doc:
            doc = self._guard("replace", replace)
            if doc is None:
                raise DocumentNotFound(f"document {id!r} not found in partition {partition_key!r}")
            return doc

        return await run_io(replace_or_raise, "replace", partition_key, id, True)

    async def update_if_match(
        self, id: str, partition_key: str, expected: Expected, patch: Mapping[str, Any]
    ) -> UpdateResult:
        key = document_key(id, partition_key)
        validate_expected(expected)
        changes = freeze_body(validate_patch(patch), name="patch")
        _dumps(changes, "patch")  # refuse a non-JSON value now, not after the point

        def update_if_match(conn: sqlite3.Connection) -> UpdateResult:
            with self._immediate(conn) as keep:
                # The write lock is already ours: this body is the one the UPDATE compares.
                row = conn.execute(_SELECT_BODY, key).fetchone()
                if row is None:
                    keep[0] = False
                    return NotFound()
                text = _dumps({**_decode(row[0]), **changes}, "patch")
                rev, etag = self._stamp(conn, key)
                written = conn.execute(
                    _UPDATE_IF_MATCH,
                    (
                        text,
                        etag,
                        rev,
                        *key,
                        expected.rev,
                        expected.rev,
                        expected.etag,
                        expected.etag,
                    ),
                ).rowcount
                if written == 0:
                    # The row exists (read above, under the lock), so the tokens differ.  The
                    # rollback also returns the rev and etag just taken.
                    keep[0] = False
                    return Conflict()
            return Updated(doc=_doc(key, text, etag, rev))

        return await run_io(
            lambda: self._guard("update_if_match", update_if_match),
            "update_if_match",
            partition_key,
            id,
            True,
        )

    async def delete(self, id: str, partition_key: str) -> bool:
        key = document_key(id, partition_key)

        def delete(conn: sqlite3.Connection) -> bool:
            # One autocommit statement; ``revs`` keeps the id's last rev for a re-create.
            return conn.execute(_DELETE, key).rowcount > 0

        return await run_io(
            lambda: self._guard("delete", delete), "delete", partition_key, id, True
        )

    async def list_partition(self, partition_key: str) -> list[Doc]:
        validate_key("partition_key", partition_key)

        def list_partition(conn: sqlite3.Connection) -> list[Doc]:
            # ORDER BY id compares UTF-8 bytes, which orders like Python compares str.
            return [
                _doc((partition_key, id), body, etag, rev)
                for id, body, etag, rev in conn.execute(_LIST, (partition_key,))
            ]

        return await run_io(
            lambda: self._guard("list_partition", list_partition),
            "list_partition",
            partition_key,
            None,
            False,
        )


def _doc(key: tuple[str, str], body: str, etag: str, rev: int) -> Doc:
    # Decoded from the stored text, so a write's result equals what a later get returns.
    return Doc(id=key[1], partition_key=key[0], body=freeze_body(_decode(body)), etag=etag, rev=rev)


@contextmanager
def fresh_sqlite_stores(
    directory: str | os.PathLike[str] | None = None, *, busy_timeout: float = 30.0
) -> Iterator[Callable[[], SqliteStore]]:
    """Yield ``make()``: each call returns a new, empty store on its own file in ``directory``
    (a temporary directory if None).

    For the harness, which needs a fresh database per schedule.  Each store deletes its file
    when it is closed or garbage-collected, so a long exploration does not pile up files or
    open connections; on exit every store still open is closed and a temporary directory is
    removed.
    """
    owned = directory is None
    where = tempfile.mkdtemp(prefix="claimcheck-sqlite-") if directory is None else directory
    made: weakref.WeakSet[SqliteStore] = weakref.WeakSet()
    counter = 0

    def make() -> SqliteStore:
        nonlocal counter
        counter += 1
        store = SqliteStore(
            os.path.join(where, f"store-{counter}.db"),
            busy_timeout=busy_timeout,
            delete_on_close=True,
        )
        made.add(store)
        return store

    try:
        yield make
    finally:
        for store in list(made):
            store.close()
        if owned:
            shutil.rmtree(where, ignore_errors=True)
