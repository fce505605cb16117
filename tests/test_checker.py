"""The linearizability checker, the history values and recorder, and the JSON Lines format."""

from __future__ import annotations

import io
import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from harness.check import HISTORY_MODELS
from harness.check import HISTORY_OPERATIONS
from harness.check import CheckResult
from harness.check import HistoryFormatError
from harness.check import HistoryMisuse
from harness.check import HistoryNotLinearizable
from harness.check import HistoryRecorder
from harness.check import LinearizabilityUndecided
from harness.check import Operation
from harness.check import check_history_files
from harness.check import check_operations
from harness.check import read_jsonl
from harness.check import read_porcupine_etcd
from harness.check import read_porcupine_kv
from harness.check import write_jsonl
from harness.cli import main
from models import CasRegisterModel
from models import EtcdCas
from models import EtcdCasResult
from models import EtcdRead
from models import EtcdRegisterModel
from models import EtcdValue
from models import EtcdWrite
from models import EtcdWritten
from models import KvAppend
from models import KvDone
from models import KvGet
from models import KvModel
from models import KvValue
from models import RegCas
from models import RegCasResult
from models import RegGet
from models import RegPut
from models import RegValue
from models import RegWritten

Op = Operation[Any, Any]
EDN_SAMPLE = Path(__file__).resolve().parent / "data" / "knossos" / "history-a.edn"


def ok(client: int, inp: Any, out: Any, call: float, ret: float) -> Op:
    return Operation(client_id=client, input=inp, output=out, call=call, return_=ret, outcome="ok")


def unknown(client: int, inp: Any, call: float) -> Op:
    return Operation(
        client_id=client, input=inp, output=None, call=call, return_=None, outcome="unknown"
    )


def fail(client: int, inp: Any, call: float, ret: float) -> Op:
    return Operation(
        client_id=client, input=inp, output=None, call=call, return_=ret, outcome="fail"
    )


def read(client: int, value: int | None, call: float, ret: float) -> Op:
    return ok(client, EtcdRead(), EtcdValue(value=value), call, ret)


def write(client: int, value: int, call: float, ret: float) -> Op:
    return ok(client, EtcdWrite(value=value), EtcdWritten(), call, ret)


def check(ops: Sequence[Op], **kwargs: Any) -> CheckResult:
    return check_operations(EtcdRegisterModel(), ops, **kwargs)


# --------------------------------------------------------------------------------------------
# Verdicts on hand-made histories


def test_sequential_write_then_read_is_linearizable() -> None:
    result = check([write(0, 1, 0, 1), read(1, 1, 2, 3)])
    assert result.verdict == "linearizable"
    assert [op.client_id for op in result.linearizations[0]] == [0, 1]


def test_read_may_see_a_concurrent_write_before_it_returns() -> None:
    result = check([write(0, 1, 0, 10), read(1, 1, 2, 3), read(2, None, 1, 4)])
    assert result.verdict == "linearizable"
    # The nil read must come first, then the write, then the read of 1.
    assert [op.client_id for op in result.linearizations[0]] == [2, 0, 1]


def test_stale_read_after_a_write_returned_is_not_linearizable() -> None:
    result = check([write(0, 1, 0, 1), read(1, None, 2, 3)])
    assert result.verdict == "not_linearizable"
    assert result.violation is not None
    assert result.violation.blocking.client_id == 1


def test_intervals_are_closed_a_call_at_a_return_time_is_concurrent() -> None:
    # Porcupine's tie rule: at equal times calls sort before returns, so these overlap.
    assert check([write(0, 1, 0, 5), read(1, None, 5, 6)]).verdict == "linearizable"
    assert check([write(0, 1, 0, 5), read(1, None, 6, 7)]).verdict == "not_linearizable"


def test_cas_must_agree_with_the_register() -> None:
    good = [write(0, 1, 0, 1), ok(1, EtcdCas(expected=1, new=2), EtcdCasResult(ok=True), 2, 3)]
    assert check([*good, read(2, 2, 4, 5)]).verdict == "linearizable"
    assert check([*good, read(2, 1, 4, 5)]).verdict == "not_linearizable"
    lying = ok(1, EtcdCas(expected=1, new=2), EtcdCasResult(ok=False), 2, 3)
    assert check([write(0, 1, 0, 1), lying]).verdict == "not_linearizable"


def test_unknown_outcome_can_make_a_history_linearizable() -> None:
    base = [read(1, 7, 5, 6)]
    assert check(base).verdict == "not_linearizable"
    assert check([unknown(0, EtcdWrite(value=7), 0), *base]).verdict == "linearizable"


def test_unknown_outcome_may_never_take_effect() -> None:
    ops = [unknown(0, EtcdWrite(value=7), 0), read(1, None, 5, 6), read(2, None, 8, 9)]
    assert check(ops).verdict == "linearizable"


def test_unknown_outcome_takes_effect_at_most_once_and_only_after_its_call() -> None:
    # The write was invoked after the read returned: it cannot explain the read.
    assert check([read(1, 7, 0, 1), unknown(0, EtcdWrite(value=7), 2)]).verdict == (
        "not_linearizable"
    )
    # Once it has taken effect it stays: 7, then 1, then 7 again needs a second write of 7.
    ops = [
        unknown(0, EtcdWrite(value=7), 0),
        read(1, 7, 1, 2),
        write(2, 1, 3, 4),
        read(3, 7, 5, 6),
    ]
    assert check(ops).verdict == "not_linearizable"


def test_fail_outcomes_are_dropped() -> None:
    # A failed write of 7 did not happen, so reading 7 is impossible and reading nil is fine.
    failed = fail(0, EtcdWrite(value=7), 0, 1)
    assert check([failed, read(1, None, 2, 3)]).verdict == "linearizable"
    assert check([failed, read(1, 7, 2, 3)]).verdict == "not_linearizable"
    assert check([failed, read(1, None, 2, 3)]).operations == 1


def test_empty_history_is_linearizable() -> None:
    result = check([])
    assert result.verdict == "linearizable"
    assert result.partitions == 0


