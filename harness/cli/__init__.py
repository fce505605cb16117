"""The ``claimcheck`` command.

Layout: ``_main`` (argument parsing and dispatch to the layers below), ``_exit`` (the one table
of exit codes every command uses), ``_progress`` (the status line on a terminal).
"""

from ._main import main
from ._progress import Progress

__all__ = ["Progress", "main"]
