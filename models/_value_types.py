"""``VALUE_TYPES``: every input and output class of the register models, for history codecs."""

from __future__ import annotations

from typing import Final

from ._etcd import EtcdCas, EtcdCasResult, EtcdRead, EtcdValue, EtcdWrite, EtcdWritten
from ._kv import KvAppend, KvDone, KvGet, KvPut, KvValue
from ._register import RegCas, RegCasResult, RegGet, RegPut, RegValue, RegWritten

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