def test_explanation_names_clients_operations_and_states() -> None:
    ops = [
        write(0, 4, 0, 1),
        ok(2, EtcdCas(expected=1, new=3), EtcdCasResult(ok=True), 2, 3),
    ]
    result = check(ops)
    assert result.verdict == "not_linearizable"
    text = result.explanation
    assert "client 2's cas(1->3) -> ok" in text
    assert "is not legal in state 4" in text
    assert "after 1 operations ending with client 0's write(4)" in text
    assert "called at 2, returned at 3" in text
    violation = result.violation
    assert violation is not None
    assert [op.client_id for op in violation.prefix] == [0]
    assert [op.client_id for op in violation.illegal] == [2]
    assert violation.state == 4
    assert "cannot be placed" in violation.summary


def test_explanation_says_which_candidates_are_illegal_and_which_change_nothing() -> None:
    ops = [
        write(0, 1, 0, 1),
        unknown(1, EtcdCas(expected=0, new=2), 2),
        read(2, 5, 3, 4),
    ]
    result = check(ops)
    assert result.verdict == "not_linearizable"
    assert "client 1's cas(0->2) -> ? (called at 2, outcome unknown) would change nothing here" in (
        result.explanation
    )
    assert "client 2's read() -> 5 (called at 3, returned at 4) is not legal in state 1" in (
        result.explanation
    )
    assert result.violation is not None
    assert [op.client_id for op in result.violation.stuck] == [1, 2]


def test_result_has_no_truth_value_and_asserts_by_verdict() -> None:
    good = check([write(0, 1, 0, 1)])
    bad = check([read(0, 3, 0, 1)])
    with pytest.raises(TypeError, match="no truth value"):
        bool(good)
    good.assert_linearizable()
    with pytest.raises(HistoryNotLinearizable, match="Not linearizable"):
        bad.assert_linearizable()


def _adversarial(n: int) -> list[Op]:
    """Many concurrent writes, then a read of a value nobody wrote: every order must be tried."""
    ops = [write(i, i, 0, 100) for i in range(n)]
    ops += [unknown(n + i, EtcdWrite(value=n + i), 0) for i in range(n)]
    ops.append(read(2 * n, -1, 101, 102))
    return ops


def test_tiny_timeout_on_an_adversarial_history_is_undecided_not_a_pass() -> None:
    result = check(_adversarial(16), timeout=0.001)
    assert result.verdict == "undecided"
    assert "not a pass" in result.explanation
    with pytest.raises(LinearizabilityUndecided):
        result.assert_linearizable()


def test_timeout_is_honoured_across_partitions() -> None:
    # A fake clock that passes one second per reading: the deadline of 3 s is hit after a few
    # slices, whatever the machine's speed, long before all 50 partitions are searched.
    readings = itertools.count()
    ops: list[Op] = []
    for key in range(50):
        for c in range(12):
            inp = KvAppend(key=str(key), value=f"<{c}>")
            ops.append(ok(c, inp, KvDone(), 0, 10))
        ops.append(ok(99, KvGet(key=str(key)), KvValue(value="nope"), 11, 12))
    result = check_operations(KvModel(), ops, timeout=3, clock=lambda: float(next(readings)))
    assert result.verdict == "undecided"
    assert result.partitions == 50
    assert result.partitions_checked < 50


def test_timeout_must_be_a_non_negative_number() -> None:
    with pytest.raises(ValueError, match="timeout must be None or a number"):
        check([], timeout=-1)


def test_partition_that_loses_operations_is_refused() -> None:
    class Lossy(EtcdRegisterModel):
        def partition(self, operations: Sequence[Any]) -> list[list[Any]]:
            return [list(operations)[1:]]

    with pytest.raises(ValueError, match="every operation must land in exactly one part"):
        check_operations(Lossy(), [write(0, 1, 0, 1), write(1, 2, 2, 3)])


def test_unhashable_states_are_refused_precisely() -> None:
    class ListState(EtcdRegisterModel):
        def step(self, state: Any, input: Any, output: Any) -> tuple[bool, Any]:
            return True, [state]

    with pytest.raises(TypeError, match=r"ListState.step\(\) returned the unhashable state"):
        check_operations(ListState(), [write(0, 1, 0, 1)])


def test_kv_model_is_checked_key_by_key() -> None:
    ops = [
        ok(0, KvAppend(key="a", value="x"), KvDone(), 0, 1),
        ok(1, KvAppend(key="b", value="y"), KvDone(), 0, 1),
        ok(2, KvGet(key="a"), KvValue(value="x"), 2, 3),
        ok(3, KvGet(key="b"), KvValue(value="y"), 2, 3),
    ]
    result = check_operations(KvModel(), ops)
    assert result.verdict == "linearizable"
    assert result.partitions == 2
    bad = [*ops, ok(4, KvGet(key="b"), KvValue(value="x"), 4, 5)]
    result = check_operations(KvModel(), bad)
    assert result.verdict == "not_linearizable"
    assert result.violation is not None
    assert "partition" in result.explanation
    assert "get('b') -> 'x'" in result.explanation


# --------------------------------------------------------------------------------------------
# The store's compare-and-set register


def reg(client: int, inp: Any, out: Any, call: float, ret: float) -> Op:
    return ok(client, inp, out, call, ret)


def test_cas_register_accepts_the_store_contract() -> None:
    ops = [
        reg(0, RegGet(key="a"), RegValue(value=None, version=0), 0, 1),
        reg(0, RegPut(key="a", value="v1"), RegWritten(version=1), 2, 3),
        reg(
            1,
            RegCas(key="a", expected_version=1, value="v2"),
            RegCasResult(ok=True, version=5),
            4,
            5,
        ),
        reg(2, RegCas(key="a", expected_version=1, value="v3"), RegCasResult(ok=False), 6, 7),
        reg(2, RegGet(key="a"), RegValue(value="v2", version=5), 8, 9),
    ]
    assert check_operations(CasRegisterModel(), ops).verdict == "linearizable"


