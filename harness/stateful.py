"""Hypothesis state machines over the fleet (public module, like ``hypothesis.stateful``).

Kept apart from ``harness/__init__`` on purpose: importing it pulls in Hypothesis, which
``import harness`` must not.  The code lives in ``harness.explore`` (loaded on first use).
"""

from .explore import BatchFinding
from .explore import fleet_machine

__all__ = ["BatchFinding", "fleet_machine"]
