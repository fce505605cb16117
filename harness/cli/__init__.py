"""The ``claimcheck`` command: argument parsing, dispatch to the layers below, exit codes."""

from ._main import main

__all__ = ["main"]