def test_cas_register_rejects_two_winners_of_one_version() -> None:
    ops = [
        reg(0, RegPut(key="a", value="v1"), RegWritten(version=1), 0, 1),
        reg(
            1,
            RegCas(key="a", expected_version=1, value="x"),
            RegCasResult(ok=True, version=2),
            2,
            5,
        ),
        reg(
            2,
            RegCas(key="a", expected_version=1, value="y"),
            RegCasResult(ok=True, version=3),
            2,
            5,
        ),
    ]
    result = check_operations(CasRegisterModel(), ops)
    assert result.verdict == "not_linearizable"
    assert "cas('a', v1 -> " in result.explanation


def test_cas_register_versions_must_increase() -> None:
    ops = [
        reg(0, RegPut(key="a", value="v1"), RegWritten(version=3), 0, 1),
        reg(0, RegPut(key="a", value="v2"), RegWritten(version=3), 2, 3),
    ]
    assert check_operations(CasRegisterModel(), ops).verdict == "not_linearizable"


def test_cas_register_relearns_after_an_unknown_write() -> None:
    put: Op = Operation(
        client_id=0,
        input=RegPut(key="a", value="v1"),
        output=None,
        call=0,
        return_=None,
        outcome="unknown",
    )
    seen = reg(1, RegGet(key="a"), RegValue(value="v1", version=9), 2, 3)
    cas = reg(
        1, RegCas(key="a", expected_version=9, value="v2"), RegCasResult(ok=True, version=10), 4, 5
    )
    assert check_operations(CasRegisterModel(), [put, seen, cas]).verdict == "linearizable"
    wrong = reg(1, RegGet(key="a"), RegValue(value="other", version=9), 2, 3)
    assert check_operations(CasRegisterModel(), [put, wrong]).verdict == "not_linearizable"


def test_cas_register_keys_are_independent() -> None:
    ops = [
        reg(0, RegPut(key="a", value=1), RegWritten(version=1), 0, 1),
        reg(1, RegGet(key="b"), RegValue(value=None, version=0), 2, 3),
    ]
    result = check_operations(CasRegisterModel(), ops)
    assert result.verdict == "linearizable"
    assert result.partitions == 2


# --------------------------------------------------------------------------------------------
# Against a brute-force oracle on small random histories


def brute_force(ops: Sequence[Op], model: Any = None) -> bool:
    """Is there an order, keeping real time, legal for ``model`` (default: etcd; unknowns optional)?"""
    model = EtcdRegisterModel() if model is None else model
    kept = [op for op in ops if op.outcome != "fail"]
    required = [op for op in kept if op.outcome == "ok"]
    optional = [op for op in kept if op.outcome == "unknown"]
    for r in range(len(optional) + 1):
        for extra in itertools.combinations(optional, r):
            chosen = required + list(extra)
            for order in itertools.permutations(chosen):
                if any(
                    b.return_ is not None and b.return_ < a.call
                    for i, a in enumerate(order)
                    for b in order[i + 1 :]
                ):
                    continue  # b returned before a was called, yet a comes first
                state = model.init()
                for op in order:
                    legal, state = model.step(state, op.input, op.output)
                    if not legal:
                        break
                else:
                    return True
    return False


def draw_spans(draw: st.DrawFn) -> list[tuple[int, int]]:
    """One to six (call, return) intervals, overlapping often."""
    spans = []
    for _ in range(draw(st.integers(1, 6))):
        call = draw(st.integers(0, 8))
        spans.append((call, call + draw(st.integers(0, 4))))
    return spans


@st.composite
def small_histories(draw: st.DrawFn) -> list[Op]:
    """A few operations with true outputs from a random linearization, sometimes corrupted."""
    spans = draw_spans(draw)
    n = len(spans)
    inputs: list[Any] = []
    for _ in range(n):
        kind = draw(st.sampled_from(["read", "write", "cas"]))
        if kind == "read":
            inputs.append(EtcdRead())
        elif kind == "write":
            inputs.append(EtcdWrite(value=draw(st.integers(0, 2))))
        else:
            inputs.append(EtcdCas(expected=draw(st.integers(0, 2)), new=draw(st.integers(0, 2))))
    points = [draw(st.floats(lo, hi)) for lo, hi in spans]
    state: int | None = None
    outputs: list[Any] = [None] * n
    for i in sorted(range(n), key=lambda i: points[i]):
        inp = inputs[i]
        if isinstance(inp, EtcdRead):
            outputs[i] = EtcdValue(value=state)
        elif isinstance(inp, EtcdWrite):
            outputs[i], state = EtcdWritten(), inp.value
        else:
            outputs[i] = EtcdCasResult(ok=state == inp.expected)
            state = inp.new if state == inp.expected else state
    if draw(st.booleans()):
        i = draw(st.integers(0, n - 1))
        if isinstance(inputs[i], EtcdRead):
            outputs[i] = EtcdValue(value=draw(st.sampled_from([None, 0, 1, 2])))
        elif isinstance(inputs[i], EtcdCas):
            outputs[i] = EtcdCasResult(ok=not outputs[i].ok)
    ops: list[Op] = []
    for i in range(n):
        outcome = draw(st.sampled_from(["ok", "ok", "ok", "unknown", "fail"]))
        if outcome == "ok":
            ops.append(ok(i, inputs[i], outputs[i], spans[i][0], spans[i][1]))
        elif outcome == "unknown":
            ops.append(unknown(i, inputs[i], spans[i][0]))
        else:
            ops.append(fail(i, inputs[i], spans[i][0], spans[i][1]))
    return ops


@settings(max_examples=300, deadline=None)
@given(small_histories())
def test_checker_agrees_with_brute_force(ops: list[Op]) -> None:
    result = check(ops)
    expected = "linearizable" if brute_force(ops) else "not_linearizable"
    assert result.verdict == expected
    if result.verdict == "linearizable":
        # The witness keeps real time and replays legally.
        order = result.linearizations[0] if result.linearizations else ()
        model = EtcdRegisterModel()
        state = model.init()
        for i, a in enumerate(order):
            legal, state = model.step(state, a.input, a.output)
            assert legal
            assert not any(b.return_ is not None and b.return_ < a.call for b in order[i + 1 :])
        assert {id(op) for op in ops if op.outcome == "ok"} <= {id(op) for op in order}


