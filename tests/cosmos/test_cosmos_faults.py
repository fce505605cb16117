"""Faults at the HTTP level: ``FaultyTransport`` under the SDK, the store and the coordinator.

Each test builds its own ``CosmosStore`` on the embedded endpoint (container ``faults``) with a
``FaultyTransport`` under the SDK, runs the set-up with every request passing, then scripts the
fate of the requests it is about.  The SDK's own retries run for real: a 503 costs its 500 ms
back-off, a throttle the 1 ms its ``x-ms-retry-after-ms`` asks for.  No test sleeps.

The key finding: a conditional replace whose answer is lost as a 503 after the server applied
it is sent again by the SDK, and the copy answers 412.  The store reports ``Conflict`` although
the document holds its patch; the coordinator's claim token turns that back into ``claimed``,
and the naive coordinator (``resolve_ambiguity=False``) says ``conflict`` for a job it holds.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Coroutine
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from typing import Any

import attrs
import pytest

from fleet import Coordinator
from harness.runtime import SchedulerBase
from harness.runtime import choose
from harness.runtime import run_actors
from stores import Conflict
from stores import Doc
from stores import Expected
from stores import OutcomeUnknown
from stores import StoreMisuse
from stores import StoreUnavailable
from stores import Updated
from stores.cosmos import FAULT_TABLE
from stores.cosmos import CosmosStore
from stores.cosmos import FaultyTransport
from stores.cosmos import Predicate
from stores.cosmos import choice_decider
from stores.cosmos import is_item_request
from stores.cosmos import item_request
from stores.cosmos import scripted
from stores.emulator import EmulatorHandle

from ._drive import drive
from ._drive import under_trio

Run = Callable[[Coroutine[Any, Any, Any]], Any]


@attrs.define(eq=False)
class Rig:
    """A store whose every request goes through ``transport``."""

    store: CosmosStore
    transport: FaultyTransport

    def script(self, decisions: Iterable[str], when: Predicate) -> int:
        """Script the next matching requests; return how many exchanges came before."""
        before = len(self.transport.exchanges)
        self.transport.decide = scripted(decisions, when=when)
        return before

    def since(self, before: int, method: str, id: str | None) -> list[tuple[str, int | None]]:
        """(decision, server status) of the ``method`` requests on item ``id`` (``None``: on
        the items collection, as a create) since exchange ``before``: what the SDK sent, and
        what the server did with it (``None``: never sent)."""
        tail = "/docs" if id is None else f"/docs/{id}"
        return [
            (e.decision, e.status)
            for e in self.transport.exchanges[before:]
            if e.method == method and e.path.rstrip("/").endswith(tail)
        ]


@pytest.fixture
def rig(embedded_emulator: EmulatorHandle) -> Iterator[Rig]:
    transports: list[FaultyTransport] = []

    def wrap(transport: Any) -> FaultyTransport:
        transports.append(FaultyTransport(transport, lambda _request: "pass"))
        return transports[-1]

    store = CosmosStore.for_emulator(
        embedded_emulator, database="claimcheck-faults", container="faults", transport_wrapper=wrap
    )
    with store:
        yield Rig(store=store, transport=transports[0])


def replace_of(id: str) -> Predicate:
    return item_request(method="PUT", id=id)


PATCH = {"owner": "w1"}


# -- the misleading 412 -----------------------------------------------------------------------


@pytest.mark.parametrize("run", [drive, under_trio], ids=["controlled", "trio"])
def test_replace_applied_then_lost_as_503_is_resent_by_the_sdk_and_reported_as_conflict(
    rig: Rig, pk: str, run: Run
) -> None:
    doc: Doc = drive(rig.store.create("a", pk, {"owner": None}))
    before = rig.script(["lost_after_apply"], when=replace_of("a"))

    result = run(rig.store.update_if_match("a", pk, Expected(rev=doc.rev, etag=doc.etag), PATCH))

    # The first PUT applied (200) and its answer became a 503; the SDK sent the same
    # conditional replace again, which found the new etag: 412.  The store re-read the item
    # (rev 2, no longer what we expected) and classified it as a conflict.
    assert rig.since(before, "PUT", "a") == [("lost_after_apply", 200), ("pass", 412)]
    assert result == Conflict()
    # ...although the document holds exactly our write: the caller sees a conflict it won.
    after = drive(rig.store.get("a", pk))
    assert after is not None
    assert (after.rev, dict(after.body)) == (doc.rev + 1, PATCH)


def enqueue(rig: Rig, pk: str, job: str) -> Coordinator:
    coordinator = Coordinator(rig.store, partition=pk)
    assert drive(coordinator.enqueue_job(job)).kind == "enqueued"
    return coordinator


@pytest.mark.parametrize("fault", ["lost_after_apply", "reset_after_apply"])
def test_coordinator_claim_whose_write_won_behind_a_lost_answer_is_claimed(
    rig: Rig, pk: str, fault: str
) -> None:
    coordinator = enqueue(rig, pk, "job")
    before = rig.script([fault], when=replace_of("job"))

    result = drive(coordinator.try_claim_job("job", "w1", now=0))

    # lost_after_apply: the store said Conflict (the SDK's resend answered 412);
    # reset_after_apply: the store said OutcomeUnknown (the SDK never resends a write after a
    # dropped connection), and the coordinator's repeat found the rev moved on without writing.
    # Either way the coordinator re-read and found its claim token.
    expected_puts = {
        "lost_after_apply": [("lost_after_apply", 200), ("pass", 412)],
        "reset_after_apply": [("reset_after_apply", 200)],
    }[fault]
    assert rig.since(before, "PUT", "job") == expected_puts
    assert result.kind == "claimed"
    assert result.lease is not None
    assert (result.lease.worker_id, result.epoch) == ("w1", 1)
    job = drive(coordinator.get_job("job"))
    assert job is not None
    assert (job.body["worker"], job.body["epoch"], job.rev) == ("w1", 1, 2)
    assert drive(rig.store.get("job~run~1", pk)) is not None  # the run was derived


def test_naive_coordinator_reports_conflict_for_a_claim_it_won(rig: Rig, pk: str) -> None:
    """The control (``resolve_ambiguity=False``) takes the misleading 412 at its word."""
    enqueue(rig, pk, "job")
    naive = Coordinator(rig.store, partition=pk, resolve_ambiguity=False)
    rig.script(["lost_after_apply"], when=replace_of("job"))

    result = drive(naive.try_claim_job("job", "w1", now=0))

    job = drive(naive.get_job("job"))
    assert job is not None
    assert result.kind == "conflict"
    # The bug, by assertion: told "conflict", w1 will not run the job, yet the job is leased
    # to w1 until its lease expires, and no run was derived.
    assert (job.body["status"], job.body["worker"], job.body["epoch"]) == ("leased", "w1", 1)
    assert drive(rig.store.get("job~run~1", pk)) is None


def test_naive_coordinator_surfaces_a_dropped_connection_as_outcome_unknown(
    rig: Rig, pk: str
) -> None:
    enqueue(rig, pk, "job")
    naive = Coordinator(rig.store, partition=pk, resolve_ambiguity=False)
    rig.script(["reset_after_apply"], when=replace_of("job"))

    with pytest.raises(OutcomeUnknown, match="may or may not have been applied"):
        drive(naive.try_claim_job("job", "w1", now=0))
    job = drive(naive.get_job("job"))
    assert job is not None
    assert job.body["worker"] == "w1"


# -- what the SDK retries, and what reaches the caller ----------------------------------------


def test_nine_throttles_are_retried_by_the_sdk_and_the_write_applies_once(
    rig: Rig, pk: str
) -> None:
    doc: Doc = drive(rig.store.create("a", pk, {}))
    before = rig.script(["throttle"] * 9, when=replace_of("a"))

    result = drive(rig.store.update_if_match("a", pk, Expected(rev=doc.rev), PATCH))

    assert isinstance(result, Updated)
    assert result.doc.rev == doc.rev + 1
    # 10 attempts, the server saw only the last one.
    assert rig.since(before, "PUT", "a") == [("throttle", None)] * 9 + [("pass", 200)]


def test_ten_throttles_exhaust_the_sdk_and_are_unavailable_with_nothing_written(
    rig: Rig, pk: str
) -> None:
    doc: Doc = drive(rig.store.create("a", pk, {}))
    before = rig.script(["throttle"] * 10, when=replace_of("a"))

    with pytest.raises(StoreUnavailable, match=r"HTTP 429.*nothing was written"):
        drive(rig.store.update_if_match("a", pk, Expected(rev=doc.rev), PATCH))

    assert rig.since(before, "PUT", "a") == [("throttle", None)] * 10
    assert drive(rig.store.get("a", pk)) == doc


def test_one_503_on_a_write_that_did_not_apply_is_retried_transparently(rig: Rig, pk: str) -> None:
    doc: Doc = drive(rig.store.create("a", pk, {}))
    before = rig.script(["unavailable"], when=replace_of("a"))

    result = drive(rig.store.update_if_match("a", pk, Expected(rev=doc.rev), PATCH))

    assert isinstance(result, Updated)
    assert rig.since(before, "PUT", "a") == [("unavailable", None), ("pass", 200)]


def test_two_503s_on_a_read_are_store_unavailable(rig: Rig, pk: str) -> None:
    drive(rig.store.create("a", pk, {}))
    before = rig.script(["unavailable"] * 2, when=item_request(method="GET", id="a"))

    with pytest.raises(StoreUnavailable, match=r"failed get of 'a'.*HTTP 503"):
        drive(rig.store.get("a", pk))

    assert rig.since(before, "GET", "a") == [("unavailable", None)] * 2


def test_write_refused_before_sending_is_retried_then_unavailable_with_nothing_written(
    rig: Rig, pk: str
) -> None:
    # The slowest test here (2 s): the SDK's connection retry policy tries 4 times, the 2nd
    # attempt at once, the 3rd and 4th 1 s apart.  A 5th attempt would pass: there is none.
    doc: Doc = drive(rig.store.create("a", pk, {}))
    before = rig.script(["refused"] * 5, when=replace_of("a"))

    with pytest.raises(StoreUnavailable, match=r"ServiceRequestError.*nothing was written"):
        drive(rig.store.update_if_match("a", pk, Expected(rev=doc.rev), PATCH))

    assert rig.since(before, "PUT", "a") == [("refused", None)] * 4
    assert drive(rig.store.get("a", pk)) == doc


def test_write_whose_connection_drops_after_it_applied_is_outcome_unknown(
    rig: Rig, pk: str
) -> None:
    doc: Doc = drive(rig.store.create("a", pk, {}))
    before = rig.script(["reset_after_apply"], when=replace_of("a"))

    with pytest.raises(OutcomeUnknown, match=r"lost the answer to update_if_match of 'a'"):
        drive(rig.store.update_if_match("a", pk, Expected(rev=doc.rev), PATCH))

    # Not resent: the SDK retries a ServiceResponseError for reads only.
    assert rig.since(before, "PUT", "a") == [("reset_after_apply", 200)]
    after = drive(rig.store.get("a", pk))
    assert after is not None
    assert dict(after.body) == PATCH


def test_create_applied_then_lost_as_503_returns_our_own_document(rig: Rig, pk: str) -> None:
    """The misleading 412's twin for creates: the SDK resends the create and the copy answers
    409.  The store's per-call create token recognises its own document, so the caller gets
    the Doc it wrote, not ``DocumentExists``."""
    before = rig.script(["lost_after_apply"], when=item_request(method="POST"))

    created = drive(rig.store.create("a", pk, {"mine": True}))

    assert (created.rev, dict(created.body)) == (1, {"mine": True})
    assert rig.since(before, "POST", None) == [("lost_after_apply", 201), ("pass", 409)]
    after = drive(rig.store.get("a", pk))
    assert after is not None
    assert (after.rev, dict(after.body)) == (1, {"mine": True})


# -- defects these faults found, now fixed --------------------------------------------------------


def test_write_applied_then_503_twice_is_not_reported_as_unwritten(rig: Rig, pk: str) -> None:
    doc: Doc = drive(rig.store.create("a", pk, {}))
    rig.script(["lost_after_apply", "unavailable"], when=replace_of("a"))

    outcome: object
    try:
        outcome = drive(rig.store.update_if_match("a", pk, Expected(rev=doc.rev), PATCH))
    except (StoreUnavailable, OutcomeUnknown) as error:
        outcome = error
    after = drive(rig.store.get("a", pk))
    if after is None or dict(after.body) != PATCH:
        pytest.fail("precondition: the first attempt should have applied")
    assert not isinstance(outcome, StoreUnavailable), f"told {outcome} although it applied"
    assert isinstance(outcome, OutcomeUnknown)


def test_enqueue_whose_create_applied_behind_a_lost_503_is_enqueued(rig: Rig, pk: str) -> None:
    coordinator = Coordinator(rig.store, partition=pk)
    rig.script(["lost_after_apply"], when=item_request(method="POST"))

    result = drive(coordinator.enqueue_job("job"))

    assert drive(coordinator.get_job("job")) is not None
    assert result.kind == "enqueued"


# -- the transport itself ---------------------------------------------------------------------


def test_choice_decider_maps_ints_to_decisions_and_only_item_requests_draw(
    rig: Rig, pk: str
) -> None:
    draws: list[int] = []
    values = iter([FAULT_TABLE.index("throttle"), 0])

    def fake_choose(bound: int) -> int | None:
        draws.append(bound)
        return next(values, None)

    doc: Doc = drive(rig.store.create("a", pk, {}))
    before = len(rig.transport.exchanges)
    rig.transport.decide = choice_decider(fake_choose)
    assert drive(rig.store.get("a", pk)) == doc  # throttled once, then passed
    assert rig.since(before, "GET", "a") == [("throttle", None), ("pass", 200)]
    # Each item request drew once, from the whole table; the SDK's own requests (it may read
    # the account in the background at any time) never do.
    assert draws == [len(FAULT_TABLE)] * 2


@attrs.define(eq=False)
class ScriptedChoices(SchedulerBase):
    """A ``harness`` scheduler with one actor: it only answers data/fault choices, in order."""

    values: list[int]
    name: str = "scripted"

    def next_actor(self, enabled: Sequence[int], pending: Sequence[Any], step: int) -> int:
        return enabled[0]

    def next_int(self, bound: int, ordinary: int = 1) -> int:
        return self.values.pop(0) if self.values else 0


def test_fault_choices_drawn_in_a_controlled_run_are_recorded_and_resolved(
    rig: Rig, pk: str
) -> None:
    coordinator = enqueue(rig, pk, "job")
    rig.transport.decide = choice_decider(choose)
    lost = FAULT_TABLE.index("lost_after_apply")
    # The claim's item requests: GET (coordinator), GET (store read), PUT (lost after apply),
    # PUT (the SDK's resend: 412), GET (the store's re-read), GET (token check), POST (run).
    scheduler = ScriptedChoices(values=[0, 0, lost])

    execution = run_actors([lambda: coordinator.try_claim_job("job", "w1", now=0)], scheduler)

    assert execution.data == (0, 0, lost, 0, 0, 0, 0)  # in the schedule token: replayable
    assert execution.results[0].kind == "claimed"
    assert [str(e) for e in rig.transport.injected] == [
        "lost_after_apply: PUT /dbs/claimcheck-faults/colls/faults/docs/job/ (server said 200)"
    ]


def test_choice_decider_over_harness_choose_passes_outside_a_controlled_run(
    rig: Rig, pk: str
) -> None:
    rig.transport.decide = choice_decider(choose)
    doc: Doc = drive(rig.store.create("a", pk, {}))
    assert drive(rig.store.get("a", pk)) == doc
    assert rig.transport.injected == []


def test_choice_decider_table_must_start_with_pass() -> None:
    with pytest.raises(StoreMisuse, match="must start with 'pass'"):
        choice_decider(choose, table=["throttle", "pass"])


def test_unknown_decision_is_misuse_naming_it(rig: Rig, pk: str) -> None:
    # Item requests only: the SDK's background health check (GET /) must not see it.
    rig.transport.decide = lambda request: "latency" if is_item_request(request) else "pass"
    with pytest.raises(StoreMisuse, match=r"returned 'latency'.*one of"):
        drive(rig.store.get("a", pk))
    with pytest.raises(StoreMisuse, match=r"unknown decisions \['latency'\]"):
        scripted(["latency"])
