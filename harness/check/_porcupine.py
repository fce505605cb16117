"""Readers for Porcupine's test histories (Jepsen etcd logs and EDN kv logs).

Both formats are read the way Porcupine's own test suite reads them, with one simplification
that does not change any verdict (see :func:`read_porcupine_etcd`).  Time is the line number:
an operation is called at its invoke line and returns at its completion line, so two
operations overlap exactly when their lines interleave.  Malformed input raises
:class:`HistoryFormatError` naming the file and line; nothing is skipped silently.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any
from typing import Final

from models import EtcdCas
from models import EtcdCasResult
from models import EtcdRead
from models import EtcdValue
from models import EtcdWrite
from models import EtcdWritten
from models import KvAppend
from models import KvDone
from models import KvGet
from models import KvPut
from models import KvValue

from ._operation import HistoryFormatError
from ._operation import Operation
from ._operation import Outcome
from ._operation import show

__all__ = ["read_porcupine_etcd", "read_porcupine_kv"]

_ETCD_LINE: Final = re.compile(
    # The value is ``(.*)``, not ``(.*?)\s*``: the line is stripped already, and the lazy form
    # backtracks quadratically over a long run of blanks inside a hostile value.
    r"INFO\s+jepsen\.util\s+-\s+(\d+)\s+:(invoke|ok|fail|info)\s+:(read|write|cas)\s+(.*)"
)
_ETCD_CAS: Final = re.compile(r"\[(-?\d+)\s+(-?\d+)\]")
_ETCD_INT: Final = re.compile(r"-?\d+")


def _int(path: str, lineno: int, digits: str, what: str) -> int:
    """``int(digits)``, or the file and line when Python refuses it (over 4300 digits)."""
    try:
        return int(digits)
    except ValueError:
        # The pattern matched digits, so only Python's guard against quadratic-time
        # conversion (int_max_str_digits) refuses them.
        raise HistoryFormatError(
            path,
            lineno,
            f"{what} has {len(digits)} digits, more than the {sys.get_int_max_str_digits()} "
            "Python will read; no history needs such a number",
        ) from None


def _etcd_arg(path: str, lineno: int, f: str, raw: str) -> Any:
    if f == "read":
        if raw != "nil":
            raise HistoryFormatError(
                path, lineno, f"an invoke of :read carries nil, got {show(raw)}"
            )
        return EtcdRead()
    if f == "write":
        if not _ETCD_INT.fullmatch(raw):
            raise HistoryFormatError(
                path, lineno, f":write needs an integer value, got {show(raw)}"
            )
        return EtcdWrite(value=_int(path, lineno, raw, ":write's value"))
    m = _ETCD_CAS.fullmatch(raw)
    if m is None:
        raise HistoryFormatError(path, lineno, f":cas needs [from to], got {show(raw)}")
    return EtcdCas(
        expected=_int(path, lineno, m[1], ":cas's from"), new=_int(path, lineno, m[2], ":cas's to")
    )


def _check_idle(pending: dict[int, Any], proc: int, spath: str, lineno: int) -> None:
    """A process invokes only when its previous operation has ended."""
    if proc in pending:
        raise HistoryFormatError(
            spath,
            lineno,
            f"process {proc} invokes while its operation from line "
            f"{pending[proc][0]} is still pending",
        )


def _finish(
    pending: dict[int, tuple[int, int, Any]], proc: int, spath: str, lineno: int, kind: str
) -> tuple[int, int, Any]:
    """The pending operation (invoke line, index, input) that this ``:kind`` line ends."""
    started = pending.pop(proc, None)
    if started is None:
        raise HistoryFormatError(
            spath, lineno, f":{kind} for process {proc}, which has no pending operation"
        )
    return started


def read_porcupine_etcd(path: str | os.PathLike[str]) -> list[Operation[Any, Any]]:
    """The operations of a Jepsen etcd log (``jepsen/etcd_NNN.log``), for ``EtcdRegisterModel``.

    Line by line: ``:invoke`` starts an operation of that process; ``:ok :read v`` returns v
    (``nil``: never written); ``:ok :write`` returns; ``:ok :cas`` and ``:fail :cas`` return
    the compare-and-set's success or failure (outcome ``ok`` either way: the call returned).
    ``:info`` (a timed-out write or cas) leaves the operation's outcome unknown -- it returns at
    infinity -- and retires the process.

    ``:fail :read :timed-out`` becomes outcome ``fail`` (dropped by the checker).  Porcupine
    instead keeps the read with an unknown output, which is legal from every state and changes
    none, so it constrains nothing; dropping it gives the same verdicts and spares the search
    a useless operation.  In Jepsen's vocabulary ``:fail`` means "did not take effect" anyway.
    """
    spath = os.fspath(path)
    ops: list[Operation[Any, Any] | None] = []
    pending: dict[int, tuple[int, int, Any]] = {}  # process -> (line, index in ops, input)
    retired: dict[int, int] = {}  # process -> line of its :info
    with open(spath, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, start=1):
            line = raw.strip()
            if not line:
                continue
            m = _ETCD_LINE.fullmatch(line)
            if m is None:
                raise HistoryFormatError(
                    spath,
                    lineno,
                    "expected 'INFO  jepsen.util - <process> :<invoke|ok|fail|info> "
                    f":<read|write|cas> <value>', got {line[:80]!r}",
                )
            proc, kind, fn, arg = _int(spath, lineno, m[1], "process"), m[2], m[3], m[4]
            if kind == "invoke":
                if proc in retired:
                    raise HistoryFormatError(
                        spath,
                        lineno,
                        f"process {proc} timed out on line {retired[proc]} and may not invoke "
                        "again (Jepsen gives the client a new process number)",
                    )
                _check_idle(pending, proc, spath, lineno)
                pending[proc] = (lineno, len(ops), _etcd_arg(spath, lineno, fn, arg))
                ops.append(None)
                continue
            call_line, index, inp = _finish(pending, proc, spath, lineno, kind)
            expected_fn = {EtcdRead: "read", EtcdWrite: "write", EtcdCas: "cas"}[type(inp)]
            if fn != expected_fn:
                raise HistoryFormatError(
                    spath,
                    lineno,
                    f":{kind} :{fn} for process {proc}, whose pending operation (line "
                    f"{call_line}) is a :{expected_fn}",
                )
            outcome: Outcome = "ok"
            output: Any = None
            if kind == "info" or (kind == "fail" and fn == "read"):
                if arg != ":timed-out":
                    raise HistoryFormatError(
                        spath, lineno, f"expected :timed-out after :{kind} :{fn}, got {show(arg)}"
                    )
                outcome = "unknown" if kind == "info" else "fail"
                if kind == "info":
                    retired[proc] = lineno
            elif fn == "read":
                if arg != "nil" and not _ETCD_INT.fullmatch(arg):
                    raise HistoryFormatError(
                        spath, lineno, f":ok :read needs nil or an integer, got {show(arg)}"
                    )
                output = EtcdValue(
                    value=None if arg == "nil" else _int(spath, lineno, arg, ":read's value")
                )
            elif kind == "fail" and fn == "write":
                raise HistoryFormatError(
                    spath, lineno, ":fail :write is not part of this format (use :info)"
                )
            else:
                if _etcd_arg(spath, lineno, fn, arg) != inp:
                    raise HistoryFormatError(
                        spath,
                        lineno,
                        f"the completion's value {show(arg)} does not match the invoke on line "
                        f"{call_line}",
                    )
                output = EtcdWritten() if fn == "write" else EtcdCasResult(ok=kind == "ok")
            ops[index] = Operation(
                client_id=proc,
                input=inp,
                output=output,
                call=call_line,
                return_=None if outcome == "unknown" else lineno,
                outcome=outcome,
            )
    for proc, (call_line, index, inp) in pending.items():
        ops[index] = Operation(
            client_id=proc, input=inp, output=None, call=call_line, return_=None, outcome="unknown"
        )
    return [op for op in ops if op is not None]


_KV_STRING: Final = r'"((?:[^"\\]|\\.)*)"'
_KV_LINE: Final = re.compile(
    r"\{:process (\d+), :type :(invoke|ok), :f :(get|put|append), :key "
    + _KV_STRING
    + r", :value (nil|"
    + _KV_STRING
    + r")\}"
)
_KV_ESCAPE: Final = re.compile(r"\\(.)")


def _unescape(s: str) -> str:
    return _KV_ESCAPE.sub(lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), s)


def read_porcupine_kv(path: str | os.PathLike[str]) -> list[Operation[Any, Any]]:
    """The operations of a Porcupine kv log (``kv/cNN-{ok,bad}.txt``), for ``KvModel``.

    One EDN map per line; ``:invoke`` starts an operation of that process and ``:ok`` returns
    it (a get returns the key's string).  An invoke with no ``:ok`` by the end of the file has
    an unknown outcome.
    """
    spath = os.fspath(path)
    ops: list[Operation[Any, Any] | None] = []
    pending: dict[int, tuple[int, int, Any]] = {}
    with open(spath, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, start=1):
            line = raw.strip()
            if not line:
                continue
            m = _KV_LINE.fullmatch(line)
            if m is None:
                raise HistoryFormatError(
                    spath,
                    lineno,
                    'expected \'{:process N, :type :invoke|:ok, :f :get|:put|:append, :key "K", '
                    f':value nil|"V"}}\', got {line[:80]!r}',
                )
            proc, kind, fn = _int(spath, lineno, m[1], "process"), m[2], m[3]
            key = _unescape(m[4])
            value = None if m[5] == "nil" else _unescape(m[6])
            if kind == "invoke":
                _check_idle(pending, proc, spath, lineno)
                inp: Any
                if fn == "get":
                    if value is not None:
                        raise HistoryFormatError(
                            spath,
                            lineno,
                            f"an invoke of :get carries :value nil, got {show(m[5])}",
                        )
                    inp = KvGet(key=key)
                elif value is None:
                    raise HistoryFormatError(
                        spath, lineno, f"an invoke of :{fn} needs a string value"
                    )
                else:
                    inp = (KvPut if fn == "put" else KvAppend)(key=key, value=value)
                pending[proc] = (lineno, len(ops), inp)
                ops.append(None)
                continue
            call_line, index, inp = _finish(pending, proc, spath, lineno, "ok")
            expected_fn = {KvGet: "get", KvPut: "put", KvAppend: "append"}[type(inp)]
            if fn != expected_fn or key != inp.key:
                raise HistoryFormatError(
                    spath,
                    lineno,
                    f":ok :{fn} of key {key!r} for process {proc}, whose pending operation "
                    f"(line {call_line}) is :{expected_fn} of key {inp.key!r}",
                )
            if value is None:
                raise HistoryFormatError(spath, lineno, f"an :ok of :{fn} needs a string value")
            output = KvValue(value=value) if fn == "get" else KvDone()
            ops[index] = Operation(
                client_id=proc,
                input=inp,
                output=output,
                call=call_line,
                return_=lineno,
                outcome="ok",
            )
    for proc, (call_line, index, inp) in pending.items():
        ops[index] = Operation(
            client_id=proc, input=inp, output=None, call=call_line, return_=None, outcome="unknown"
        )
    return [op for op in ops if op is not None]