# --------------------------------------------------------------------------------------------
# The recorder


def test_recorder_produces_operations_with_all_three_outcomes() -> None:
    rec = HistoryRecorder()
    a = rec.invoke(0, EtcdWrite(value=1), time=0)
    b = rec.invoke(1, EtcdRead(), time=1)
    c = rec.invoke("c", EtcdWrite(value=2), time=2)
    rec.ok(a, EtcdWritten(), time=3)
    rec.fail(b, time=4)
    rec.unknown(c)
    d = rec.invoke(0, EtcdRead(), time=5)
    ops = rec.operations()
    assert [op.outcome for op in ops] == ["ok", "fail", "unknown", "unknown"]
    assert ops[0] == write(0, 1, 0, 3)
    assert ops[2].return_ is None
    assert ops[2].output is None
    assert ops[3].call == 5  # still in flight: unknown
    assert [e.kind for e in rec.events] == [
        "invoke",
        "invoke",
        "invoke",
        "ok",
        "fail",
        "unknown",
        "invoke",
    ]
    assert d.client_id == 0


def test_recorder_reads_only_the_clock_it_is_given() -> None:
    with pytest.raises(HistoryMisuse, match="needs time="):
        HistoryRecorder().invoke(0, EtcdRead())
    ticks = iter([10.0, 12.5])
    rec = HistoryRecorder(clock=lambda: next(ticks))
    h = rec.invoke(0, EtcdRead())
    rec.ok(h, EtcdValue(value=None))
    assert (rec.operations()[0].call, rec.operations()[0].return_) == (10.0, 12.5)


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (lambda r, h: r.invoke(0, EtcdRead(), time=2), "still in flight"),
        (lambda r, h: r.ok(h, EtcdWritten(), time=0), "before the operation's invoke at 1"),
        (lambda r, h: r.ok(h, None, time=2), "None is reserved for unknown"),
        (lambda r, h: r.ok("h", EtcdWritten(), time=2), "takes the handle invoke"),
        (lambda r, h: r.invoke(True, EtcdRead(), time=2), "client_id must be an int or a str"),
        (lambda r, h: r.invoke(1, EtcdRead(), time=float("nan")), "finite int or float"),
    ],
)
def test_recorder_misuse_is_refused_precisely(action: Any, message: str) -> None:
    rec = HistoryRecorder()
    handle = rec.invoke(0, EtcdWrite(value=1), time=1)
    with pytest.raises(HistoryMisuse, match=message):
        action(rec, handle)


def test_recorder_misuse_leaves_the_operation_in_flight() -> None:
    rec = HistoryRecorder()
    h = rec.invoke(0, EtcdWrite(value=1), time=5)
    with pytest.raises(HistoryMisuse):
        rec.ok(h, EtcdWritten(), time=4)
    rec.ok(h, EtcdWritten(), time=6)
    assert rec.operations() == [write(0, 1, 5, 6)]


def test_recorder_refuses_to_end_an_operation_twice() -> None:
    rec = HistoryRecorder()
    h = rec.invoke(0, EtcdRead(), time=0)
    rec.ok(h, EtcdValue(value=None), time=1)
    with pytest.raises(HistoryMisuse, match="already ended"):
        rec.fail(h, time=2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"outcome": "maybe"}, "outcome must be one of"),
        ({"output": None}, "needs an output"),
        ({"return_": -1}, "is before its call"),
        ({"outcome": "unknown"}, "returns at infinity"),
        ({"outcome": "fail"}, "has no output"),
    ],
)
def test_operation_invariants_are_checked(kwargs: dict[str, Any], message: str) -> None:
    fields: dict[str, Any] = {
        "client_id": 0,
        "input": EtcdRead(),
        "output": EtcdValue(value=None),
        "call": 0,
        "return_": 1,
        "outcome": "ok",
    }
    fields.update(kwargs)
    with pytest.raises(HistoryMisuse, match=message):
        Operation(**fields)


# --------------------------------------------------------------------------------------------
# JSON Lines


def test_jsonl_round_trip_of_recorded_events(tmp_path: Path) -> None:
    rec = HistoryRecorder()
    a = rec.invoke(0, RegPut(key="k", value=("tuple", 1)), time=0)
    b = rec.invoke("w2", RegCas(key="k", expected_version=1, value="x"), time=0.5)
    rec.ok(a, RegWritten(version=1), time=1)
    rec.unknown(b)
    c = rec.invoke(0, RegGet(key="k"), time=2)
    rec.fail(c, time=3)
    path = tmp_path / "h.jsonl"
    write_jsonl(path, rec.events, model="cas-register")
    history = read_jsonl(path)
    assert history.model == "cas-register"
    assert history.events == rec.events
    assert list(history.operations) == rec.operations()
    header = json.loads(path.read_text().splitlines()[0])
    assert header == {"format": "claimcheck-history", "version": 1, "model": "cas-register"}


def test_a_client_may_invoke_again_once_its_outcome_is_unknown(tmp_path: Path) -> None:
    # It gave up waiting (the outcome still returns at infinity), as HistoryRecorder allows.
    ops = [unknown(0, EtcdWrite(value=1), 0), read(0, 1, 2, 3), read(0, 1, 4, 5)]
    path = tmp_path / "h.jsonl"
    write_jsonl(path, ops, model="etcd-register")
    assert list(read_jsonl(path).operations) == ops
    assert check(ops).verdict == "linearizable"


def test_write_jsonl_refuses_a_client_that_overlaps_itself(tmp_path: Path) -> None:
    # read_jsonl would refuse the file: do not write it.
    with pytest.raises(HistoryMisuse, match="client 0 invokes op 1 while its op 0"):
        write_jsonl(tmp_path / "h.jsonl", [write(0, 1, 0, 5), read(0, 1, 2, 3)], model="e")


