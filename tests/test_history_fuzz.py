"""Fuzzing ``claimcheck check-history``: every malformed history ends in a documented exit code.

Valid histories of every model and format are generated, then broken on purpose (lines
dropped, duplicated, swapped, cut or corrupted; fields replaced by hostile values: deep
nesting, numbers past a float's range or past Python's 4300-digit limit, wrong types, values
of another model; bytes flipped).  Each file goes through the real command, in process, and
the outcome must be one of 0, 1, 2 or 4 -- never 3 (an internal error) -- with no traceback,
every bad file named on stderr and every other file given its verdict on stdout.

The corpus is fixed by :data:`SEED` so that the test is deterministic;
``CLAIMCHECK_FUZZ_SEED=N`` explores another one, and a failure prints the seed, the case and
the file to reproduce it.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any
from typing import Final

import attrs

from harness.check import write_jsonl
from harness.check._operation import Operation
from harness.cli import main
from models import VALUE_TYPES
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
from models import MultiTxn
from models import MultiTxnResult
from models import MutexAcquire
from models import MutexDone
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

SEED: Final = int(os.environ.get("CLAIMCHECK_FUZZ_SEED", "20260509"))
#: Calls of the command; each checks one to three files.  A few seconds in all.
RUNS: Final = 600
DOCUMENTED: Final = {0, 1, 2, 4}

#: Raw JSON text spliced in where a field's value was: what a hostile file may hold.
HOSTILE: Final = (
    "null",
    "true",
    "-1",
    "0",
    "1.5",
    "-0.0",
    '"x"',
    '""',
    '"\\u2028"',
    '"\\ud800"',
    "[]",
    "{}",
    '{"type": 7}',
    '{"type": "Nope"}',
    '{"type": "__class__"}',
    "1e400",
    "-1e400",
    "NaN",
    "Infinity",
    "1" + "0" * 400,
    "9" * 5000,
    "[" * 100_000 + "]" * 100_000,
    '{"a": ' * 5000 + "1" + "}" * 5000,
    "[" * 40 + "1" + "]" * 40,
    '"' + "x" * 100_000 + '"',
)


def _etcd_op(rng: random.Random, client: int, t: int) -> Operation[Any, Any]:
    kind = rng.randrange(3)
    inp: Any
    out: Any
    if kind == 0:
        inp, out = EtcdRead(), EtcdValue(value=rng.choice([None, 0, 1, 2]))
    elif kind == 1:
        inp, out = EtcdWrite(value=rng.randrange(3)), EtcdWritten()
    else:
        inp = EtcdCas(expected=rng.randrange(3), new=rng.randrange(3))
        out = EtcdCasResult(ok=rng.random() < 0.5)
    return _op(rng, client, inp, out, t)


def _register_op(rng: random.Random, client: int, t: int) -> Operation[Any, Any]:
    key = rng.choice("ab")
    kind = rng.randrange(3)
    inp: Any
    out: Any
    if kind == 0:
        inp = RegGet(key=key)
        out = RegValue(value=rng.choice([None, 1, "x", (1, "y")]), version=rng.randrange(4))
    elif kind == 1:
        inp, out = RegPut(key=key, value=rng.randrange(3)), RegWritten(version=rng.randrange(4))
    else:
        inp = RegCas(key=key, expected_version=rng.randrange(3), value=rng.randrange(3))
        out = RegCasResult(ok=rng.random() < 0.5, version=rng.choice([None, 1, 2, 3]))
    return _op(rng, client, inp, out, t)


def _knossos_op(rng: random.Random, client: int, t: int) -> Operation[Any, Any]:
    kind = rng.randrange(3)
    inp: Any
    out: Any
    if kind == 0:
        inp, out = RegisterRead(), RegisterValue(value=rng.choice([None, 0, 1, "x", (1, 2)]))
    elif kind == 1:
        inp, out = RegisterWrite(value=rng.choice([0, 1, "x"])), RegisterDone()
    else:
        inp, out = RegisterCas(expected=rng.randrange(2), new=rng.randrange(2)), RegisterDone()
    return _op(rng, client, inp, out, t)


def _mutex_op(rng: random.Random, client: int, t: int) -> Operation[Any, Any]:
    inp = MutexAcquire() if rng.random() < 0.5 else MutexRelease()
    return _op(rng, client, inp, MutexDone(), t)


def _multi_op(rng: random.Random, client: int, t: int) -> Operation[Any, Any]:
    ops: Any = tuple(
        (rng.choice(["read", "write"]), rng.choice("xyz"), rng.choice([None, 0, 1]))
        for _ in range(rng.randrange(3))
    )
    return _op(rng, client, MultiTxn(ops=ops), MultiTxnResult(ops=ops), t)


def _kv_op(rng: random.Random, client: int, t: int) -> Operation[Any, Any]:
    key = rng.choice("ab")
    kind = rng.randrange(3)
    inp: Any
    out: Any
    if kind == 0:
        inp, out = KvGet(key=key), KvValue(value=rng.choice(["", "x", "xy"]))
    elif kind == 1:
        inp, out = KvPut(key=key, value=rng.choice("xy")), KvDone()
    else:
        inp, out = KvAppend(key=key, value=rng.choice("xy")), KvDone()
    return _op(rng, client, inp, out, t)


def _op(rng: random.Random, client: int, inp: Any, out: Any, t: int) -> Operation[Any, Any]:
    roll = rng.random()
    if roll < 0.1:
        return Operation(
            client_id=client, input=inp, output=None, call=t, return_=None, outcome="unknown"
        )
    if roll < 0.2:
        return Operation(
            client_id=client, input=inp, output=None, call=t, return_=t + 1, outcome="fail"
        )
    return Operation(
        client_id=client, input=inp, output=out, call=t, return_=t + rng.randrange(4), outcome="ok"
    )


MAKERS: Final[dict[str, Callable[[random.Random, int, int], Operation[Any, Any]]]] = {
    "etcd-register": _etcd_op,
    "doc-register": _register_op,
    "cas-register": _knossos_op,
    "mutex": _mutex_op,
    "multi-register": _multi_op,
    "kv": _kv_op,
}


def _history(rng: random.Random, model: str) -> list[Operation[Any, Any]]:
    """A few sequential clients, each calling after its previous call returned."""
    ops = []
    for client in range(rng.randrange(1, 4)):
        t = rng.randrange(3)
        for _ in range(rng.randrange(0, 4)):
            op = MAKERS[model](rng, client, t)
            ops.append(op)
            if op.return_ is None:
                break  # a timed-out client stops, as a Jepsen process is retired
            t = int(op.return_) + rng.randrange(2)
    return ops


def _jsonl_text(rng: random.Random, tmp: Path) -> str:
    model = rng.choice(list(MAKERS))
    path = tmp / "valid.jsonl"
    initial = {"cas-register": 0, "mutex": False, "multi-register": {"x": 0}}.get(model)
    write_jsonl(path, _history(rng, model), model=model, initial=initial)
    return path.read_text(encoding="utf-8")


def _edn_text(rng: random.Random) -> str:
    """A Knossos cas-register history: one map per line, or all in one vector."""
    lines = []
    for proc in range(rng.randrange(1, 4)):
        for _ in range(rng.randrange(1, 3)):
            fn = rng.choice(["read", "write", "cas"])
            arg = {"read": "nil", "write": str(rng.randrange(3)), "cas": "[0 2]"}[fn]
            lines.append(f"{{:process {proc}, :type :invoke, :f :{fn}, :value {arg}}}")
            end = rng.choice(["ok", "ok", "fail", "info"])
            done = rng.choice(["nil", "0", "2"]) if fn == "read" else arg
            lines.append(f"{{:process {proc}, :type :{end}, :f :{fn}, :value {done}}}")
            if end == "info":
                break
    if rng.random() < 0.3:
        lines.insert(rng.randrange(len(lines) + 1), "{:process :nemesis, :type :info, :f :start}")
    if rng.random() < 0.5:
        return "[" + "\n ".join(lines) + "]\n"
    return "\n".join(lines) + "\n"


def _etcd_text(rng: random.Random) -> str:
    lines = []
    for proc in range(rng.randrange(1, 4)):
        for _ in range(rng.randrange(1, 3)):
            fn = rng.choice(["read", "write", "cas"])
            arg = {"read": "nil", "write": str(rng.randrange(3)), "cas": "[1 2]"}[fn]
            lines.append(f"INFO  jepsen.util - {proc}\t:invoke\t:{fn}\t{arg}")
            end = rng.choice(["ok", "ok", "fail", "info"])
            if fn == "read":
                done = rng.choice(["nil", "1"]) if end == "ok" else ":timed-out"
            else:
                done = arg if end in ("ok", "fail") else ":timed-out"
            lines.append(f"INFO  jepsen.util - {proc}\t:{end}\t:{fn}\t{done}")
            if end == "info":
                break
    return "\n".join(lines) + "\n"


def _kv_text(rng: random.Random) -> str:
    lines = []
    for proc in range(rng.randrange(1, 4)):
        for _ in range(rng.randrange(1, 3)):
            fn = rng.choice(["get", "put", "append"])
            value = "nil" if fn == "get" else '"x"'
            lines.append(f'{{:process {proc}, :type :invoke, :f :{fn}, :key "0", :value {value}}}')
            lines.append(f'{{:process {proc}, :type :ok, :f :{fn}, :key "0", :value "x"}}')
    return "\n".join(lines) + "\n"


def _random_value_object(rng: random.Random) -> str:
    cls = rng.choice(VALUE_TYPES)
    fields = {f.name: json.loads(rng.choice(HOSTILE[:14])) for f in attrs.fields(cls)}
    if rng.random() < 0.3:
        fields["extra"] = 1
    return json.dumps({"type": cls.__name__, **fields})


def _replace_a_field(rng: random.Random, line: str) -> str:
    """The line with one field (top level or inside input/output) replaced by raw JSON."""
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):
        return line
    if not isinstance(obj, dict) or not obj:
        return line
    target = obj
    for name in ("input", "output"):
        if isinstance(obj.get(name), dict) and rng.random() < 0.5:
            target = obj[name]
    keys = list(target)
    if rng.random() < 0.2:
        keys.append(rng.choice(["time", "input", "output", "client", "op_id", "kind", "extra"]))
    if not keys:
        return line
    target[rng.choice(keys)] = "@@HOSTILE@@"
    raw = _random_value_object(rng) if rng.random() < 0.2 else rng.choice(HOSTILE)
    return json.dumps(obj).replace('"@@HOSTILE@@"', raw, 1)


def _replace_a_token(rng: random.Random, line: str) -> str:
    """For the Porcupine formats: one whitespace-separated token replaced."""
    tokens = line.split(" ")
    i = rng.randrange(len(tokens))
    tokens[i] = rng.choice(
        [
            *("9" * 5000, "-1", "nil", ":timed-out", "[1 2]", "[" * 1000, '"', "", "\t" * 1000),
            *("x", "{:a 1 :a 2}", "#_", "#tag", "\\", ":nemesis,", "{", "}", ":info,", "1/0"),
        ]
    )
    return " ".join(tokens)


def _mutate(rng: random.Random, text: str, jsonl: bool) -> str:
    lines = text.splitlines()
    for _ in range(rng.randrange(1, 4)):
        if not lines:
            lines = [""]
        i = rng.randrange(len(lines))
        j = rng.randrange(len(lines))
        mutation = rng.randrange(10)
        if mutation == 0:
            del lines[i]
        elif mutation == 1:
            lines.insert(j, lines[i])
        elif mutation == 2:
            lines[i], lines[j] = lines[j], lines[i]
        elif mutation == 3:
            lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)]
        elif mutation == 4 and jsonl:
            try:
                header = json.loads(lines[0])
            except (ValueError, RecursionError):
                header = None
            if isinstance(header, dict):
                header[rng.choice(["model", "version", "format"])] = rng.choice(
                    [*MAKERS, "nope", 1, True, 1.0, None]
                )
                lines[0] = json.dumps(header)
        elif mutation in (4, 5, 6, 7):
            lines[i] = _replace_a_field(rng, lines[i]) if jsonl else _replace_a_token(rng, lines[i])
        elif mutation == 8:
            lines.insert(j, rng.choice(HOSTILE))
        else:
            lines[i] = lines[i].replace(
                rng.choice(["1", ":", '"', " "]), rng.choice(["", "2", "9" * 5000]), 1
            )
    return "\n".join(lines) + ("\n" if rng.random() < 0.9 else "")


def _case(rng: random.Random, tmp: Path, index: int) -> tuple[str, Path]:
    fmt = rng.choices(
        ["jsonl", "porcupine-etcd", "porcupine-kv", "jepsen-edn"], weights=[6, 2, 2, 2]
    )[0]
    if fmt == "jsonl":
        text = _jsonl_text(rng, tmp)
    elif fmt == "porcupine-etcd":
        text = _etcd_text(rng)
    elif fmt == "jepsen-edn":
        text = _edn_text(rng)
    else:
        text = _kv_text(rng)
    if rng.random() < 0.85:  # the rest stay valid: the verdicts are exercised too
        text = _mutate(rng, text, fmt == "jsonl")
    data = text.encode("utf-8", "surrogatepass")
    if rng.random() < 0.05:
        # Not UTF-8 any more (or not text at all).
        pos = rng.randrange(len(data) + 1)
        data = data[:pos] + bytes([rng.choice([0x00, 0x80, 0xC3, 0xFF])]) + data[pos:]
    path = tmp / f"case{index}.{fmt}"
    path.write_bytes(data)
    return fmt, path


def _stream() -> io.TextIOWrapper:
    # Strict UTF-8, like a terminal: a StringIO would accept a lone surrogate that the real
    # stdout refuses.
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)


def _text(stream: io.TextIOWrapper) -> str:
    buffer = stream.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue().decode("utf-8")


def _run(argv: list[str]) -> tuple[int, str, str]:
    out = _stream()
    err = _stream()
    with contextlib.redirect_stderr(err):
        code = main(argv, out=out)
    return code, _text(out), _text(err)


def test_every_malformed_history_ends_in_a_documented_exit_code(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    files = {"judged": 0, "refused": 0}
    index = 0
    for run in range(RUNS):
        fmt, first = _case(rng, tmp_path, index)
        paths = [first]
        index += 1
        # Sometimes several files: each must get its own line, whatever the others hold.
        for _ in range(rng.choice([0, 0, 0, 1, 2])):
            same_fmt, path = _case(rng, tmp_path, index)
            index += 1
            if same_fmt == fmt:
                paths.append(path)
        argv = ["check-history", "--format", fmt, "--timeout", "1", *map(str, paths)]
        code, out, err = _run(argv)
        shown = "\n".join(f"--- {p} ---\n{p.read_bytes()[:600]!r}" for p in paths)
        where = (
            f"CLAIMCHECK_FUZZ_SEED={SEED}, run {run}: claimcheck {' '.join(argv)}\n"
            f"exit {code}\nstdout:\n{out[:2000]}\nstderr:\n{err[:2000]}\n{shown}"
        )
        assert code in DOCUMENTED, where
        assert "Traceback" not in out + err, where
        assert "internal error" not in out + err, where
        # A deprecated model name earns a note; everything else on stderr is an error.
        errors = [line for line in err.splitlines() if not line.startswith("claimcheck: note: ")]
        verdicts = out.splitlines()[:-1]  # the last line is the total
        assert all(line.startswith("claimcheck: error: ") for line in errors), where
        assert len(errors) + len(verdicts) == len(paths), where
        for path in paths:
            named = [line for line in errors if line.startswith(f"claimcheck: error: {path}:")]
            judged = [line for line in verdicts if line.startswith(f"{path}: ")]
            assert len(named) + len(judged) == 1, where
        assert (code == 2) == bool(errors), where
        files["judged"] += len(verdicts)
        files["refused"] += len(errors)
    # The corpus must exercise both sides, or it proves little.
    total = files["judged"] + files["refused"]
    assert files["judged"] > total // 10, files
    assert files["refused"] > total // 2, files
