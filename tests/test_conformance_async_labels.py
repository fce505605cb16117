"""The conformance suite's label audit on asyncio stores: a loop's own steps (a bare yield, a
future), which the runtime labels ``("asyncio", "*", None, True)``, are honest because they are
dependent on everything; explicit labels that lie are still caught."""

from __future__ import annotations

from harness.conformance import LabelAudit
from harness.conformance import run_store_conformance
from tests.async_stores import AioLockStore


def test_a_call_made_only_of_loop_steps_is_conservatively_honest() -> None:
    audit = LabelAudit()
    audit.record("create", ("p", "d"), [None, None], wrote=True, answered=True)
    audit.record("get", ("p", "d"), [None], wrote=False, answered=True)
    audit.record("list_partition", ("p", None), [None], wrote=False, answered=True)
    assert audit.problems == []


def test_a_call_with_no_point_at_all_is_still_refused() -> None:
    audit = LabelAudit()
    audit.record("get", ("p", "d"), [], wrote=False, answered=True)
    assert audit.problems == ["get('d', 'p') answered without a scheduling point"]


def test_an_explicit_label_that_hides_a_write_is_caught_among_loop_steps() -> None:
    audit = LabelAudit()
    lying = ("get", "p", "d", False)
    audit.record("create", ("p", "d"), [lying, None, None], wrote=True, answered=True)
    assert len(audit.problems) == 1
    assert "wrote, but labelled each of its scheduling points as a read" in audit.problems[0]


def test_an_explicit_label_naming_another_document_is_caught_among_loop_steps() -> None:
    audit = LabelAudit()
    audit.record("get", ("p", "d"), [("get", "p", "d", False), None], wrote=False, answered=True)
    audit.record("get", ("p", "d"), [("get", "p", "e", False), None], wrote=False, answered=True)
    assert len(audit.problems) == 1
    assert "labelled its document 'e'" in audit.problems[0]


def test_an_asyncio_store_without_store_points_passes_the_labels_check() -> None:
    result = run_store_conformance(
        AioLockStore, name="aio-lock", checks=["scheduling labels"], budget=50
    )
    assert result.conforms, [c.evidence for c in result.checks]
