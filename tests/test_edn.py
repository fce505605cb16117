"""Jepsen / Knossos EDN histories: the EDN reader, Jepsen's semantics, and Knossos's verdicts."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from harness.check import HistoryFormatError
from harness.check import check_history_files
from harness.check import check_operations
from harness.check import read_jepsen_edn
from harness.check import read_porcupine_kv
from harness.check._edn import read_edn
from models import KnossosCasRegisterModel
from models import KvModel
from models import RegisterRead
from models import RegisterValue
from models import RegisterWrite

DATA = Path(__file__).resolve().parent / "data" / "knossos"
PORCUPINE_KV = Path(__file__).resolve().parents[2] / "shared" / "histories" / "porcupine" / "kv"


def _rows() -> list[tuple[str, str, str, str]]:
    rows = []
    for line in (DATA / "expected.tsv").read_text(encoding="utf-8").splitlines():
        name, model, initial, verdict, _source = line.split("\t")
        rows.append((name, model, initial, verdict))
    return rows


def _check(path: Path, **kwargs: Any) -> tuple[int, str, str]:
    out = io.StringIO()
    err = io.StringIO()
    code = check_history_files(
        [path],
        kwargs.pop("fmt", "jepsen-edn"),
        kwargs.pop("model", None),
        10,
        out,
        err=err,
        **kwargs,
    )
    return code, out.getvalue(), err.getvalue()


def _edn(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "h.edn"
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------
# Knossos's own expectations


@pytest.mark.parametrize(("name", "model", "initial", "verdict"), _rows(), ids=lambda v: str(v))
def test_knossos_sample_gets_the_verdict_knossos_expects(
    name: str, model: str, initial: str, verdict: str
) -> None:
    code, out, err = _check(DATA / name, model=model, initial=initial)
    assert err == ""
    want = "linearizable" if verdict == "linearizable" else "NOT linearizable"
    assert out.startswith(f"{DATA / name}: {want} "), out
    assert code == (0 if verdict == "linearizable" else 1)


def test_the_sample_covers_every_knossos_model_both_ways() -> None:
    assert {(model, verdict) for _, model, _, verdict in _rows()} == {
        (model, verdict)
        for model in ("cas-register", "mutex", "multi-register")
        for verdict in ("linearizable", "not-linearizable")
    }


def test_knossos_names_the_read_it_cannot_place() -> None:
    # Knossos's bad-analysis-test: the op it cannot linearize is process 21's read of 2.
    code, out, _ = _check(DATA / "bad-analysis.edn", initial="0")
    assert code == 1
    assert "client 21's read() -> 2" in out


def test_the_register_starts_at_nil_unless_told(tmp_path: Path) -> None:
    # Knossos's CLI checks (cas-register), which starts at nil; its tests pass (cas-register 0).
    path = _edn(
        tmp_path,
        "{:process 0, :type :invoke, :f :cas, :value [0 1]}\n"
        "{:process 0, :type :ok, :f :cas, :value [0 1]}\n",
    )
    assert _check(path)[0] == 1
    assert _check(path, initial="0")[0] == 0
    assert (
        check_operations(KnossosCasRegisterModel(0), read_jepsen_edn(path, "cas-register")).verdict
        == "linearizable"
    )


# --------------------------------------------------------------------------------------------
# The EDN reader


def test_edn_values_become_python_values() -> None:
    text = (
        '{:a nil, :b true, :c false, :d -12, :e 1.5, :f 7N, :g 2.5M, :h "x\\ny", :i \\a, '
        ':j :ns/kw, :k sym, :l [1 (2 3)], :m #{1}, :n {:x 1}, :o #inst "2020", :p 1/2}'
    )
    [form] = read_edn("f.edn", text)
    value = form.value
    assert value["a"] is None
    assert value["b"] is True
    assert value["c"] is False
    assert value["d"] == -12
    assert value["e"] == 1.5
    assert value["f"] == 7
    assert value["g"] == 2.5
    assert value["h"] == "x\ny"
    assert value["i"] == "a"
    assert value["j"] == "ns/kw"
    assert value["k"] == "sym"
    assert value["l"] == (1, (2, 3))
    assert value["m"] == frozenset({1})
    assert value["n"] == {"x": 1}
    assert value["o"] == "2020"  # the tag is dropped
    assert value["p"] == 0.5


def test_edn_comments_commas_and_discards_are_blanks() -> None:
    forms = read_edn("f.edn", "; a comment\n{:a 1,,, :b #_ 2 3}\n#_ {:gone 1}\n[1]\n")
    assert [(f.line, f.value) for f in forms] == [(2, {"a": 1, "b": 3}), (4, (1,))]


def test_edn_names_the_line_of_each_element_of_a_top_level_vector() -> None:
    [form] = read_edn("f.edn", "[{:a 1}\n\n {:b\n 2}\n {:c 3}]")
    assert form.item_lines == (1, 3, 5)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('{:a "unterminated}', 1, "an unterminated string"),
        ("{:a 1}\n[1 2}", 2, "unexpected '}'"),
        ("\n\n[1 2", 3, "'[' is never closed"),
        ("{:a 1 :a 2}", 1, "has key 'a' twice"),
        ("{:a}", 1, "a map needs a value for every key"),
        ("[1 #_]", 1, "a tag or #_ with no value after it"),
        ("12abc", 1, "malformed number '12abc'"),
        ("9" * 5000, 1, "more than the 4300 digits"),
        ("[" * 200 + "]" * 200, 1, "nested more than 100 levels deep"),
        ('"\\q"', 1, "unknown escape \\q"),
        ("{{:a 1} 2}", 1, "a map key must not be a map"),
    ],
)
def test_malformed_edn_names_the_line(text: str, line: int, message: str) -> None:
    with pytest.raises(HistoryFormatError) as caught:
        read_edn("f.edn", text)
    assert caught.value.line == line
    assert message in caught.value.message


# --------------------------------------------------------------------------------------------
# Jepsen's semantics


def test_an_ok_read_takes_its_value_from_the_completion(tmp_path: Path) -> None:
    path = _edn(
        tmp_path,
        "{:process 0, :type :invoke, :f :read, :value nil}\n"
        "{:process 0, :type :ok, :f :read, :value 3}\n",
    )
    [op] = read_jepsen_edn(path, "cas-register")
    assert op.input == RegisterRead()
    assert op.output == RegisterValue(value=3)
    assert (op.call, op.return_, op.outcome) == (1, 2, "ok")


def test_info_is_unknown_fail_is_dropped_and_an_open_invoke_is_unknown(tmp_path: Path) -> None:
    path = _edn(
        tmp_path,
        "{:process 0, :type :invoke, :f :write, :value 1}\n"
        "{:process 1, :type :invoke, :f :write, :value 2}\n"
        "{:process 2, :type :invoke, :f :write, :value 3}\n"
        "{:process 0, :type :info, :f :write, :value 1}\n"
        "{:process 1, :type :fail, :f :write, :value 2}\n",
    )
    ops = read_jepsen_edn(path, "cas-register")
    assert [(op.client_id, op.outcome) for op in ops] == [
        (0, "unknown"),
        (1, "fail"),
        (2, "unknown"),
    ]
    assert ops[0].input == RegisterWrite(value=1)
    assert ops[1].return_ == 5


def test_a_crashed_process_never_invokes_again(tmp_path: Path) -> None:
    path = _edn(
        tmp_path,
        "{:process 0, :type :invoke, :f :read, :value nil}\n"
        "{:process 0, :type :info, :f :read, :value nil}\n"
        "{:process 0, :type :invoke, :f :read, :value nil}\n",
    )
    code, out, err = _check(path)
    assert code == 2
    assert err == (
        f"claimcheck: error: {path}:3: process 0 crashed (:info on line 2) and may not invoke "
        "again: Jepsen gives a crashed client a new process number\n"
    )
    assert "1 unreadable" in out


def test_nemesis_entries_and_stray_infos_are_ignored(tmp_path: Path) -> None:
    path = _edn(
        tmp_path,
        "{:process :nemesis, :type :info, :f :start, :value [:isolated {:n1 #{:n2}}]}\n"
        "{:process 4, :type :info, :f :log, :value nil}\n"
        "{:process 0, :type :invoke, :f :write, :value 1}\n"
        "{:process :nemesis, :type :info, :f :stop}\n"
        "{:process 0, :type :ok, :f :write, :value 1}\n",
    )
    [op] = read_jepsen_edn(path, "cas-register")
    assert (op.call, op.return_) == (3, 5)


@pytest.mark.parametrize(
    ("lines", "line", "message"),
    [
        (
            ["{:process 0, :type :invoke, :f :read}", "{:process 0, :type :invoke, :f :read}"],
            2,
            "process 0 invokes while its operation from line 1 is still pending",
        ),
        (
            ["{:process 0, :type :ok, :f :read, :value 1}"],
            1,
            ":ok for process 0, which has no operation pending",
        ),
        (
            [
                "{:process 0, :type :invoke, :f :read}",
                "{:process 0, :type :ok, :f :write, :value 1}",
            ],
            2,
            ":ok :write for process 0, whose pending operation (line 1) is :read",
        ),
        (["{:process 0, :type :invoke, :f :cas, :value 1}"], 1, ":cas needs [old new], got 1"),
        (
            ["{:process 0, :type :invoke, :f :incr}"],
            1,
            ":f :incr is not an operation of model 'cas-register' (read, write, cas)",
        ),
        (["{:process 0, :type :wat, :f :read}"], 1, ":type must be :invoke, :ok, :fail or :info"),
        (["{:type :invoke, :f :read}"], 1, ":process must be an integer or a keyword, got None"),
        (["[1 2 3]", "{:process 0}"], 1, "expected an operation map"),
        (
            ["{:process 0, :type :invoke, :f :write, :value {:a 1}}"],
            1,
            ":write's value must be a value a register can hold, not a map",
        ),
        (
            [
                "{:process 0, :type :invoke, :f :write, :value 1}",
                "{:process 0, :type :ok, :f :write, :value 2}",
            ],
            2,
            "the completion RegisterWrite(value=2) is not the operation invoked on line 1",
        ),
    ],
)
def test_a_bad_entry_is_bad_input_naming_its_line(
    tmp_path: Path, lines: list[str], line: int, message: str
) -> None:
    path = _edn(tmp_path, "\n".join(lines) + "\n")
    code, _, err = _check(path)
    assert code == 2
    assert err.startswith(f"claimcheck: error: {path}:{line}: "), err
    assert message in err
    assert err.count("\n") == 1


def test_a_multi_register_transaction_must_complete_as_invoked(tmp_path: Path) -> None:
    path = _edn(
        tmp_path,
        "{:process 0, :type :invoke, :f :txn, :value [[:r :x nil] [:w :y 1]]}\n"
        "{:process 0, :type :ok, :f :txn, :value [[:r :x 0] [:w :z 1]]}\n",
    )
    code, _, err = _check(path, model="multi-register")
    assert code == 2
    assert f"{path}:2: the completion" in err


def test_jepsen_r_and_w_micro_ops_read_like_knossos_read_and_write(tmp_path: Path) -> None:
    path = _edn(
        tmp_path,
        "{:process 0, :type :invoke, :f :txn, :value [[:w :x 1] [:w :y 2]]}\n"
        "{:process 0, :type :ok, :f :txn, :value [[:w :x 1] [:w :y 2]]}\n"
        "{:process 1, :type :invoke, :f :txn, :value [[:r :x nil] [:r :y nil]]}\n"
        "{:process 1, :type :ok, :f :txn, :value [[:r :x 1] [:r :y 0]]}\n",
    )
    assert _check(path, model="multi-register")[0] == 1  # y is 2, not 0
    assert _check(path, model="multi-register", initial='{"y": 0}')[0] == 1


@pytest.mark.parametrize("name", ["c01-ok", "c01-bad", "c10-ok", "c10-bad", "c50-bad"])
def test_porcupine_kv_files_read_as_jepsen_edn_are_the_same_operations(name: str) -> None:
    path = PORCUPINE_KV / f"{name}.txt"
    assert path.is_file(), f"Porcupine's histories are missing: expected {path}"
    edn = read_jepsen_edn(path, "kv")
    assert edn == read_porcupine_kv(path)
    want = "linearizable" if name.endswith("-ok") else "not_linearizable"
    assert check_operations(KvModel(), edn, timeout=60).verdict == want


def test_check_history_refuses_a_model_the_edn_reader_does_not_know() -> None:
    out = io.StringIO()
    err = io.StringIO()
    assert check_history_files([], "jepsen-edn", "doc-register", None, out, err=err) == 2
    assert (
        "--format jepsen-edn histories are checked with model 'cas-register' or" in err.getvalue()
    )


def test_a_bad_initial_state_is_bad_input(tmp_path: Path) -> None:
    path = DATA / "crash.edn"
    code, _, err = _check(path, initial="{nope")
    assert (code, err.startswith("claimcheck: error: --initial must be JSON")) == (2, True)
    code, _, err = _check(path, initial='{"x": 1}')
    assert code == 2
    assert f"{path}:1: --initial: a register holds no JSON object" in err
    code, _, err = _check(DATA / "mutex-ok.edn", model="mutex", initial="0")
    assert "model 'mutex' starts held (true) or free (false), got 0" in err
