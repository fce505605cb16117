"""Pure reference models: no I/O, no clock, no randomness, no imports from the rest of claimcheck.

Layout: ``_protocol`` (the ``Model`` protocol the checker replays), ``_fleet`` (job/run/lease
model, its invariants, and ``FleetLinearModel``), ``_register`` (compare-and-set register per
document, and the Porcupine etcd and kv models).
"""

from ._fleet import (
    Claim,
    Complete,
    Enqueue,
    FleetLinearModel,
    FleetModel,
    FleetOp,
    FleetState,
    Inspect,
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
from ._protocol import HasInput, Model, OpT
from ._register import CasRegisterModel, EtcdRegisterModel, KvModel, RegisterState

__all__ = [
    "CasRegisterModel",
    "Claim",
    "Complete",
    "Enqueue",
    "EtcdRegisterModel",
    "FleetLinearModel",
    "FleetModel",
    "FleetOp",
    "FleetState",
    "HasInput",
    "Inspect",
    "JobState",
    "KvModel",
    "Model",
    "ModelResult",
    "Observation",
    "OpT",
    "Reap",
    "RegisterState",
    "Release",
    "Renew",
    "apply",
    "check_invariants",
    "check_outcomes",
    "observation_matches",
]
