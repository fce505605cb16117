"""Scheduling strategies, one module each, behind the ``Scheduler`` protocol.

``_protocol`` (``Scheduler``, ``independent``, signals), ``_random``, ``_pct``, ``_exhaustive``,
``_replay``, ``_hypothesis``.
"""

from ._exhaustive import ExhaustiveScheduler
from ._hypothesis import HypothesisScheduler
from ._pct import PctScheduler
from ._protocol import PruneExecution, ScheduleDiverged, Scheduler, UnsupportedChoice, independent
from ._random import RandomScheduler
from ._replay import ReplayScheduler

__all__ = [
    "ExhaustiveScheduler",
    "HypothesisScheduler",
    "PctScheduler",
    "PruneExecution",
    "RandomScheduler",
    "ReplayScheduler",
    "ScheduleDiverged",
    "Scheduler",
    "UnsupportedChoice",
    "independent",
]
