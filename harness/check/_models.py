"""The models ``claimcheck check-history`` knows by name, and what each accepts.

One table, :data:`NAMED_MODELS`: for each name, how to build the model from an initial state,
which inputs it replays (each with the output class that answers it), and what an initial
state is (``--initial JSON`` or a JSON Lines header's ``"initial"``).  The names are the ones
Jepsen users type (``cas-register``, ``mutex``, ``multi-register``) plus Porcupine's
(``etcd-register``, ``kv``) and the store contract's document register (``doc-register``).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Hashable
from collections.abc import Mapping
from typing import Any
from typing import Final

import attrs

from models import DocRegisterModel
from models import EtcdCas
from models import EtcdCasResult
from models import EtcdRead
from models import EtcdRegisterModel
from models import EtcdValue
from models import EtcdWrite
from models import EtcdWritten
from models import KnossosCasRegisterModel
from models import KvAppend
from models import KvDone
from models import KvGet
from models import KvModel
from models import KvPut
from models import KvValue
from models import Model
from models import MultiRegisterModel
from models import MultiTxn
from models import MultiTxnResult
from models import MutexAcquire
from models import MutexDone
from models import MutexModel
from models import MutexRelease
from models import RegCas
from models import RegCasResult
from models import RegGet
from models import RegisterCas
from models import RegisterDone
from models import RegisterRead
from models import RegisterValue
from models import RegisterWrite
from models import RegPut
from models import RegValue
from models import RegWritten

from ._operation import show

__all__ = ["DEPRECATED_NAMES", "NAMED_MODELS", "NamedModel"]


def _register_value(value: object) -> Hashable:
    """A JSON value as a register holds it: arrays become tuples; objects are refused."""
    if isinstance(value, list):
        return tuple(_register_value(v) for v in value)
    if isinstance(value, dict):
        raise ValueError(f"a register holds no JSON object, got {show(value)}")
    return value


def _etcd_initial(value: object) -> object:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError(f"model 'etcd-register' starts at an integer or null, got {show(value)}")
    return value


def _mutex_initial(value: object) -> object:
    if not isinstance(value, bool):
        raise ValueError(f"model 'mutex' starts held (true) or free (false), got {show(value)}")
    return value


def _multi_initial(value: object) -> object:
    if not isinstance(value, dict):
        raise ValueError(
            "model 'multi-register' starts from an object of keys and values, e.g. {\"x\": 0, "
            f'"y": 0}}, got {show(value)}'
        )
    return {key: _register_value(v) for key, v in value.items()}


@attrs.frozen(kw_only=True)
class NamedModel:
    """A model as ``--model NAME`` and a JSON Lines header name it.

    ``make(initial)`` builds it (``initial`` as ``parse_initial`` returned it); ``operations``
    maps each input class it replays to the output class of a call that returned.
    ``parse_initial`` checks a JSON initial state and converts it, raising ``ValueError`` with
    a sentence; ``None`` when the model takes no initial state.
    """

    make: Callable[..., Model[Any, Any, Any]]
    operations: Mapping[type, type]
    parse_initial: Callable[[object], object] | None = None

    def build(self, initial: tuple[()] | tuple[object]) -> Model[Any, Any, Any]:
        """The model, from the initial state if one was given (a 0- or 1-tuple of JSON)."""
        if not initial:
            return self.make()
        assert self.parse_initial is not None
        return self.make(self.parse_initial(initial[0]))


#: ``--model`` names, in the order ``--help`` lists them.
NAMED_MODELS: Final[Mapping[str, NamedModel]] = {
    "cas-register": NamedModel(
        make=KnossosCasRegisterModel,
        operations={
            RegisterRead: RegisterValue,
            RegisterWrite: RegisterDone,
            RegisterCas: RegisterDone,
        },
        parse_initial=_register_value,
    ),
    "mutex": NamedModel(
        make=MutexModel,
        operations={MutexAcquire: MutexDone, MutexRelease: MutexDone},
        parse_initial=_mutex_initial,
    ),
    "multi-register": NamedModel(
        make=MultiRegisterModel,
        operations={MultiTxn: MultiTxnResult},
        parse_initial=_multi_initial,
    ),
    "etcd-register": NamedModel(
        make=EtcdRegisterModel,
        operations={EtcdRead: EtcdValue, EtcdWrite: EtcdWritten, EtcdCas: EtcdCasResult},
        parse_initial=_etcd_initial,
    ),
    "kv": NamedModel(make=KvModel, operations={KvGet: KvValue, KvPut: KvDone, KvAppend: KvDone}),
    "doc-register": NamedModel(
        make=DocRegisterModel,
        operations={RegGet: RegValue, RegPut: RegWritten, RegCas: RegCasResult},
    ),
}

#: Names a JSON Lines header may still use for another model's values: ``cas-register`` named
#: the document register before it became Knossos's register.  Such a file is read as before,
#: with a one-line note.
DEPRECATED_NAMES: Final[Mapping[str, str]] = {"cas-register": "doc-register"}