def test_jsonl_round_trip_of_operations_keeps_the_verdict(tmp_path: Path) -> None:
    ops = [write(0, 1, 0, 5), read(1, 1, 5, 6), unknown(2, EtcdCas(expected=1, new=2), 3)]
    path = tmp_path / "h.jsonl"
    write_jsonl(path, ops, model="etcd-register")
    back = read_jsonl(path).operations
    assert sorted(back, key=lambda op: op.client_id) == ops
    assert check(back).verdict == check(ops).verdict == "linearizable"


HEADER = '{"format": "claimcheck-history", "version": 1, "model": "etcd-register"}'
INVOKE = '{"kind": "invoke", "client": 0, "op_id": 1, "time": 5, "input": {"type": "EtcdRead"}}'


@pytest.mark.parametrize(
    ("lines", "line", "message"),
    [
        ([], 1, "empty file"),
        (['{"format": "other"}'], 1, "the first line must be the header"),
        (['{"format": "claimcheck-history", "version": 9, "model": "x"}'], 1, "version 9"),
        ([HEADER, "", "{not json"], 3, "not valid JSON"),
        ([HEADER, "[1, 2]"], 2, "expected a JSON object"),
        ([HEADER, '{"kind": "begin"}'], 2, '"kind" must be one of'),
        ([HEADER, '{"kind": "invoke", "client": 0, "time": 1}'], 2, 'missing "op_id"'),
        (
            [HEADER, '{"kind": "invoke", "client": 0, "op_id": "7", "time": 1}'],
            2,
            '"op_id" must be an int',
        ),
        (
            [HEADER, '{"kind": "ok", "client": 0, "op_id": 1, "time": 1, "output": {}}'],
            2,
            "has not been invoked",
        ),
        ([HEADER, INVOKE, INVOKE], 3, "invoked twice (first on line 2)"),
        (
            [HEADER, INVOKE.replace("EtcdRead", "Nope")],
            2,
            "unknown value type 'Nope'",
        ),
        (
            [HEADER, INVOKE, '{"kind": "fail", "client": 0, "op_id": 1, "time": 4}'],
            3,
            "before op_id 1's invoke at 5 (line 2)",
        ),
        (
            [HEADER, INVOKE, '{"kind": "fail", "client": 3, "op_id": 1, "time": 6}'],
            3,
            "invoked by client 0 (line 2) but ends for client 3",
        ),
        (
            [
                HEADER,
                INVOKE,
                '{"kind": "ok", "client": 0, "op_id": 1, "time": 6, "output": {"type": "EtcdValue", "bogus": 1}}',
            ],
            3,
            "cannot build EtcdValue",
        ),
        (
            [HEADER, INVOKE, '{"kind": "ok", "client": 0, "op_id": 1, "time": 6}'],
            3,
            'missing "output"',
        ),
        # Hostile values: each of these crashed the reader or the checker, or was accepted.
        ([HEADER, "[" * 100_000 + "]" * 100_000], 2, "JSON nested too deeply"),
        (
            [
                HEADER,
                INVOKE.replace(
                    '{"type": "EtcdRead"}',
                    '{"type": "RegPut", "key": "k", "value": ' + "[" * 500 + "]" * 500 + "}",
                ),
            ],
            2,
            "input: values nest more than 32 levels deep",
        ),
        ([HEADER, INVOKE.replace('"time": 5', '"time": 1e400')], 2, '"time" must be a finite'),
        ([HEADER, INVOKE.replace('"time": 5', f'"time": {10**400}')], 2, '"time" must be a finite'),
        (
            [HEADER, INVOKE.replace('"op_id": 1', f'"op_id": {"7" * 5000}')],
            2,
            "an integer has more than 4300 digits",
        ),
        (
            [HEADER, INVOKE.replace('{"type": "EtcdRead"}', '{"type": "EtcdWrite", "value": "7"}')],
            2,
            "input: EtcdWrite.value must be an int, got '7' (str)",
        ),
        (
            [
                HEADER,
                INVOKE.replace('{"type": "EtcdRead"}', '{"type": "EtcdWrite", "value": true}'),
            ],
            2,
            "EtcdWrite.value must be an int, got True (bool)",
        ),
        (
            [
                HEADER,
                INVOKE.replace(
                    '{"type": "EtcdRead"}', '{"type": "RegPut", "key": "k", "value": NaN}'
                ),
            ],
            2,
            "the number nan is not finite",
        ),
        (
            [
                HEADER,
                INVOKE,
                '{"kind": "ok", "client": 0, "op_id": 1, "time": 6, "output": {"type": "EtcdValue", "value": 1.5}}',
            ],
            3,
            "EtcdValue.value must be an int or null, got 1.5 (float)",
        ),
        (['{"format": "claimcheck-history", "version": true, "model": "x"}'], 1, "version True"),
        (
            [HEADER, INVOKE, INVOKE.replace('"op_id": 1', '"op_id": 2')],
            3,
            "client 0 invokes op_id 2 while its op_id 1 (line 2) has not ended",
        ),
    ],
)
def test_malformed_jsonl_names_file_and_line(
    tmp_path: Path, lines: list[str], line: int, message: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + ("\n" if lines else ""))
    with pytest.raises(HistoryFormatError) as info:
        read_jsonl(path)
    assert info.value.path == str(path)
    assert info.value.line == line
    assert message in info.value.message
    assert str(info.value).startswith(f"{path}:{line}: ")


# --------------------------------------------------------------------------------------------
# Porcupine readers


