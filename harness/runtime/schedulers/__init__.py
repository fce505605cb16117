"""Scheduling strategies, one module each, behind the ``Scheduler`` protocol.

``_protocol`` (``Scheduler``, ``SchedulerBase``, ``independent``, signals), ``_random``, ``_pct``,
``_exhaustive``, ``_replay``, ``_hypothesis``, and ``_determinism`` (a wrapper that runs every
schedule of another strategy twice).
"""

from ._determinism import DeterminismCheck
from ._determinism import NondeterminismError
from ._exhaustive import ExhaustiveScheduler
from ._hypothesis import HypothesisScheduler
from ._pct import PctScheduler
from ._protocol import PruneExecution
from ._protocol import ScheduleDiverged
from ._protocol import Scheduler
from ._protocol import SchedulerBase
from ._protocol import Shard
from ._protocol import UnsupportedChoice
from ._protocol import independent
from ._random import RandomScheduler
from ._replay import ReplayScheduler

__all__ = [
    "DeterminismCheck",
    "ExhaustiveScheduler",
    "HypothesisScheduler",
    "NondeterminismError",
    "PctScheduler",
    "PruneExecution",
    "RandomScheduler",
    "ReplayScheduler",
    "ScheduleDiverged",
    "Scheduler",
    "SchedulerBase",
    "Shard",
    "UnsupportedChoice",
    "independent",
]
