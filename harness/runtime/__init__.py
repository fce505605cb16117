"""The runtime layer: stepping actor coroutines under a scheduler, and the schedule token.

Layout: ``_stepper`` (``run_actors``, ``drive``, ``choose``: one ``coro.send`` per step, every
decision asked of the scheduler), ``_aio``/``_aio_loop`` (asyncio under control: a loop whose
ready queue the scheduler picks from), ``_trio`` (trio under control: its run queue gated),
``_aio_shared`` (what they share: deadlocks, limits, the blocking guard, their errors),
``_token`` (``cc1.…`` schedule tokens), ``schedulers/`` (the ``Scheduler`` protocol and one
strategy per module).  Depends on ``stores`` only (for the
scheduling points); nothing here knows about fleets, models or checks.
"""

from ._aio_shared import MAX_STEPS
from ._aio_shared import BlockingActor
from ._aio_shared import Deadlock
from ._aio_shared import Deadlocked
from ._aio_shared import IOStalled
from ._aio_shared import Limits
from ._aio_shared import MixedRuntimes
from ._aio_shared import NeedsRuntime
from ._aio_shared import RunTooLong
from ._aio_shared import Waiting
from ._effects import ProbedStore
from ._effects import probed
from ._stepper import ActorError
from ._stepper import Execution
from ._stepper import Runtime
from ._stepper import RuntimeMisuse
from ._stepper import choose
from ._stepper import drive
from ._stepper import run_actors
from ._stepper import use_runtime
from ._token import FORMAT_VERSION
from ._token import MAX_ACTORS
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
from .schedulers import Shard
from .schedulers import UnsupportedChoice
from .schedulers import independent

__all__ = [
    "FORMAT_VERSION",
    "MAX_ACTORS",
    "MAX_STEPS",
    "ActorError",
    "BlockingActor",
    "Deadlock",
    "Deadlocked",
    "DeterminismCheck",
    "Execution",
    "ExhaustiveScheduler",
    "HypothesisScheduler",
    "IOStalled",
    "Limits",
    "MixedRuntimes",
    "NeedsRuntime",
    "NondeterminismError",
    "PctScheduler",
    "ProbedStore",
    "PruneExecution",
    "RandomScheduler",
    "ReplayScheduler",
    "RunTooLong",
    "Runtime",
    "RuntimeMisuse",
    "ScheduleDiverged",
    "ScheduleFormatError",
    "ScheduleToken",
    "Scheduler",
    "SchedulerBase",
    "Shard",
    "UnsupportedChoice",
    "Waiting",
    "choose",
    "decode",
    "drive",
    "encode",
    "independent",
    "probed",
    "run_actors",
    "use_runtime",
]