ETCD_OK = "INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:read\tnil\n"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (ETCD_OK + "garbage\n", 3, "expected 'INFO  jepsen.util"),
        ("INFO  jepsen.util - 0\t:ok\t:read\t3\n", 1, "has no pending operation"),
        (
            "INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:invoke\t:read\tnil\n",
            2,
            "still pending",
        ),
        (
            "INFO  jepsen.util - 0\t:invoke\t:write\t3\nINFO  jepsen.util - 0\t:ok\t:write\t4\n",
            2,
            "does not match the invoke on line 1",
        ),
        (
            "INFO  jepsen.util - 0\t:invoke\t:write\t3\nINFO  jepsen.util - 0\t:info\t:write\t:timed-out\n"
            "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n",
            3,
            "may not invoke again",
        ),
        ("INFO  jepsen.util - 0\t:invoke\t:cas\t[1]\n", 1, ":cas needs [from to]"),
    ],
)
def test_malformed_etcd_log_names_file_and_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = tmp_path / "etcd.log"
    path.write_text(text)
    with pytest.raises(HistoryFormatError) as info:
        read_porcupine_etcd(path)
    assert (info.value.line, info.value.path) == (line, str(path))
    assert message in info.value.message


def test_etcd_reader_maps_jepsen_outcomes(tmp_path: Path) -> None:
    path = tmp_path / "etcd.log"
    path.write_text(
        "INFO  jepsen.util - 0\t:invoke\t:cas\t[1 2]\n"
        "INFO  jepsen.util - 1\t:invoke\t:read\tnil\n"
        "INFO  jepsen.util - 2  :invoke :write  4\n"
        "INFO  jepsen.util - 0\t:fail\t:cas\t[1 2]\n"
        "INFO  jepsen.util - 1\t:fail\t:read\t:timed-out\n"
        "INFO  jepsen.util - 2\t:info\t:write\t:timed-out\n"
        "INFO  jepsen.util - 3\t:invoke\t:read\tnil\n"
    )
    ops = read_porcupine_etcd(path)
    assert [(op.client_id, op.outcome) for op in ops] == [
        (0, "ok"),
        (1, "fail"),
        (2, "unknown"),
        (3, "unknown"),
    ]
    assert ops[0].output == EtcdCasResult(ok=False)
    assert (ops[0].call, ops[0].return_) == (1, 4)


def test_an_etcd_number_of_5000_digits_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "etcd.log"
    for text in [
        ETCD_OK + f"INFO  jepsen.util - {'9' * 5000}\t:invoke\t:read\tnil\n",
        ETCD_OK + f"INFO  jepsen.util - 1\t:invoke\t:write\t{'9' * 5000}\n",
    ]:
        path.write_text(text)
        with pytest.raises(HistoryFormatError) as info:
            read_porcupine_etcd(path)
        assert (info.value.path, info.value.line) == (str(path), 3)
        assert "5000 digits, more than the 4300 Python will read" in info.value.message


def test_a_long_run_of_blanks_in_an_etcd_value_is_refused_at_once(tmp_path: Path) -> None:
    # The line pattern used to end in a lazy ``(.*?)\s*``, which backtracks quadratically over
    # blanks: 50,000 of them took 8 s, 100,000 about half a minute.
    path = tmp_path / "etcd.log"
    path.write_text("INFO  jepsen.util - 0 :invoke :write 1" + " " * 100_000 + "x\n")
    started = time.perf_counter()
    with pytest.raises(HistoryFormatError, match=r"etcd.log:1: :write needs an integer value"):
        read_porcupine_etcd(path)
    assert time.perf_counter() - started < 1.0


def test_a_kv_process_of_5000_digits_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "kv.txt"
    path.write_text(f'{{:process {"1" * 5000}, :type :invoke, :f :get, :key "0", :value nil}}\n')
    with pytest.raises(HistoryFormatError, match=r"kv.txt:1: process has 5000 digits"):
        read_porcupine_kv(path)


def test_malformed_kv_log_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "kv.txt"
    path.write_text(
        '{:process 1, :type :invoke, :f :get, :key "0", :value nil}\n'
        '{:process 1, :type :ok, :f :put, :key "0", :value "x"}\n'
    )
    with pytest.raises(HistoryFormatError) as info:
        read_porcupine_kv(path)
    assert info.value.line == 2
    assert "pending operation (line 1) is :get" in info.value.message
    path.write_text('{:process 1, :type :fail, :f :get, :key "0", :value nil}\n')
    with pytest.raises(HistoryFormatError, match=r"kv.txt:1: expected"):
        read_porcupine_kv(path)


def test_kv_reader_leaves_unmatched_invokes_unknown(tmp_path: Path) -> None:
    path = tmp_path / "kv.txt"
    path.write_text(
        '{:process 1, :type :invoke, :f :append, :key "0", :value "x"}\n'
        '{:process 2, :type :invoke, :f :get, :key "0", :value nil}\n'
        '{:process 2, :type :ok, :f :get, :key "0", :value "x"}\n'
    )
    ops = read_porcupine_kv(path)
    assert [op.outcome for op in ops] == ["unknown", "ok"]
    assert check_operations(KvModel(), ops).verdict == "linearizable"


# --------------------------------------------------------------------------------------------
# check-history


