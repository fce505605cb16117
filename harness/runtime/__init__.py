"""The runtime layer: stepping actor coroutines under a scheduler, and the schedule token.

Layout: ``_stepper`` (``run_actors``, ``drive``, ``choose``: one ``coro.send`` per step, every
decision asked of the scheduler), ``_token`` (``cc1.…`` schedule tokens), ``schedulers/`` (the
``Scheduler`` protocol and one strategy per module).  Depends on ``stores`` only (for the
scheduling points); nothing here knows about fleets, models or checks.
"""

from ._stepper import ActorError
from ._stepper import Execution
from ._stepper import RuntimeMisuse
from ._stepper import choose
from ._stepper import drive
from ._stepper import run_actors
from ._token import FORMAT_VERSION
from ._token import ScheduleFormatError
from ._token import ScheduleToken
from ._token import decode
from ._token import encode
from .schedulers import DeterminismCheck
from .schedulers import ExhaustiveScheduler
from .schedulers import HypothesisScheduler
from .schedulers import NondeterminismError
from .schedulers import PctScheduler
from .schedulers import PruneExecution
from .schedulers import RandomScheduler
from .schedulers import ReplayScheduler
from .schedulers import ScheduleDiverged
from .schedulers import Scheduler
from .schedulers import SchedulerBase
from .schedulers import UnsupportedChoice
from .schedulers import independent

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
