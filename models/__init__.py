"""Pure reference models: no I/O, no clock, no randomness, no imports from the rest of claimcheck.

Layout: ``_fleet`` (job/run/lease model and its invariants).
"""

from ._fleet import (
    Claim,
    Complete,
    Enqueue,
    FleetLinearModel,
    FleetModel,
    FleetOp,
    FleetState,
    JobState,
    ModelResult,
    Observation,
    Reap,
    Release,
    Renew,
    apply,
    check_invariants,
    check_outcomes,
    observation_matches,
)

__all__ = [
    "Claim",
    "Complete",
    "Enqueue",
    "FleetLinearModel",
    "FleetModel",
    "FleetOp",
    "FleetState",
    "JobState",
    "ModelResult",
    "Observation",
    "Reap",
    "Release",
    "Renew",
    "apply",
    "check_invariants",
    "check_outcomes",
    "observation_matches",
]
