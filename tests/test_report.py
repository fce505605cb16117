"""Reports: the JSON document, the self-contained HTML page (checked in a real browser), and the
terminal status line."""

from __future__ import annotations

import html
import io
import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import attrs
import pytest

from harness import explore
from harness.check import Violation
from harness.cli import Progress
from harness.explore import CheckRow
from harness.explore import Counterexample
from harness.explore import TimelineOp
from harness.report import MAX_BARS
from harness.report import MAX_COUNTEREXAMPLES
from harness.report import MAX_TRACE_LINES
from harness.report import write_report

META = {"command": "claimcheck run", "seed": 0, "started": "2024-11-28T22:00:00Z", "elapsed": 1.5}


def _cx(
    *,
    violations: Sequence[str] = ("double assignment: job j1 epoch 1 claimed by w0 and w1",),
    timeline: Sequence[TimelineOp] | None = None,
    trace: Sequence[str] = ("  1: w0      get(j1) -> job queued epoch 0 (rev 1)",),
    store: str = "rcw-memory",
) -> Counterexample:
    if timeline is None:
        timeline = (
            TimelineOp(
                actor="w0", label="w0 claim(j1)", result="claimed", start=0, end=3, violating=True
            ),
            TimelineOp(
                actor="w1", label="w1 claim(j1)", result="claimed", start=0, end=4, violating=True
            ),
        )
    return Counterexample(
        scenario="claim-race",
        store=store,
        size=2,
        strategy="random",
        seed=0,
        schedule_index=1,
        token="cc1.claim-race.rcw-memory.2.11001010",
        violations=tuple(
            Violation(kind="double-assignment", subject="j1", sentence=v) for v in violations
        ),
        trace=tuple(trace),
        timeline=tuple(timeline),
    )


def _row(
    store: str,
    check: str,
    *,
    control: bool,
    failed: bool,
    schedules: int | None = None,
    **cx: Any,
) -> CheckRow:
    if schedules is None and check.split()[0] in {"random", "pct", "exhaustive"}:
        schedules = 1 if failed else 500
    return CheckRow(
        store=store,
        control=control,
        check=check,
        failed=failed,
        evidence=f"schedule #1: {check} failed"
        if failed
        else "500 schedules (seed 0), no violation",
        counterexample=_cx(store=store, **cx) if failed else None,
        schedules=schedules,
    )


