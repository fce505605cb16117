"""The runtime layer: stepping actor coroutines under a scheduler, and the schedule token.

Layout: ``_stepper`` (``run_actors``, ``drive``, ``choose``: one ``coro.send`` per step, every
decision asked of the scheduler), ``_token`` (``cc1.…`` schedule tokens), ``schedulers/`` (the
``Scheduler`` protocol and one strategy per module).  Depends on ``stores`` only (for the
scheduling points); nothing here knows about fleets, models or checks.
"""

from ._stepper import ActorError, Execution, RuntimeMisuse, choose, drive, run_actors
from ._token import FORMAT_VERSION, ScheduleFormatError, ScheduleToken, decode, encode
from .schedulers import (
    DeterminismCheck,
    ExhaustiveScheduler,
    HypothesisScheduler,
    NondeterminismError,
    PctScheduler,
    PruneExecution,
    RandomScheduler,
    ReplayScheduler,
    ScheduleDiverged,
    Scheduler,
    SchedulerBase,
    UnsupportedChoice,
    independent,
)

__all__ = [
    "FORMAT_VERSION",
    "ActorError",
    "DeterminismCheck",
    "Execution",
    "ExhaustiveScheduler",
    "HypothesisScheduler",
    "NondeterminismError",
    "PctScheduler",
    "PruneExecution",
    "RandomScheduler",
    "ReplayScheduler",
    "RuntimeMisuse",
    "ScheduleDiverged",
    "ScheduleFormatError",
    "ScheduleToken",
    "Scheduler",
    "SchedulerBase",
    "UnsupportedChoice",
    "choose",
    "decode",
    "drive",
    "encode",
    "independent",
    "run_actors",
]
