"""Knossos's models by the names Jepsen users type, initial states, generated histories, and the
checker's model hooks (pinned reads, reachability) against brute force."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from harness.check import HISTORY_MODELS
from harness.check import HISTORY_OPERATIONS
from harness.check import HistoryMisuse
from harness.check import Operation
from harness.check import check_history_files
from harness.check import check_operations
from harness.check import generate_kv_history
from harness.check import read_jsonl
from harness.check import read_porcupine_kv
from harness.check import write_generated
from harness.check import write_jsonl
from harness.cli import main
from models import CasRegisterModel
from models import DocRegisterModel
from models import KnossosCasRegisterModel
from models import KvAppend
from models import KvDone
from models import KvGet
from models import KvModel
from models import KvPut
from models import KvValue
from models import MultiRegisterModel
from models import MultiTxn
from models import MultiTxnResult
from models import MutexAcquire
from models import MutexDone
from models import MutexModel
from models import MutexRelease
from models import RegGet
from models import RegisterCas
from models import RegisterDone
from models import RegisterRead
from models import RegisterValue
from models import RegisterWrite
from models import RegValue
from tests.test_checker import brute_force
from tests.test_checker import draw_spans
from tests.test_checker import ok
from tests.test_checker import unknown

Op = Operation[Any, Any]


def read(client: int, value: Any, call: float, ret: float) -> Op:
    return ok(client, RegisterRead(), RegisterValue(value=value), call, ret)


def write(client: int, value: Any, call: float, ret: float) -> Op:
    return ok(client, RegisterWrite(value=value), RegisterDone(), call, ret)


def cas(client: int, old: Any, new: Any, call: float, ret: float) -> Op:
    return ok(client, RegisterCas(expected=old, new=new), RegisterDone(), call, ret)


def verdict(model: Any, ops: list[Op]) -> str:
    return check_operations(model, ops).verdict


# --------------------------------------------------------------------------------------------
# cas-register: Knossos's compare-and-set register


def test_cas_register_reads_writes_and_compare_and_sets() -> None:
    good = [write(0, 1, 0, 1), cas(1, 1, 2, 2, 3), read(2, 2, 4, 5)]
    assert verdict(KnossosCasRegisterModel(), good) == "linearizable"
    stale = [write(0, 1, 0, 1), cas(1, 1, 2, 2, 3), read(2, 1, 4, 5)]
    assert verdict(KnossosCasRegisterModel(), stale) == "not_linearizable"
    # A cas that returned compared equal: from 1 it cannot have swapped 0 for 2.
    assert verdict(KnossosCasRegisterModel(), [write(0, 1, 0, 1), cas(1, 0, 2, 2, 3)]) == (
        "not_linearizable"
    )


def test_cas_register_read_of_nil_matches_any_value_as_in_knossos() -> None:
    assert verdict(KnossosCasRegisterModel(), [write(0, 5, 0, 1), read(1, None, 2, 3)]) == (
        "linearizable"
    )


def test_cas_register_starts_where_it_is_told() -> None:
    ops = [cas(0, 0, 1, 0, 1), read(1, 1, 2, 3)]
    assert verdict(KnossosCasRegisterModel(), ops) == "not_linearizable"
    assert verdict(KnossosCasRegisterModel(0), ops) == "linearizable"
    # Values are any hashable: strings, tuples.
    assert verdict(KnossosCasRegisterModel("a"), [cas(0, "a", (1, 2), 0, 1)]) == "linearizable"


def test_cas_register_crashed_write_may_or_may_not_have_happened() -> None:
    crashed = unknown(1, RegisterWrite(value=3), 0)
    assert verdict(KnossosCasRegisterModel(0), [crashed, read(0, 3, 1, 2)]) == "linearizable"
    assert verdict(KnossosCasRegisterModel(0), [crashed, read(0, 0, 1, 2)]) == "linearizable"
    assert verdict(KnossosCasRegisterModel(0), [crashed, read(0, 4, 1, 2)]) == "not_linearizable"


# --------------------------------------------------------------------------------------------
# mutex


def test_mutex_takes_turns() -> None:
    acquire, release = MutexAcquire(), MutexRelease()
    turns = [
        ok(0, acquire, MutexDone(), 0, 1),
        ok(1, acquire, MutexDone(), 0.5, 4),  # waits while 0 holds the lock
        ok(0, release, MutexDone(), 2, 3),
    ]
    assert verdict(MutexModel(), turns) == "linearizable"
    both = [ok(0, acquire, MutexDone(), 0, 1), ok(1, acquire, MutexDone(), 2, 3)]
    assert verdict(MutexModel(), both) == "not_linearizable"
    assert verdict(MutexModel(), [ok(0, release, MutexDone(), 0, 1)]) == "not_linearizable"
    assert verdict(MutexModel(initial=True), [ok(0, release, MutexDone(), 0, 1)]) == (
        "linearizable"
    )


# --------------------------------------------------------------------------------------------
# multi-register


def txn(client: int, done: Any, call: float, ret: float) -> Op:
    invoked = tuple((f, k, None if f == "read" else v) for f, k, v in done)
    return ok(client, MultiTxn(ops=invoked), MultiTxnResult(ops=tuple(done)), call, ret)


def test_multi_register_transactions_are_atomic() -> None:
    model = MultiRegisterModel({"x": 0, "y": 0})
    writes = txn(0, [("write", "x", 1), ("write", "y", 1)], 0, 10)
    # Concurrent reads see both writes or neither...
    fine = [writes, txn(1, [("read", "x", 0), ("read", "y", 0)], 1, 2)]
    fine.append(txn(2, [("read", "x", 1), ("read", "y", 1)], 3, 4))
    assert verdict(model, fine) == "linearizable"
    # ... never half of them.
    torn = [writes, txn(1, [("read", "x", 1), ("read", "y", 0)], 1, 2)]
    assert verdict(model, torn) == "not_linearizable"


def test_multi_register_keys_start_at_the_initial_state_or_nil() -> None:
    reads = [txn(0, [("read", "x", 0), ("read", "z", None)], 0, 1)]
    assert verdict(MultiRegisterModel({"x": 0}), reads) == "linearizable"
    assert verdict(MultiRegisterModel(), [txn(0, [("read", "x", 0)], 0, 1)]) == ("not_linearizable")


def test_multi_register_partitions_into_groups_of_keys_that_share_transactions() -> None:
    ops = [
        txn(0, [("write", "a", 1), ("write", "b", 1)], 0, 1),
        txn(1, [("write", "c", 1)], 0, 1),
        txn(2, [("write", "b", 2), ("write", "d", 2)], 2, 3),
        txn(3, [], 2, 3),
    ]
    parts = MultiRegisterModel().partition(ops)
    assert sorted(sorted(op.client_id for op in part) for part in parts) == [[0, 2], [1], [3]]
    assert check_operations(MultiRegisterModel(), ops).partitions == 3


# --------------------------------------------------------------------------------------------
# The document register under its new name, and the old one


def test_doc_register_is_the_old_cas_register() -> None:
    assert CasRegisterModel is DocRegisterModel
    assert HISTORY_MODELS["doc-register"] is DocRegisterModel
    assert HISTORY_MODELS["cas-register"] is KnossosCasRegisterModel
    assert set(HISTORY_OPERATIONS) == set(HISTORY_MODELS)


def _run(*argv: str) -> tuple[int, str, str]:
    out = io.StringIO()
    err = io.StringIO()
    code = check_history_files(list(argv), "jsonl", None, 10, out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_a_file_naming_cas_register_with_document_values_is_read_as_before_with_a_note(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.jsonl"
    ops = [ok(0, RegGet(key="k"), RegValue(value=None, version=0), 0, 1)]
    write_jsonl(path, ops, model="cas-register")
    code, out, err = _run(str(path))
    assert code == 0
    assert out.startswith(f"{path}: linearizable")
    assert err == (
        f"claimcheck: note: {path}:1: model 'cas-register' for these values is deprecated: "
        "they are 'doc-register' values, so name 'doc-register' in the header\n"
    )
    write_jsonl(path, ops, model="doc-register")
    assert _run(str(path))[2] == ""


# --------------------------------------------------------------------------------------------
# Initial states in JSON Lines


def test_a_jsonl_header_carries_the_initial_state(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    ops = [read(0, 0, 0, 1)]
    write_jsonl(path, ops, model="cas-register", initial=0)
    header = json.loads(path.read_text().splitlines()[0])
    assert header["initial"] == 0
    assert read_jsonl(path).initial == (0,)
    assert _run(str(path))[0] == 0
    write_jsonl(path, ops, model="cas-register")
    assert read_jsonl(path).initial == ()
    assert _run(str(path))[0] == 1
    out = io.StringIO()
    assert check_history_files([path], "jsonl", None, 10, out, initial="0") == 0


def test_an_initial_state_the_model_does_not_take_names_the_header_line(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    write_jsonl(path, [ok(0, KvGet(key="k"), KvValue(value=""), 0, 1)], model="kv", initial={})
    code, _, err = _run(str(path))
    assert code == 2
    assert err == (
        f"claimcheck: error: {path}:1: the header's \"initial\": model 'kv' takes no initial "
        "state; drop it\n"
    )


def test_an_unknown_event_with_a_time_is_refused_in_terms_of_the_json_fields(
    tmp_path: Path,
) -> None:
    path = tmp_path / "h.jsonl"
    lines = [
        {"format": "claimcheck-history", "version": 1, "model": "kv"},
        {
            "kind": "invoke",
            "client": 0,
            "op_id": 1,
            "time": 1,
            "input": {"type": "KvGet", "key": "k"},
        },
        {"kind": "unknown", "client": 0, "op_id": 1, "time": 5},
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    code, _, err = _run(str(path))
    assert code == 2
    assert err == (
        f'claimcheck: error: {path}:3: an "unknown" event has no "time" (its outcome returns '
        'at infinity), got "time": 5; drop "time", or make the event "ok" or "fail" if the '
        "call did return\n"
    )


# --------------------------------------------------------------------------------------------
# Generated kv histories


@pytest.mark.parametrize(("clients", "keys"), [(1, 1), (3, 1), (10, 3), (30, 10)])
def test_generated_histories_are_linearizable_or_broken_by_construction(
    clients: int, keys: int
) -> None:
    for seed in range(3):
        good = generate_kv_history(ops=300, clients=clients, keys=keys, seed=seed)
        assert len(good) == 300
        assert check_operations(KvModel(), good, timeout=60).verdict == "linearizable"
        bad = generate_kv_history(ops=300, clients=clients, keys=keys, seed=seed, broken=True)
        assert check_operations(KvModel(), bad, timeout=60).verdict == "not_linearizable"


def test_a_generated_history_is_the_same_for_the_same_seed() -> None:
    assert generate_kv_history(ops=50, clients=4, keys=2, seed=7) == generate_kv_history(
        ops=50, clients=4, keys=2, seed=7
    )
    with pytest.raises(HistoryMisuse, match="clients must be an int >= 1"):
        generate_kv_history(ops=50, clients=0, keys=2, seed=7)


def test_gen_history_writes_what_check_history_reads(tmp_path: Path) -> None:
    jsonl = tmp_path / "g.jsonl"
    edn = tmp_path / "g.txt"
    out = io.StringIO()
    assert main(["gen-history", str(jsonl), "--ops", "200", "--clients", "8"], out=out) == 0
    assert "200 kv operations, 8 clients, 10 keys, seed 0, linearizable by construction" in (
        out.getvalue()
    )
    ops = generate_kv_history(ops=200, clients=8, keys=10, seed=0)
    write_generated(edn, ops, "porcupine-kv")
    assert read_porcupine_kv(edn) != []
    assert check_operations(KvModel(), read_porcupine_kv(edn)).verdict == "linearizable"
    assert main(["check-history", str(jsonl)], out=io.StringIO()) == 0
    assert (
        main(
            ["check-history", "--format", "jepsen-edn", "--model", "kv", str(edn)],
            out=io.StringIO(),
        )
        == 0
    )
    broken = tmp_path / "b.jsonl"
    assert main(["gen-history", str(broken), "--ops", "200", "--broken"], out=io.StringIO()) == 0
    assert main(["check-history", str(broken), "--jobs", "2"], out=io.StringIO()) == 1


# --------------------------------------------------------------------------------------------
# The kv model's hooks (pinned gets, reachability) against brute force


@st.composite
def kv_histories(draw: st.DrawFn) -> list[Op]:
    """A few get/put/append calls on one key, true outputs from a random order, sometimes lied."""
    spans = draw_spans(draw)
    n = len(spans)
    inputs: list[Any] = []
    for _ in range(n):
        kind = draw(st.sampled_from(["get", "get", "put", "append"]))
        value = draw(st.sampled_from(["a", "b", "ab"]))
        inputs.append(
            KvGet(key="k")
            if kind == "get"
            else (KvPut if kind == "put" else KvAppend)(key="k", value=value)
        )
    points = [draw(st.floats(lo, hi)) for lo, hi in spans]
    state = ""
    outputs: list[Any] = [None] * n
    for i in sorted(range(n), key=lambda i: points[i]):
        inp = inputs[i]
        if isinstance(inp, KvGet):
            outputs[i] = KvValue(value=state)
        else:
            state = inp.value if isinstance(inp, KvPut) else state + inp.value
            outputs[i] = KvDone()
    if draw(st.booleans()):
        i = draw(st.integers(0, n - 1))
        if isinstance(inputs[i], KvGet):
            outputs[i] = KvValue(value=draw(st.sampled_from(["", "a", "b", "ab", "ba", "aab"])))
    ops = []
    for i in range(n):
        if draw(st.integers(0, 4)) == 0:
            ops.append(unknown(i, inputs[i], spans[i][0]))
        else:
            ops.append(ok(i, inputs[i], outputs[i], spans[i][0], spans[i][1]))
    return ops


@settings(max_examples=300, deadline=None)
@given(kv_histories())
def test_the_kv_hooks_agree_with_brute_force(ops: list[Op]) -> None:
    expected = "linearizable" if brute_force(ops, KvModel()) else "not_linearizable"
    assert check_operations(KvModel(), ops).verdict == expected
