"""``VALUE_TYPES``: every input and output class of the register models, for history codecs."""

from __future__ import annotations

from typing import Final

from ._etcd import EtcdCas
from ._etcd import EtcdCasResult
from ._etcd import EtcdRead
from ._etcd import EtcdValue
from ._etcd import EtcdWrite
from ._etcd import EtcdWritten
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

#: Every input and output class of the register models: what a history codec may decode.
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
)