class _Elements(HTMLParser):
    """Every start tag of a page, with its attributes, in document order."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str]]] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {k: v or "" for k, v in attrs}))

    def select(self, tag: str, cls: str | None = None, **data: str) -> list[dict[str, str]]:
        """Elements ``tag.cls`` whose ``data-<key>`` attributes equal the values given."""
        return [
            a
            for t, a in self.found
            if t == tag
            and (cls is None or set(cls.split(".")) <= set(a.get("class", "").split()))
            and all(a.get(f"data-{k.replace('_', '-')}") == v for k, v in data.items())
        ]


def _report(tmp_path: Path, rows: Sequence[CheckRow], name: str = "r") -> tuple[Any, str]:
    json_path, html_path = write_report(rows, name=name, directory=tmp_path, title="t", meta=META)
    assert (json_path, html_path) == (tmp_path / f"{name}.json", tmp_path / f"{name}.html")
    return json.loads(json_path.read_text("utf-8")), html_path.read_text("utf-8")


def test_json_report_holds_meta_backends_checks_and_counterexamples(tmp_path: Path) -> None:
    rows = [
        _row("memory", "random claim-race", control=False, failed=False),
        _row("rcw-memory", "random claim-race", control=True, failed=True),
    ]
    data, _ = _report(tmp_path, rows)
    assert (data["format"], data["version"], data["title"]) == ("claimcheck-report", 1, "t")
    assert data["meta"] == {**META, "claimcheck_version": data["meta"]["claimcheck_version"]}
    assert data["meta"]["claimcheck_version"]
    assert data["backends"] == [
        {"name": "memory", "control": False},
        {"name": "rcw-memory", "control": True},
    ]
    assert data["summary"] == {
        "checks": 2,
        "as_expected": 2,
        "unexpected": 0,
        "schedules": 501,
        "counterexamples": 1,
    }
    passed, caught = data["checks"]
    assert passed == {
        "store": "memory",
        "control": False,
        "check": "random claim-race",
        "verdict": "pass",
        "as_expected": True,
        "evidence": "500 schedules (seed 0), no violation",
        "schedules": 500,
        "counterexample": None,
        "reproducer": [],
    }
    assert (caught["verdict"], caught["as_expected"], caught["schedules"]) == ("caught", True, 1)
    (cx,) = data["counterexamples"]
    assert cx["id"] == caught["counterexample"]
    assert rows[1].counterexample is not None
    assert cx["commands"] == rows[1].counterexample.commands()
    assert cx["token"] == "cc1.claim-race.rcw-memory.2.11001010"
    assert cx["violations"] == ["double assignment: job j1 epoch 1 claimed by w0 and w1"]
    assert cx["timeline"][0] == {
        "actor": "w0",
        "label": "w0 claim(j1)",
        "result": "claimed",
        "start": 0,
        "end": 3,
        "violating": True,
    }


def test_a_failure_without_a_schedule_shows_its_reproducer(tmp_path: Path) -> None:
    lines = ("claimcheck conformance mypkg:make --seed 3", "import asyncio  # the program")
    row = CheckRow(
        store="mypkg-make",
        control=False,
        check="endurance",
        failed=True,
        evidence="threads grew from 3 to 40 <over>",
        reproducer=lines,
    )
    data, page = _report(tmp_path, [row])
    assert data["checks"][0]["reproducer"] == list(lines)
    assert 'id="reproducers"' in page
    assert "claimcheck conformance mypkg:make --seed 3" in page
    assert "&lt;over&gt;" in page  # escaped like every other text from a run


def test_schedules_given_in_meta_win_over_the_sum_of_the_evidence(tmp_path: Path) -> None:
    rows = [_row("memory", "random claim-race", control=False, failed=False)]
    json_path, _ = write_report(
        rows, name="r", directory=tmp_path, title="t", meta={"schedules": 7, "when": object()}
    )
    data = json.loads(json_path.read_text("utf-8"))
    assert data["summary"]["schedules"] == 7
    assert data["meta"]["when"].startswith("<object object")  # not JSON: written as str()


@pytest.mark.parametrize("schedules", [500, 2503, 5000, 6, None])
def test_explored_schedules_are_the_rows_field_not_parsed_from_the_evidence(
    tmp_path: Path, schedules: int | None
) -> None:
    # The evidence says something else on purpose: the count is data, never read from prose.
    row = attrs.evolve(
        _row("memory", "random claim-race", control=False, failed=False),
        evidence="12 schedules (seed 0), no violation",
        schedules=schedules,
    )
    json_path, _ = write_report([row], name="r", directory=tmp_path, title="t", meta={})
    data = json.loads(json_path.read_text("utf-8"))
    assert data["checks"][0]["schedules"] == schedules
    assert data["summary"]["schedules"] == schedules


def test_matrix_has_one_cell_per_check_and_backend(tmp_path: Path) -> None:
    rows = [
        _row("memory", "trio claim-race x2", control=False, failed=False),
        _row("memory", "random claim-race", control=False, failed=False),
        _row("rcw-memory", "trio claim-race x2", control=True, failed=True),
        _row("rcw-memory", "random claim-race", control=True, failed=False),  # MISSED
        _row("faulty-memory", "random claim-race", control=False, failed=True),  # FAIL
    ]
    _, page = _report(tmp_path, rows)
    doc = _Elements(page)
    assert [t["id"] for t in doc.select("table")] == ["matrix"]
    cells = doc.select("td", "verdict")
    assert len(cells) == 2 * 3
    assert {(c["data-check"], c["data-store"]) for c in cells} == {
        (check, store)
        for check in ("trio claim-race x2", "random claim-race")
        for store in ("memory", "rcw-memory", "faulty-memory")
    }
    verdict = {(c["data-check"], c["data-store"]): c["data-verdict"] for c in cells}
    assert verdict[("random claim-race", "rcw-memory")] == "MISSED"
    assert verdict[("random claim-race", "faulty-memory")] == "FAIL"
    assert verdict[("trio claim-race x2", "rcw-memory")] == "caught"
    assert verdict[("trio claim-race x2", "faulty-memory")] == "none"  # did not run there
    assert len(doc.select("td", "verdict", verdict="pass")) == 2
    # A failing cell links to its counterexample's section, and every link lands somewhere.
    sections = {s["id"] for s in doc.select("section", "counterexample")}
    assert len(sections) == 2
    links = [a["href"] for a in doc.select("a")]
    assert {link[1:] for link in links} == sections
    assert len(doc.select("section", "counterexample.unexpected")) == 1
    assert "2 of 5 checks NOT as expected" in page


def test_text_from_a_run_is_escaped(tmp_path: Path) -> None:
    evil = "<script>alert('x')</script> & \"quoted\" <img src=x onerror=alert(1)>"
    rows = [
        _row(
            "rcw-<b>memory</b>",
            "random <i>claim-race</i>",
            control=True,
            failed=True,
            violations=(evil,),
            trace=(evil,),
            timeline=(
                TimelineOp(actor="<w0>", label=evil, result=evil, start=0, end=2, violating=True),
            ),
        )
    ]
    data, page = _report(tmp_path, rows)
    assert data["counterexamples"][0]["violations"] == [evil]  # the JSON keeps the text as is
    assert page.count("<script") == 1  # only the page's own
    for raw in ("<img", "<b>", "<i>", "<w0>"):
        assert raw not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quoted&quot;" in page
    doc = _Elements(page)
    assert doc.select("rect", "op.violating", actor="<w0>")
    assert doc.select("td", "verdict", store="rcw-<b>memory</b>", check="random <i>claim-race</i>")


def test_page_loads_nothing_from_anywhere(tmp_path: Path) -> None:
    rows = [_row("rcw-memory", "random claim-race", control=True, failed=True)]
    _, page = _report(tmp_path, rows)
    for url in ("http://", "https://", "url("):
        assert url not in page
    doc = _Elements(page)
    assert not [a for _, a in doc.found if "src" in a]
    assert all(a["href"].startswith("#") for a in doc.select("a"))
    (csp,) = [a["content"] for a in doc.select("meta") if a.get("http-equiv")]
    assert csp.startswith("default-src 'none';")


def test_long_histories_are_cut_to_a_bounded_page(tmp_path: Path) -> None:
    ops = 10_000
    timeline = [
        TimelineOp(
            actor=f"w{i % 7}",
            label=f"w{i % 7} claim(j{i})",
            result="claimed",
            start=i,
            end=i + 3,
            violating=i in (5, 9_000, 9_999),
        )
        for i in range(ops)
    ]
    trace = [f"{s:>5}: w{s % 7} get(j{s}) -> queued" for s in range(1, 5_001)]
    rows = [
        _row(
            "rcw-memory",
            "random multi-job",
            control=True,
            failed=True,
            timeline=timeline,
            trace=trace,
            violations=[f"violation {n}" for n in range(30)],
        )
    ]
    data, page = _report(tmp_path, rows)
    assert len(data["counterexamples"][0]["timeline"]) == ops  # the JSON keeps everything
    doc = _Elements(page)
    bars = doc.select("rect", "op")
    assert len(bars) == MAX_BARS
    # The violating operations are kept however late they are; the rest are the earliest.
    assert {b["data-start"] for b in doc.select("rect", "op.violating")} == {"5", "9000", "9999"}
    assert f"{ops - MAX_BARS:,} more operations not shown" in page
    assert "10 more violations not shown" in page
    (trace_start,) = [m.start() for m in re.finditer('<pre class="trace">', page)]
    shown = html.unescape(page[trace_start : page.index("</pre>", trace_start)]).splitlines()
    assert len(shown) == MAX_TRACE_LINES + 1
    assert f"{5_000 - MAX_TRACE_LINES:,} more trace lines not shown" in page
    assert shown[0].endswith(trace[0])
    assert shown[-1] == trace[-1]
    assert int(doc.select("svg", "timeline")[0]["width"]) <= 12_500
    assert len(page) < 400_000


def test_at_most_50_counterexamples_are_rendered_unexpected_first(tmp_path: Path) -> None:
    rows = [
        _row(f"rcw-{n}", "random claim-race", control=True, failed=True)
        for n in range(MAX_COUNTEREXAMPLES + 10)
    ]
    rows.append(_row("memory", "random claim-race", control=False, failed=True))  # FAIL
    data, page = _report(tmp_path, rows)
    assert len(data["counterexamples"]) == MAX_COUNTEREXAMPLES + 11
    doc = _Elements(page)
    sections = doc.select("section", "counterexample")
    assert len(sections) == MAX_COUNTEREXAMPLES
    assert sections[0]["data-store"] == "memory"
    assert "11 more counterexamples not shown" in page
    # Cells of counterexamples not shown have no link to a missing section.
    assert (
        len(doc.select("a")) == MAX_COUNTEREXAMPLES + 1
    )  # the cells and the list of the unexpected


def test_report_name_must_be_a_plain_file_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"plain file name .* got '\.\./x' \(str\)"):
        write_report([], name="../x", directory=tmp_path, title="t", meta={})


def test_a_report_of_no_rows_still_renders(tmp_path: Path) -> None:
    data, page = _report(tmp_path, [])
    assert data["checks"] == []
    assert data["summary"]["schedules"] is None
    assert "No check produced a counterexample." in page


# -- the status line ----------------------------------------------------------------------------


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_rewrites_one_line_on_a_terminal() -> None:
    stream = _Tty()
    progress = Progress(stream, 46, clock=lambda: 0.0)
    progress.update(checks_done=12, schedules=5_300, findings=3)
    assert stream.getvalue() == "\rchecks 12/46, schedules 5,300, findings 3"
    progress.update(checks_done=13, schedules=0)
    # A shorter line is padded so that nothing of the longer one is left on screen.
    assert stream.getvalue().endswith("\rchecks 13/46, schedules 0, findings 3" + " " * 4)
    assert "\n" not in stream.getvalue()
    with progress:
        pass
    # Closing wipes the visible text (the padding after it is blank already).
    wiped = stream.getvalue()
    assert wiped.endswith("\r" + " " * len(progress.status()) + "\r")
    progress.update(checks_done=14)  # after close: nothing
    progress.close()
    assert stream.getvalue() == wiped


def test_progress_draws_schedule_counts_at_most_once_per_interval() -> None:
    now = [0.0]
    stream = _Tty()
    progress = Progress(stream, 2, interval=0.1, clock=lambda: now[0])
    for n in range(1, 100):
        progress.update(schedules=n)
    assert stream.getvalue().count("\r") == 1  # the first only
    now[0] = 0.2
    progress.update(schedules=100)
    progress.update(checks_done=1)  # a finished check is always drawn
    assert stream.getvalue().count("\r") == 3
    assert progress.status() == "checks 1/2, schedules 100, findings 0"


def test_progress_is_silent_when_not_a_terminal() -> None:
    stream = io.StringIO()
    with Progress(stream, 46) as progress:
        progress.update(checks_done=12, schedules=5_300, findings=3)
        assert progress.status() == "checks 12/46, schedules 5,300, findings 3"
    assert stream.getvalue() == ""


def test_progress_refuses_a_total_that_is_not_a_count() -> None:
    with pytest.raises(ValueError, match=r"whole number >= 0; got -1 \(int\)"):
        Progress(io.StringIO(), -1)


# -- in a real browser --------------------------------------------------------------------------

BROWSER_TIMEOUT = 120  # seconds: a cold start on a loaded CI machine, far above the usual 2


def _browser() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is not None:
        return found
    how = "install it with `apt-get install chromium` (Debian), or put chromium on PATH"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but no chromium binary is on PATH; {how}", pytrace=False)
    pytest.skip(f"no chromium binary on PATH; {how}")


def _run_browser(binary: str, tmp_path: Path, *args: str) -> str:
    """Run headless Chromium to completion; its stdout.  Its own process group, so a hang can be
    ended whole (browser, zygote, renderer) without touching anything else."""
    command = [
        binary,
        "--headless",
        "--no-sandbox",  # CI runs as root, where the sandbox refuses to start
        "--disable-gpu",
        "--disable-quic",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
        *args,
    ]
    with subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        encoding="utf-8",
        errors="replace",
        start_new_session=True,
    ) as proc:
        try:
            out, err = proc.communicate(timeout=BROWSER_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            pytest.fail(f"chromium did not finish in {BROWSER_TIMEOUT}s: {command}\n{err[-3000:]}")
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # helpers it left behind, if any
    except ProcessLookupError:
        pass
    if proc.returncode != 0:
        pytest.fail(f"chromium exited {proc.returncode}: {command}\n{err[-3000:]}")
    return out


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_report_renders_in_a_real_browser(tmp_path: Path) -> None:
    binary = _browser()
    rows: list[CheckRow] = []
    for store, control in (("memory", False), ("rcw-memory", True)):
        for scenario in ("claim-race", "zombie-lease"):
            result = explore(scenario, store, "random", seed=0, budget=30)
            rows.append(
                CheckRow(
                    store=store,
                    control=control,
                    check=f"random {scenario}",
                    failed=result.found,
                    evidence=f"{result.schedules} schedules (seed 0)",
                    counterexample=result.counterexample,
                )
            )
    assert [r.verdict for r in rows] == ["pass", "pass", "caught", "caught"]
    # Text that would run if it were not escaped, and that the page's policy would block anyway.
    hostile = "<script>document.body.dataset.pwned = 'script'</script>"
    hostile += "<img src=x onerror=\"document.body.dataset.pwned = 'img'\">"
    rows.append(
        _row("rcw-x", "random claim-race", control=True, failed=True, violations=(hostile,))
    )
    _, html_path = write_report(rows, name="browser", directory=tmp_path, title="t", meta=META)
    page = _Elements(html_path.read_text("utf-8"))
    shot = tmp_path / "report.png"

    started = time.perf_counter()
    dom = _run_browser(
        binary,
        tmp_path,
        "--window-size=1200,900",
        f"--screenshot={shot}",
        "--dump-dom",
        html_path.as_uri(),
    )
    took = time.perf_counter() - started

    rendered = _Elements(dom)
    (body,) = rendered.select("body")
    assert "data-pwned" not in body, body
    # The page's script ran (under the page's policy) and measured what the browser laid out.
    assert body.get("data-rendered") == str(len(page.select("rect", "op"))), (body, took)
    assert int(body["data-rendered"]) >= 4
    assert int(body["data-violating"]) >= 2
    assert int(body["data-matrix-width"]) > 200
    assert int(body["data-timeline-width"]) > 200
    assert int(body["data-op-width"]) > 0
    assert body["data-violating-stroke"] == "rgb(207, 34, 46)"  # the stylesheet applied too
    assert len(rendered.select("td", "verdict")) == 2 * 3  # 2 checks, 3 backends
    assert len(rendered.select("svg", "timeline")) == 3
    assert rendered.select("rect", "op.violating")
    # A screenshot of a laid-out page, not a blank one: a blank 1200x900 PNG is about 5 KB.
    data = shot.read_bytes()
    assert _png_size(data) == (1200, 900)
    assert len(data) > 30_000, len(data)
