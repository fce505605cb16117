"""Pure reference models: no I/O, no clock, no randomness, no imports from the rest of claimcheck.

Layout: ``_protocol`` (the ``Model`` protocol the checker replays), ``_fleet`` (job/run/lease
model, its invariants, and ``FleetLinearModel``), ``_register`` (the store's compare-and-set
register per document), ``_etcd`` and ``_kv`` (Porcupine's etcd register and kv models),
``_knossos`` (Knossos's ``cas-register``, ``mutex`` and ``multi-register``, as Jepsen users
name them), ``_partition`` (splitting a history by key), ``_value_types`` (``VALUE_TYPES``: the
history models' inputs and outputs, for history codecs).
"""

from ._etcd import EtcdCas
from ._etcd import EtcdCasResult
from ._etcd import EtcdRead
from ._etcd import EtcdRegisterModel
from ._etcd import EtcdValue
from ._etcd import EtcdWrite
from ._etcd import EtcdWritten
from ._fleet import Claim
from ._fleet import Complete
from ._fleet import Enqueue
from ._fleet import FleetLinearModel
from ._fleet import FleetModel
from ._fleet import FleetOp
from ._fleet import FleetState
from ._fleet import Inspect
from ._fleet import JobState
from ._fleet import ModelResult
from ._fleet import Observation
from ._fleet import Probe
from ._fleet import Reap
from ._fleet import ReapJob
from ._fleet import Release
from ._fleet import Renew
from ._fleet import apply
from ._fleet import check_invariants
from ._fleet import check_outcomes
from ._fleet import observation_matches
from ._fleet import strict_match
from ._knossos import KnossosCasRegisterModel
from ._knossos import MultiRegisterModel
from ._knossos import MultiRegisterState
from ._knossos import MultiTxn
from ._knossos import MultiTxnResult
from ._knossos import MutexAcquire
from ._knossos import MutexDone
from ._knossos import MutexModel
from ._knossos import MutexRelease
from ._knossos import RegisterCas
from ._knossos import RegisterDone
from ._knossos import RegisterRead
from ._knossos import RegisterValue
from ._knossos import RegisterWrite
from ._kv import KvAppend
from ._kv import KvDone
from ._kv import KvGet
from ._kv import KvModel
from ._kv import KvPut
from ._kv import KvValue
from ._protocol import HasInput
from ._protocol import Model
from ._protocol import OpT
from ._register import CasRegisterModel
from ._register import DocRegisterModel
from ._register import RegCas
from ._register import RegCasResult
from ._register import RegGet
from ._register import RegisterState
from ._register import RegPut
from ._register import RegValue
from ._register import RegWritten
from ._value_types import VALUE_TYPES

__all__ = [
    "VALUE_TYPES",
    "CasRegisterModel",
    "Claim",
    "Complete",
    "DocRegisterModel",
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
    "KnossosCasRegisterModel",
    "KvAppend",
    "KvDone",
    "KvGet",
    "KvModel",
    "KvPut",
    "KvValue",
    "Model",
    "ModelResult",
    "MultiRegisterModel",
    "MultiRegisterState",
    "MultiTxn",
    "MultiTxnResult",
    "MutexAcquire",
    "MutexDone",
    "MutexModel",
    "MutexRelease",
    "Observation",
    "OpT",
    "Probe",
    "Reap",
    "ReapJob",
    "RegCas",
    "RegCasResult",
    "RegGet",
    "RegPut",
    "RegValue",
    "RegWritten",
    "RegisterCas",
    "RegisterDone",
    "RegisterRead",
    "RegisterState",
    "RegisterValue",
    "RegisterWrite",
    "Release",
    "Renew",
    "apply",
    "check_invariants",
    "check_outcomes",
    "observation_matches",
    "strict_match",
]
