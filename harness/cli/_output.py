"""Where ``claimcheck`` writes its results: standard output, minding a reader that leaves."""

from __future__ import annotations

import os
from typing import TextIO

__all__ = ["Quiet"]


class Quiet:
    """``out`` that stops writing, silently, once its reader has gone away.

    ``claimcheck run | head`` closes the pipe while the run goes on: the rest of the output is
    dropped, but the run still ends with its own verdict and exit code, never a "Broken pipe"
    failure.
    """

    def __init__(self, inner: TextIO) -> None:
        self.inner = inner
        self.closed_by_reader = False

    def write(self, text: str) -> int:
        if not self.closed_by_reader:
            try:
                self.inner.write(text)
            except BrokenPipeError:
                self._reader_gone()
        return len(text)

    def flush(self) -> None:
        if not self.closed_by_reader:
            try:
                self.inner.flush()
            except BrokenPipeError:
                self._reader_gone()

    def isatty(self) -> bool:
        return self.inner.isatty()

    def _reader_gone(self) -> None:
        self.closed_by_reader = True
        try:
            # Python flushes sys.stdout again at exit: point it at nothing, so that flush
            # cannot fail.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.inner.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass
