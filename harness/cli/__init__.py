"""The ``claimcheck`` command.

Layout: ``_main`` (argument parsing and dispatch; each command imports its layers when it
runs), ``_history`` (``check-history`` and ``gen-history``), ``_errors`` (one line on stderr
and the exit code of each kind of error, from the one table in ``harness._exit``),
``_progress`` (the status line on a terminal).
"""

from ._main import main
from ._progress import Progress

__all__ = ["Progress", "main"]
