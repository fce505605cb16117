"""The failure database: failing schedules saved and replayed first on the next run.

Like Hypothesis's example database: a finding's token is saved under the check it came from
(scenario, store and size; any strategy, any seed), and the next exploration of that check
replays the saved tokens before it explores anything new.  A token that still fails is reported
at once (its evidence says it came from the database); one that passes, or no longer replays
(the code changed), is deleted: a fixed bug drops out on its own.

Layout: ``<root>/<sha1 of the check>/<sha1 of the token>``, each file holding one token, so
that concurrent runs (``pytest -n auto``) never write the same file.  The root is
``.claimcheck/failures`` under the working directory unless ``CLAIMCHECK_DATABASE`` names
another directory; ``CLAIMCHECK_DATABASE=off`` (or ``--no-database``) turns it off.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["DEFAULT_DIRECTORY", "FailureDatabase", "default_database"]

DEFAULT_DIRECTORY = Path(".claimcheck") / "failures"


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


class FailureDatabase:
    """Saved failing tokens, by check (see the module docstring)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    @staticmethod
    def key(scenario: str, store: str, size: int) -> str:
        return f"{scenario}.{store}.{size}"

    def _folder(self, key: str) -> Path:
        return self.root / _digest(key)

    def fetch(self, key: str) -> list[str]:
        """The tokens saved for ``key``, oldest first (a missing or unreadable one is skipped)."""
        folder = self._folder(key)
        try:
            entries = sorted(folder.iterdir(), key=lambda p: (p.stat().st_mtime_ns, p.name))
        except OSError:
            return []
        tokens = []
        for entry in entries:
            try:
                tokens.append(entry.read_text(encoding="utf-8").strip())
            except OSError:
                continue
        return tokens

    def save(self, key: str, token: str) -> None:
        folder = self._folder(key)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / _digest(token)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(token + "\n", encoding="utf-8")
        os.replace(tmp, path)

    def delete(self, key: str, token: str) -> None:
        try:
            (self._folder(key) / _digest(token)).unlink()
        except FileNotFoundError:
            pass


def default_database() -> FailureDatabase | None:
    """The database the command line uses: ``$CLAIMCHECK_DATABASE`` or the default; None if off."""
    where = os.environ.get("CLAIMCHECK_DATABASE")
    if where is not None and where.strip().lower() in {"off", "none", "0", ""}:
        return None
    return FailureDatabase(where or DEFAULT_DIRECTORY)
