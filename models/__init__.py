"""Pure reference models: no I/O, no clock, no randomness, no imports from the rest of claimcheck.

Layout: ``_fleet`` (job/run/lease model and its invariants).
"""

from ._fleet import (
    Claim,
    Complete,
    Enqueue,
    FleetModel,
    FleetOp,
    FleetState,
    JobState,
    ModelResult,
    Reap,
    Release,
    Renew,
    apply,
    check_invariants,
    check_outcomes,
)

__all__ = [
    "Claim",
    "Complete",
    "Enqueue",
    "FleetModel",
    "FleetOp",
    "FleetState",
    "JobState",
    "ModelResult",
    "Reap",
    "Release",
    "Renew",
    "apply",
    "check_invariants",
    "check_outcomes",
]
