"""``VALUE_TYPES``: every input and output class of the history models, for history codecs."""

from __future__ import annotations

from typing import Final

from ._etcd import EtcdCas
from ._etcd import EtcdCasResult
from ._etcd import EtcdRead
from ._etcd import EtcdValue
from ._etcd import EtcdWrite
from ._etcd import EtcdWritten
from ._knossos import MultiTxn
from ._knossos import MultiTxnResult
from ._knossos import MutexAcquire
from ._knossos import MutexDone
from ._knossos import MutexRelease
from ._knossos import RegisterCas
from ._knossos import RegisterDone
from ._knossos import RegisterRead
from ._knossos import RegisterValue
from ._knossos import RegisterWrite
from ._kv import KvAppend
from ._kv import KvDone
from ._kv import KvGet
from ._kv import KvPut
from ._kv import KvValue
from ._register import RegCas
from ._register import RegCasResult
from ._register import RegGet
from ._register import RegPut
from ._register import RegValue
from ._register import RegWritten

__all__ = ["VALUE_TYPES"]

#: Every input and output class of the history models: what a history codec may decode.
VALUE_TYPES: Final[tuple[type, ...]] = (
    RegGet,
    RegPut,
    RegCas,
    RegValue,
    RegWritten,
    RegCasResult,
    EtcdRead,
    EtcdWrite,
    EtcdCas,
    EtcdValue,
    EtcdWritten,
    EtcdCasResult,
    KvGet,
    KvPut,
    KvAppend,
    KvValue,
    KvDone,
    RegisterRead,
    RegisterWrite,
    RegisterCas,
    RegisterValue,
    RegisterDone,
    MutexAcquire,
    MutexRelease,
    MutexDone,
    MultiTxn,
    MultiTxnResult,
)
