"""Pure reference models: no I/O, no clock, no randomness, no imports from the rest of claimcheck.

Layout: ``_protocol`` (the ``Model`` protocol the checker replays), ``_fleet`` (job/run/lease
model, its invariants, and ``FleetLinearModel``), ``_register`` (the store's compare-and-set
register per document), ``_etcd`` and ``_kv`` (Porcupine's etcd register and kv models),
``_partition`` (splitting a history by key), ``_value_types`` (``VALUE_TYPES``: the register
models' inputs and outputs, for history codecs).
"""

from ._etcd import (
    EtcdCas,
    EtcdCasResult,
    EtcdRead,
    EtcdRegisterModel,
    EtcdValue,
    EtcdWrite,
    EtcdWritten,
)
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
from ._kv import KvAppend, KvDone, KvGet, KvModel, KvPut, KvValue
from ._protocol import HasInput, Model, OpT
from ._register import (
    CasRegisterModel,
    RegCas,
    RegCasResult,
    RegGet,
    RegisterState,
    RegPut,
    RegValue,
    RegWritten,
)
from ._value_types import VALUE_TYPES

__all__ = [
    "VALUE_TYPES",
    "CasRegisterModel",
    "Claim",
    "Complete",
    "Enqueue",
    "EtcdCas",
    "EtcdCasResult",
    "EtcdRead",
    "EtcdRegisterModel",
    "EtcdValue",
    "EtcdWrite",
    "EtcdWritten",
    "FleetLinearModel",
    "FleetModel",
    "FleetOp",
    "FleetState",
    "HasInput",
    "Inspect",
    "JobState",
    "KvAppend",
    "KvDone",
    "KvGet",
    "KvModel",
    "KvPut",
    "KvValue",
    "Model",
    "ModelResult",
    "Observation",
    "OpT",
    "Reap",
    "RegCas",
    "RegCasResult",
    "RegGet",
    "RegPut",
    "RegValue",
    "RegWritten",
    "RegisterState",
    "Release",
    "Renew",
    "apply",
    "check_invariants",
    "check_outcomes",
    "observation_matches",
]