def test_check_history_exit_codes_and_lines(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    bad = tmp_path / "bad.jsonl"
    broken = tmp_path / "broken.jsonl"
    write_jsonl(good, [write(0, 1, 0, 1), read(1, 1, 2, 3)], model="etcd-register")
    write_jsonl(bad, [write(0, 1, 0, 1), read(1, 2, 2, 3)], model="etcd-register")
    broken.write_text(HEADER + "\n" + INVOKE + "\n{oops\n")

    def run(*paths: Path, **kwargs: Any) -> tuple[int, list[str]]:
        out = io.StringIO()
        err = io.StringIO()
        code = check_history_files(
            list(paths),
            kwargs.pop("fmt", "jsonl"),
            kwargs.pop("model", None),
            kwargs.pop("timeout", None),
            out,
            err=err,
            **kwargs,
        )
        errors.append(err.getvalue().splitlines())
        return code, out.getvalue().splitlines()

    errors: list[list[str]] = []
    code, lines = run(good)
    assert code == 0
    assert lines[0].startswith(f"{good}: linearizable (2 operations")
    assert "checking took" in lines[-1]
    assert len(lines) == 2
    assert errors[-1] == []
    code, lines = run(good, bad)
    assert code == 1
    assert lines[1].startswith(f"{bad}: NOT linearizable")
    assert "client 1's read() -> 2" in lines[1]
    code, lines = run(good, broken, bad)
    assert code == 2
    # The error goes to stderr alone; the files after the broken one are still checked.
    assert errors[-1] == [
        f"claimcheck: error: {broken}:3: not valid JSON: Expecting property name enclosed in double quotes"
    ]
    assert lines[1].startswith(f"{bad}: NOT linearizable")
    assert "1 unreadable" in lines[-1]
    assert not any(str(broken) in line for line in lines)
    assert not any("Traceback" in line for line in lines + errors[-1])
    code, lines = run(tmp_path / "missing.jsonl")
    assert code == 2
    assert errors[-1][0].startswith(f"claimcheck: error: {tmp_path / 'missing.jsonl'}: cannot read")
    code, lines = run(bad, explain=True)
    assert code == 1
    assert any(line.startswith("    From there no operation") for line in lines)
    adversarial = tmp_path / "slow.jsonl"
    write_jsonl(adversarial, _adversarial(16), model="etcd-register")
    code, lines = run(good, bad, adversarial, timeout=0.001)
    assert code == 1  # a definite violation outranks an undecided check
    code, lines = run(good, adversarial, timeout=0.001)
    assert code == 4
    assert "UNDECIDED" in lines[1]


def test_check_history_refuses_unknown_names() -> None:
    out = io.StringIO()
    err = io.StringIO()
    assert check_history_files([], "xml", None, None, out, err=err) == 2
    assert check_history_files([], "jsonl", "nope", None, out, err=err) == 2
    assert check_history_files([], "porcupine-kv", "etcd-register", None, out, err=err) == 2
    assert err.getvalue().count("claimcheck: error:") == 3
    assert out.getvalue() == ""


def test_check_history_reads_porcupine_formats(tmp_path: Path) -> None:
    path = tmp_path / "etcd.log"
    path.write_text(ETCD_OK)
    out = io.StringIO()
    assert check_history_files([path], "porcupine-etcd", None, 10, out) == 0
    path.write_text(ETCD_OK + "garbage\n")
    out = io.StringIO()
    err = io.StringIO()
    assert check_history_files([path], "porcupine-etcd", None, 10, out, err=err) == 2
    assert err.getvalue().startswith(f"claimcheck: error: {path}:3: expected 'INFO")


# --------------------------------------------------------------------------------------------
# check-history on hostile files: every one is bad input (exit 2) on stderr, naming file and
# line, and the files after it are still checked.

REG_HEADER = '{"format": "claimcheck-history", "version": 1, "model": "cas-register"}'


def _event(
    kind: str, client: int, op_id: int, time: int, value: dict[str, Any] | None = None
) -> str:
    line: dict[str, Any] = {"kind": kind, "client": client, "op_id": op_id, "time": time}
    if value is not None:
        line["input" if kind == "invoke" else "output"] = value
    return json.dumps(line)


def _check_files(*paths: Path, model: str | None = None) -> tuple[int, str, str]:
    out = io.StringIO()
    err = io.StringIO()
    code = check_history_files(list(paths), "jsonl", model, 10, out, err=err)
    return code, out.getvalue(), err.getvalue()


HOSTILE: dict[str, tuple[list[str], int, str]] = {
    "deep-nesting": (
        [HEADER, INVOKE.replace('{"type": "EtcdRead"}', "[" * 100_000 + "]" * 100_000)],
        2,
        "JSON nested too deeply",
    ),
    "deep-value": (
        [
            HEADER,
            INVOKE.replace(
                '{"type": "EtcdRead"}',
                '{"type": "EtcdWrite", "value": ' + "[" * 900 + "]" * 900 + "}",
            ),
        ],
        2,
        "values nest more than 32 levels deep",
    ),
    "time-1e400": (
        [
            HEADER,
            INVOKE,
            '{"kind": "ok", "client": 0, "op_id": 1, "time": 1e400, "output": {"type": "EtcdValue", "value": null}}',
        ],
        3,
        '"time" must be a finite number',
    ),
    "time-400-digits": (
        [
            HEADER,
            INVOKE.replace('"time": 5', f'"time": {10**400}'),
            f'{{"kind": "ok", "client": 0, "op_id": 1, "time": {10**401}, "output": {{"type": "EtcdValue", "value": null}}}}',
        ],
        2,
        '"time" must be a finite number',
    ),
    "string-expected-version-after-an-unfinished-put": (
        [
            REG_HEADER,
            _event("invoke", 0, 1, 1, {"type": "RegPut", "key": "k", "value": 1}),
            _event(
                "invoke",
                1,
                2,
                2,
                {"type": "RegCas", "key": "k", "expected_version": "1", "value": 2},
            ),
            _event("ok", 1, 2, 3, {"type": "RegCasResult", "ok": True, "version": 5}),
        ],
        3,
        "RegCas.expected_version must be an int, got '1' (str)",
    ),
    "int-of-5000-digits": (
        [
            HEADER,
            INVOKE.replace(
                '{"type": "EtcdRead"}', '{"type": "EtcdWrite", "value": ' + "9" * 5000 + "}"
            ),
        ],
        2,
        "an integer has more than 4300 digits",
    ),
    "etcd-operation-under-the-register-model": (
        [
            REG_HEADER,
            INVOKE,
            '{"kind": "ok", "client": 0, "op_id": 1, "time": 6, "output": {"type": "EtcdValue", "value": null}}',
        ],
        2,
        "input EtcdRead is not an operation of model 'cas-register' (named by the header on "
        "line 1), whose inputs are RegisterRead, RegisterWrite, RegisterCas",
    ),
    "register-operation-under-the-etcd-model": (
        [HEADER, _event("invoke", 0, 1, 1, {"type": "RegGet", "key": "k"})],
        2,
        "input RegGet is not an operation of model 'etcd-register'",
    ),
    "a-write's-answer-on-a-read": (
        [
            HEADER,
            INVOKE,
            '{"kind": "ok", "client": 0, "op_id": 1, "time": 6, "output": {"type": "EtcdWritten"}}',
        ],
        3,
        "output EtcdWritten does not answer the EtcdRead invoked on line 2: model "
        "'etcd-register' answers it with EtcdValue",
    ),
    "a-client-no-terminal-can-print": (
        [
            HEADER,
            '{"kind": "invoke", "client": "\\ud800", "op_id": 1, "time": 1, "input": {"type": "EtcdRead"}}',
        ],
        2,
        "\"client\" must be an int or a printable string, got '\\ud800' (str)",
    ),
    "a-client-with-a-line-break": (
        [
            HEADER,
            '{"kind": "invoke", "client": "a\\nb", "op_id": 1, "time": 1, "input": {"type": "EtcdRead"}}',
        ],
        2,
        "\"client\" must be an int or a printable string, got 'a\\nb' (str)",
    ),
    "one-client-two-overlapping-operations": (
        [
            HEADER,
            INVOKE,
            INVOKE.replace('"op_id": 1', '"op_id": 2').replace('"time": 5', '"time": 6'),
        ],
        3,
        "client 0 invokes op_id 2 while its op_id 1 (line 2) has not ended",
    ),
}


@pytest.mark.parametrize(("lines", "line", "message"), HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_history_is_bad_input_on_stderr_and_the_next_file_is_still_checked(
    tmp_path: Path, lines: list[str], line: int, message: str
) -> None:
    hostile = tmp_path / "hostile.jsonl"
    hostile.write_text("\n".join(lines) + "\n")
    good = tmp_path / "good.jsonl"
    write_jsonl(good, [write(0, 1, 0, 1), read(1, 1, 2, 3)], model="etcd-register")
    code, out, err = _check_files(hostile, good)
    assert code == 2
    [error] = err.splitlines()
    assert error.startswith(f"claimcheck: error: {hostile}:{line}: "), error
    assert message in error
    assert len(error) < 400  # a hostile value is shown shortened, never in full
    # Verdicts stay on stdout: the good file after the hostile one is still checked.
    assert out.splitlines()[0].startswith(f"{good}: linearizable")
    assert str(hostile) not in out
    assert "1 unreadable" in out


def test_model_given_on_the_command_line_is_named_in_a_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    write_jsonl(path, [write(0, 1, 0, 1)], model="etcd-register")
    code, _, err = _check_files(path, model="kv")
    assert code == 2
    assert "input EtcdWrite is not an operation of model 'kv' (given by --model)" in err


def test_every_history_model_declares_its_operations() -> None:
    assert set(HISTORY_OPERATIONS) == set(HISTORY_MODELS)


def test_claimcheck_check_history_keeps_errors_on_stderr_and_verdicts_on_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile = tmp_path / "hostile.jsonl"
    hostile.write_text(HEADER + "\n" + "[" * 100_000 + "\n")
    big = tmp_path / "big.jsonl"
    big.write_text(HEADER + "\n" + INVOKE.replace('"op_id": 1', f'"op_id": {"1" * 5000}') + "\n")
    good = tmp_path / "good.jsonl"
    write_jsonl(good, [write(0, 1, 0, 1)], model="etcd-register")
    code = main(["check-history", str(hostile), str(big), str(good)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.splitlines() == [
        f"claimcheck: error: {hostile}:2: JSON nested too deeply to read (arrays or objects "
        "inside each other)",
        f"claimcheck: error: {big}:2: an integer has more than 4300 digits, more than Python "
        "will read; no history needs such a number",
    ]
    assert captured.out.splitlines()[0].startswith(f"{good}: linearizable")
    assert captured.out.splitlines()[1].startswith("3 files: 1 linearizable")


def test_a_file_name_that_is_not_utf8_is_shown_escaped(tmp_path: Path) -> None:
    # Python hands undecodable bytes of a name over as lone surrogates; printing them raw to
    # a UTF-8 stream would fail (as "bad input", naming no file).
    name = os.fsdecode(bytes(tmp_path) + b"/h\xff.jsonl")
    write_jsonl(name, [write(0, 1, 0, 1)], model="etcd-register")
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    assert check_history_files([name], "jsonl", None, 10, out, err=io.StringIO()) == 0
    buffer = out.buffer
    assert isinstance(buffer, io.BytesIO)
    assert buffer.getvalue().decode().startswith(f"{tmp_path}/h\\xff.jsonl: linearizable")


# --------------------------------------------------------------------------------------------
# A fast start: each command imports what it needs (not timed here: bench/bench_startup.py)


def _imported_after(code: str) -> list[str]:
    probe = (
        f"import sys\n{code}\n"
        "print(sorted(m for m in ('trio', 'hypothesis', 'azure', 'pytest') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    imported: list[str] = json.loads(done.stdout.splitlines()[-1].replace("'", '"'))
    return imported


def test_importing_the_cli_pulls_in_no_heavy_layer() -> None:
    assert _imported_after("import harness.cli") == []
    assert _imported_after("import harness") == []


def test_check_history_does_not_import_trio(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    write_jsonl(path, [write(0, 1, 0, 1), read(1, 1, 2, 3)], model="etcd-register")
    code = (
        "import io\nfrom harness.cli import main\n"
        f"assert main(['check-history', {str(path)!r}], out=io.StringIO()) == 0\n"
        "assert main(['check-history', '--format', 'jepsen-edn', '--initial', '0', "
        f"{str(EDN_SAMPLE)!r}], out=io.StringIO()) == 0"
    )
    assert _imported_after(code) == []


def test_every_public_name_of_harness_still_imports() -> None:
    import harness

    for name in harness.__all__:
        assert getattr(harness, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        harness.nope  # noqa: B018
    assert set(harness.__all__) <= set(dir(harness))


def test_help_lists_every_command_without_building_their_arguments(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    shown = capsys.readouterr().out
    for command in ("run", "check-history", "gen-history", "conformance"):
        assert command in shown
    with pytest.raises(SystemExit):
        main(["check-history", "--help"])
    assert "--initial JSON" in capsys.readouterr().out
