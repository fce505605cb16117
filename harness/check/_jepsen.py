"""The reader of Jepsen / Knossos histories in EDN: ``claimcheck check-history --format jepsen-edn``.

A history is a sequence of operation maps, one per line (Jepsen's ``history.edn``) or inside
one vector or list (Knossos's ``data/`` files)::

    {:process 0, :type :invoke, :f :read, :value nil}
    {:process 1, :type :invoke, :f :write, :value 3}
    {:process 1, :type :info, :f :write, :value 3}
    {:process 0, :type :ok, :f :read, :value 3}

Read as Jepsen and Knossos read it:

* ``:invoke`` starts an operation of ``:process``; the process's next ``:ok``, ``:fail`` or
  ``:info`` ends it.  A process does one thing at a time.
* ``:ok``: it took effect, with the completion's ``:value`` (Knossos fills the invoke's value
  from it: a read invoked with ``nil`` returns what it saw).
* ``:fail``: it did not take effect; the checker drops it.
* ``:info``: nobody knows.  The outcome is unknown (it may take effect at any point after the
  invoke, or never), and the process has *crashed*: Jepsen gives its client a new process
  number, so a process that got ``:info`` never invokes again.  An invoke left open at the end
  of the file is unknown too.
* Entries of the ``:nemesis`` process are ignored, and so is an ``:info`` from a process with
  nothing pending (a log line, not an operation).
* Order is time: an operation is called at its invoke's position and returns at its
  completion's, so operations overlap exactly when their entries interleave.  ``:time`` and
  ``:index`` are not needed and not read.

Keywords become strings without the colon (``:x`` is ``"x"``).  Which ``:f`` values mean what
depends on the model (:data:`EDN_MODELS`); anything else is refused with the line.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from collections.abc import Hashable
from collections.abc import Mapping
from typing import Any
from typing import Final
from typing import Literal

from models import KvAppend
from models import KvDone
from models import KvGet
from models import KvPut
from models import KvValue
from models import MultiTxn
from models import MultiTxnResult
from models import MutexAcquire
from models import MutexDone
from models import MutexRelease
from models import RegisterCas
from models import RegisterDone
from models import RegisterRead
from models import RegisterValue
from models import RegisterWrite

from ._edn import EdnForm
from ._edn import read_edn
from ._operation import HistoryFormatError
from ._operation import Operation
from ._operation import show

__all__ = ["EDN_MODELS", "read_jepsen_edn"]


class _Bad(ValueError):
    """What is wrong with one entry; the reader adds the file and line."""


def _hashable(value: object, what: str) -> Hashable:
    try:
        hash(value)
    except TypeError:
        raise _Bad(
            f"{what} must be a value a register can hold, not a map: {show(value)}"
        ) from None
    return value


# One converter per model: an entry's :f and map (the invoke's, or the completion's when
# ``done``) to the model's input and, when ``done``, its output.
_Convert = Callable[[str, Mapping[str, Any], bool], tuple[Any, Any]]


def _register(f: str, entry: Mapping[str, Any], done: bool) -> tuple[Any, Any]:
    # Knossos's cas-register: :read, :write v, :cas [old new].
    value = entry.get("value")
    if f == "read":
        return RegisterRead(), RegisterValue(value=_hashable(value, ":read's value"))
    if f == "write":
        return RegisterWrite(value=_hashable(value, ":write's value")), RegisterDone()
    if f == "cas":
        if not isinstance(value, tuple) or len(value) != 2:
            raise _Bad(f":cas needs [old new], got {show(value)}")
        old, new = (_hashable(v, ":cas's value") for v in value)
        return RegisterCas(expected=old, new=new), RegisterDone()
    raise _Bad(f":f :{f} is not an operation of model 'cas-register' (read, write, cas)")


def _mutex(f: str, entry: Mapping[str, Any], done: bool) -> tuple[Any, Any]:
    if f == "acquire":
        return MutexAcquire(), MutexDone()
    if f == "release":
        return MutexRelease(), MutexDone()
    raise _Bad(f":f :{f} is not an operation of model 'mutex' (acquire, release)")


_MICRO: Final[Mapping[str, Literal["read", "write"]]] = {
    "read": "read",
    "r": "read",
    "write": "write",
    "w": "write",
}


def _multi(f: str, entry: Mapping[str, Any], done: bool) -> tuple[Any, Any]:
    # Knossos's multi-register: :txn [[:read k v] [:write k v] ...] (Jepsen's :r and :w too).
    if f != "txn":
        raise _Bad(f":f :{f} is not an operation of model 'multi-register' (txn)")
    value = entry.get("value")
    if not isinstance(value, tuple):
        raise _Bad(f":txn needs a vector of [f key value] micro-ops, got {show(value)}")
    ops = []
    for mop in value:
        if not isinstance(mop, tuple) or len(mop) != 3 or mop[0] not in _MICRO:
            raise _Bad(
                "a micro-op must be [:read key value] or [:write key value] (:r and :w too), "
                f"got {show(mop)}"
            )
        ops.append((_MICRO[mop[0]], _hashable(mop[1], "a key"), _hashable(mop[2], "a value")))
    return MultiTxn(ops=tuple(ops)), MultiTxnResult(ops=tuple(ops))


def _kv(f: str, entry: Mapping[str, Any], done: bool) -> tuple[Any, Any]:
    # Porcupine's kv histories: {:f :get|:put|:append, :key "k", :value "v"}.
    key = entry.get("key")
    value = entry.get("value")
    if not isinstance(key, str):
        raise _Bad(f":key must be a string, got {show(key)}")
    if f == "get":
        if not done:
            return KvGet(key=key), None
        if not isinstance(value, str):
            raise _Bad(f"an :ok of :get needs a string :value, got {show(value)}")
        return KvGet(key=key), KvValue(value=value)
    if f in ("put", "append"):
        if not isinstance(value, str):
            raise _Bad(f":{f} needs a string :value, got {show(value)}")
        return (KvPut if f == "put" else KvAppend)(key=key, value=value), KvDone()
    raise _Bad(f":f :{f} is not an operation of model 'kv' (get, put, append)")


#: The models whose operations the reader knows, each with how an entry becomes the model's
#: input and output.
EDN_MODELS: Final[Mapping[str, _Convert]] = {
    "cas-register": _register,
    "mutex": _mutex,
    "multi-register": _multi,
    "kv": _kv,
}


def _entries(forms: list[EdnForm]) -> list[tuple[int, Any]]:
    """The operation maps with their lines: one vector or list of them, or one per form."""
    if len(forms) == 1 and isinstance(forms[0].value, tuple):
        form = forms[0]
        return list(zip(form.item_lines, form.value, strict=True))
    return [(form.line, form.value) for form in forms]


class _Pending:
    """An invoke waiting for its completion: where it is, and what it asked."""

    __slots__ = ("entry", "f", "line", "slot", "time")

    def __init__(self, line: int, time: int, slot: int, f: str, entry: Mapping[str, Any]) -> None:
        self.line = line
        self.time = time
        self.slot = slot
        self.f = f
        self.entry = entry


class _Reader:
    """The state of one read: operations so far, pending invokes, crashed processes."""

    def __init__(self, convert: _Convert) -> None:
        self.convert = convert
        self.ops: list[Operation[Any, Any] | None] = []
        self.pending: dict[Any, _Pending] = {}
        self.crashed: dict[Any, int] = {}  # process -> line of its :info

    def entry(self, entry: Any, time: int, line: int) -> None:
        if not isinstance(entry, dict):
            raise _Bad(
                "expected an operation map {:process P, :type :invoke, :f F, :value V}, "
                f"got {show(entry)}"
            )
        process = entry.get("process")
        if process == "nemesis":
            return
        if isinstance(process, bool) or not isinstance(process, int | str):
            raise _Bad(f":process must be an integer or a keyword, got {show(process)}")
        kind = entry.get("type")
        if kind not in ("invoke", "ok", "fail", "info"):
            raise _Bad(f":type must be :invoke, :ok, :fail or :info, got {show(kind)}")
        f = entry.get("f")
        if not isinstance(f, str):
            raise _Bad(f":f must be a keyword naming the operation, got {show(f)}")
        if kind == "invoke":
            self.invoke(process, f, entry, time, line)
            return
        started = self.pending.pop(process, None)
        if started is None:
            if kind == "info":
                return  # a log line of a process with nothing pending: Knossos skips it too
            raise _Bad(f":{kind} for process {show(process)}, which has no operation pending")
        if f != started.f:
            raise _Bad(
                f":{kind} :{f} for process {show(process)}, whose pending operation (line "
                f"{started.line}) is :{started.f}"
            )
        if kind == "info":
            self.crashed[process] = line
            self.ops[started.slot] = self.unfinished(process, started)
        elif kind == "fail":
            self.ops[started.slot] = self.unfinished(process, started, failed_at=time)
        else:
            self.ops[started.slot] = self.completed(process, started, entry, time)

    def invoke(self, process: Any, f: str, entry: Mapping[str, Any], time: int, line: int) -> None:
        if process in self.crashed:
            raise _Bad(
                f"process {show(process)} crashed (:info on line {self.crashed[process]}) and "
                "may not invoke again: Jepsen gives a crashed client a new process number"
            )
        if process in self.pending:
            raise _Bad(
                f"process {show(process)} invokes while its operation from line "
                f"{self.pending[process].line} is still pending: a process does one thing at "
                "a time"
            )
        self.convert(f, entry, False)  # a bad invoke is refused on its own line
        self.pending[process] = _Pending(line, time, len(self.ops), f, entry)
        self.ops.append(None)

    def unfinished(
        self, process: Any, started: _Pending, *, failed_at: int | None = None
    ) -> Operation[Any, Any]:
        """The operation, as invoked, with an unknown outcome or (``failed_at``) failed."""
        inp, _ = self.convert(started.f, started.entry, False)
        return Operation(
            client_id=process,
            input=inp,
            output=None,
            call=started.time,
            return_=failed_at,
            outcome="unknown" if failed_at is None else "fail",
        )

    def completed(
        self, process: Any, started: _Pending, entry: Mapping[str, Any], time: int
    ) -> Operation[Any, Any]:
        # Replayed with the completion's value, as Knossos fills the invoke's from it (a read
        # invoked with nil returns what it saw); it must still be the operation invoked.
        invoked, _ = self.convert(started.f, started.entry, False)
        inp, out = self.convert(started.f, entry, True)
        if isinstance(inp, MultiTxn):
            same = [(f, k) for f, k, _ in inp.ops] == [(f, k) for f, k, _ in invoked.ops] and [
                v for f, _, v in inp.ops if f == "write"
            ] == [v for f, _, v in invoked.ops if f == "write"]
            inp = invoked  # reads stay unknown in the input; the output says what they saw
        else:
            same = inp == invoked or isinstance(inp, RegisterRead)
        if not same:
            raise _Bad(
                f"the completion {show(inp)} is not the operation invoked on line "
                f"{started.line} ({show(invoked)})"
            )
        return Operation(
            client_id=process, input=inp, output=out, call=started.time, return_=time, outcome="ok"
        )


def read_jepsen_edn(path: str | os.PathLike[str], model: str) -> list[Operation[Any, Any]]:
    """The operations of a Jepsen / Knossos EDN history, as values of ``model`` (see above).

    ``model`` is one of :data:`EDN_MODELS`.  Raises :class:`HistoryFormatError` naming the file
    and the line of the entry at fault.
    """
    spath = os.fspath(path)
    with open(spath, encoding="utf-8") as f:
        text = f.read()
    reader = _Reader(EDN_MODELS[model])
    for time, (line, entry) in enumerate(_entries(read_edn(spath, text)), start=1):
        try:
            reader.entry(entry, time, line)
        except _Bad as exc:
            raise HistoryFormatError(spath, line, str(exc)) from None
    for process, started in reader.pending.items():
        try:
            reader.ops[started.slot] = reader.unfinished(process, started)
        except _Bad as exc:  # pragma: no cover - the invoke was converted once already
            raise HistoryFormatError(spath, started.line, str(exc)) from None
    return [op for op in reader.ops if op is not None]
