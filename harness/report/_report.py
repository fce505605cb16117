"""Reports of a run that people can open: ``<name>.json`` for machines, ``<name>.html`` for eyes.

``write_report(rows, name=..., title=..., meta=...)`` takes the rows of any run (the main job's
``CheckRow``, or anything shaped like it, see :class:`ReportRow`) and writes both files.

The HTML file is self-contained: inline CSS, inline SVG and one small inline script (kept as
real files in ``assets/`` and inlined), no URL of any kind.  Its Content-Security-Policy allows exactly that style and that script (by hash) and
nothing else, so text from a run cannot become markup or code even if escaping were missed.
It shows

- ``table#matrix``: checks (rows) by backends (columns); each ``td.verdict`` carries
  ``data-verdict`` (pass / caught / FAIL / MISSED, or ``none`` when the check did not run on
  that backend) and links to its counterexample;
- one ``section.counterexample`` per counterexample: an ``svg.timeline`` with one lane per
  actor and one ``rect.op`` per operation, from the logical time it started to the one it
  returned (``rect.op.violating`` for the operations the violation is about), then the
  reproducer (token, commands, violations, trace).

A long history must not make a page no browser can open: the page shows at most
``MAX_COUNTEREXAMPLES`` counterexamples (unexpected ones first), ``MAX_BARS`` bars per timeline
(violating ones first, then the earliest) and ``MAX_TRACE_LINES`` trace lines (head and tail),
and says how many it left out.  The JSON file always holds everything.

"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
from collections.abc import Mapping
from collections.abc import Sequence
from importlib import metadata
from importlib import resources
from pathlib import Path
from typing import Any
from typing import Protocol

from ..explore import Counterexample
from ..explore import TimelineOp

__all__ = [
    "MAX_BARS",
    "MAX_COUNTEREXAMPLES",
    "MAX_TRACE_LINES",
    "REPORT_FORMAT",
    "REPORT_VERSION",
    "ReportRow",
    "write_report",
]

REPORT_FORMAT = "claimcheck-report"
REPORT_VERSION = 1

MAX_COUNTEREXAMPLES = 50
MAX_BARS = 400
MAX_TRACE_LINES = 300
MAX_VIOLATIONS = 20
#: Characters of one violation, trace line, command or metadata value shown in the page.
MAX_TEXT = 4000


class ReportRow(Protocol):
    """One check on one backend, as ``write_report`` reads it (``CheckRow`` is one)."""

    @property
    def store(self) -> str: ...
    @property
    def control(self) -> bool: ...
    @property
    def check(self) -> str: ...
    @property
    def verdict(self) -> str: ...
    @property
    def as_expected(self) -> bool: ...
    @property
    def evidence(self) -> str: ...
    @property
    def counterexample(self) -> Counterexample | None: ...
    @property
    def schedules(self) -> int | None: ...
    @property
    def reproducer(self) -> tuple[str, ...]: ...


def _version() -> str:
    try:
        return metadata.version("claimcheck")
    except metadata.PackageNotFoundError:
        return "unknown"


def write_report(
    rows: Sequence[ReportRow],
    *,
    name: str,
    directory: str | Path = "reports",
    title: str,
    meta: Mapping[str, Any],
) -> tuple[Path, Path]:
    """Write ``<directory>/<name>.json`` and ``<directory>/<name>.html``; return both paths.

    ``meta`` describes the run and is shown as given; the CLI passes ``command``, ``seed``,
    ``started`` (ISO 8601) and ``elapsed`` (seconds), and may pass ``schedules`` (the total
    explored; otherwise it is the sum of the rows' ``schedules``).  ``claimcheck_version`` is added when
    missing.  Values that are not JSON are written as ``str(value)``.  Each file is written to a
    temporary name and renamed, so a reader never sees half a report.
    """
    if not isinstance(name, str) or not name or name in {".", ".."} or Path(name).name != name:
        raise ValueError(
            "write_report(name=...) must be a plain file name without a directory or an "
            f"extension, like 'main-job'; got {name!r} ({type(name).__name__})"
        )
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    data = _report_data(rows, title, meta)
    json_path = folder / f"{name}.json"
    html_path = folder / f"{name}.html"
    _write(json_path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    _write(html_path, _render_html(rows, data, json_path.name))
    return json_path, html_path


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# -- the JSON document ------------------------------------------------------------------------


def _report_data(rows: Sequence[ReportRow], title: str, meta: Mapping[str, Any]) -> dict[str, Any]:
    meta_out = {str(k): v for k, v in meta.items()}
    meta_out.setdefault("claimcheck_version", _version())
    ids = _counterexample_ids(rows)
    checks = []
    counterexamples = []
    for i, row in enumerate(rows):
        cx = row.counterexample
        checks.append(
            {
                "store": row.store,
                "control": row.control,
                "check": row.check,
                "verdict": row.verdict,
                "as_expected": row.as_expected,
                "evidence": row.evidence,
                "schedules": row.schedules,
                "counterexample": ids.get(i),
                # A failure without a schedule (a conformance check) says how to see it again.
                "reproducer": list(row.reproducer),
            }
        )
        if cx is not None:
            counterexamples.append(
                {"id": ids[i], "check": row.check, "verdict": row.verdict, **_cx_data(cx)}
            )
    counted = [r.schedules for r in rows if r.schedules is not None]
    schedules = meta_out.get("schedules", sum(counted) if counted else None)
    return {
        "format": REPORT_FORMAT,
        "version": REPORT_VERSION,
        "title": title,
        "meta": meta_out,
        "summary": {
            "checks": len(rows),
            "as_expected": sum(r.as_expected for r in rows),
            "unexpected": sum(not r.as_expected for r in rows),
            "schedules": schedules,
            "counterexamples": len(counterexamples),
        },
        "backends": [{"name": n, "control": c} for n, c in _backends(rows).items()],
        "checks": checks,
        "counterexamples": counterexamples,
    }


def _cx_data(cx: Counterexample) -> dict[str, Any]:
    original = {"original": _cx_data(cx.original)} if cx.original is not None else {}
    return {
        **original,
        "from_database": cx.from_database,
        "store": cx.store,
        "scenario": cx.scenario,
        "size": cx.size,
        "strategy": cx.strategy,
        "seed": cx.seed,
        "schedule_index": cx.schedule_index,
        "token": cx.token,
        "commands": cx.commands(),
        "violations": [v.sentence for v in cx.violations],
        "violation_details": [
            {
                "kind": v.kind,
                "subject": v.subject,
                "operations": [{"actor": r.actor, "index": r.index} for r in v.operations],
                "sentence": v.sentence,
            }
            for v in cx.violations
        ],
        "trace": list(cx.trace),
        "timeline": [
            {
                "actor": op.actor,
                "label": op.label,
                "result": op.result,
                "start": op.start,
                "end": op.end,
                "violating": op.violating,
            }
            for op in cx.timeline
        ],
    }


def _counterexample_ids(rows: Sequence[ReportRow]) -> dict[int, str]:
    numbered = (i for i, row in enumerate(rows) if row.counterexample is not None)
    return {i: f"cx-{n}" for n, i in enumerate(numbered, 1)}


def _backends(rows: Sequence[ReportRow]) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for row in rows:
        out.setdefault(row.store, row.control)
    return out


# -- the HTML page ----------------------------------------------------------------------------


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath("assets", name).read_text(encoding="utf-8")


# Real files beside this module, inlined into every page (the page stays self-contained).
_CSS = _asset("report.css")
_SCRIPT = _asset("report.js")


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


_CSP = (
    f"default-src 'none'; style-src '{_sha256(_CSS)}'; script-src '{_sha256(_SCRIPT)}'; "
    "base-uri 'none'; form-action 'none'"
)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]} ... ({len(text) - limit:,} more characters not shown)"


def _render_html(rows: Sequence[ReportRow], data: Mapping[str, Any], json_name: str) -> str:
    ids = _counterexample_ids(rows)
    # Unexpected counterexamples first: they are the ones a reader opened the page for.
    order = sorted(ids, key=lambda i: (rows[i].as_expected, i))
    shown = order[:MAX_COUNTEREXAMPLES]
    linked = {i: ids[i] for i in shown}
    summary = data["summary"]
    ok = summary["unexpected"] == 0
    status = (
        f"all {summary['checks']} checks as expected"
        if ok
        else f"{summary['unexpected']} of {summary['checks']} checks NOT as expected"
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_e(_CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(data['title'])}</title>",
        f"<style>{_CSS}</style>",
        "</head><body>",
        f"<header><h1>{_e(data['title'])}</h1>",
        _meta_html(data["meta"], summary),
        f'<p><span id="status" data-ok="{str(ok).lower()}">{_e(status)}</span></p>',
        _unexpected_html(rows, linked),
        "</header>",
        "<main>",
        '<h2 id="checks">Checks by backend</h2>',
        '<p class="legend">'
        + " ".join(
            f'<span class="chip" data-verdict="{v}">{v}</span> {_e(what)}'
            for v, what in (
                ("pass", "a correct store passed"),
                ("caught", "the check caught a control (it must)"),
                ("FAIL", "a correct store failed"),
                ("MISSED", "a check missed a control's bug"),
            )
        )
        + f". Hover a cell for its evidence; click it for its counterexample. "
        f"Everything is also in {_e(json_name)}.</p>",
        _matrix_html(rows, linked),
        f'<h2 id="counterexamples">Counterexamples ({len(ids)})</h2>',
    ]
    if not ids:
        parts.append("<p>No check produced a counterexample.</p>")
    for i in shown:
        cx = rows[i].counterexample
        assert cx is not None
        parts.append(_counterexample_html(rows[i], cx, ids[i]))
    parts += _reproducers_html(rows)
    if len(order) > len(shown):
        parts.append(
            f'<p class="omitted" id="more-counterexamples">{len(order) - len(shown):,} more '
            f"counterexamples not shown; all are in {_e(json_name)}.</p>"
        )
    parts += ["</main>", f"<script>{_SCRIPT}</script>", "</body></html>", ""]
    return "\n".join(parts)


def _reproducers_html(rows: Sequence[ReportRow]) -> list[str]:
    """The failures that have no schedule (a conformance check), each with its reproducer."""
    found = [r for r in rows if r.counterexample is None and r.reproducer]
    if not found:
        return []
    parts = [f'<h2 id="reproducers">Failures without a schedule ({len(found)})</h2>']
    for row in found:
        lines = "\n".join(_clip(line) for line in row.reproducer)
        parts.append(
            f'<section class="reproducer"><h3>{_e(row.store)} / {_e(row.check)}: '
            f"{_e(row.verdict)}</h3><p>{_e(_clip(row.evidence))}</p>"
            f'<pre class="commands">{_e(lines)}</pre></section>'
        )
    return parts


def _meta_html(meta: Mapping[str, Any], summary: Mapping[str, Any]) -> str:
    items: list[tuple[str, str]] = []
    for key, value in meta.items():
        if key == "elapsed" and isinstance(value, int | float):
            shown = f"{value:.1f} s"
        elif isinstance(value, str):
            shown = value
        else:
            shown = json.dumps(value, ensure_ascii=False, default=str)
        items.append((key, shown))
    if "schedules" not in meta and summary["schedules"] is not None:
        items.append(("schedules explored", f"{summary['schedules']:,}"))
    body = "".join(f"<dt>{_e(k)}</dt><dd>{_e(_clip(v))}</dd>" for k, v in items)
    return f'<dl class="meta" id="meta">{body}</dl>'


def _unexpected_html(rows: Sequence[ReportRow], linked: Mapping[int, str]) -> str:
    bad = [i for i, row in enumerate(rows) if not row.as_expected]
    if not bad:
        return ""
    items = []
    for i in bad[:MAX_COUNTEREXAMPLES]:
        row = rows[i]
        text = f"{row.store} / {row.check}: {row.verdict}"
        if i in linked:
            text_html = f'<a href="#{linked[i]}">{_e(text)}</a>'
        else:
            text_html = _e(text)
        evidence = _e(_clip(row.evidence, 300))
        items.append(f'<li>{text_html} <span class="mono">{evidence}</span></li>')
    more = len(bad) - len(items)
    tail = f'<p class="omitted">{more:,} more not shown.</p>' if more > 0 else ""
    return f'<ul id="unexpected">{"".join(items)}</ul>{tail}'


def _matrix_html(rows: Sequence[ReportRow], linked: Mapping[int, str]) -> str:
    backends = _backends(rows)
    checks = list(dict.fromkeys(row.check for row in rows))
    cells: dict[tuple[str, str], list[int]] = {}
    for i, row in enumerate(rows):
        cells.setdefault((row.check, row.store), []).append(i)
    head = "".join(
        f'<th scope="col" data-store="{_e(b)}">{_e(b)}{"<small>control</small>" if c else ""}</th>'
        for b, c in backends.items()
    )
    body = []
    for check in checks:
        tds = []
        for store in backends:
            found = cells.get((check, store))
            attrs = f'data-check="{_e(check)}" data-store="{_e(store)}"'
            if not found:
                tds.append(
                    f'<td class="verdict" data-verdict="none" {attrs} '
                    f'title="not run on {_e(store)}">&middot;</td>'
                )
                continue
            # Several rows for one cell (a caller's choice): show the worst, count the rest.
            i = next((j for j in found if not rows[j].as_expected), found[0])
            row = rows[i]
            text = _e(row.verdict)
            if i in linked:
                text = f'<a href="#{linked[i]}">{text}</a>'
            if len(found) > 1:
                text += f" <sup>&times;{len(found)}</sup>"
            tds.append(
                f'<td class="verdict" data-verdict="{_e(row.verdict)}" '
                f'data-expected="{str(row.as_expected).lower()}" {attrs} '
                f'title="{_e(_clip(row.evidence, 1000))}">{text}</td>'
            )
        body.append(f'<tr><th scope="row">{_e(check)}</th>{"".join(tds)}</tr>')
    return (
        '<div class="matrix-wrap"><table id="matrix">'
        f'<thead><tr><th scope="col">check</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _counterexample_html(row: ReportRow, cx: Counterexample, cx_id: str) -> str:
    unexpected = "" if row.as_expected else " unexpected"
    seed = "" if cx.seed is None else f", seed {cx.seed}"
    violations = "".join(
        f"<li>{_e(_clip(v.sentence))}</li>" for v in cx.violations[:MAX_VIOLATIONS]
    )
    more_violations = len(cx.violations) - MAX_VIOLATIONS
    svg, omitted = _timeline_svg(cx.timeline)
    parts = [
        f'<section class="counterexample{unexpected}" id="{_e(cx_id)}" '
        f'data-store="{_e(row.store)}" data-check="{_e(row.check)}">',
        f'<h3><span class="chip" data-verdict="{_e(row.verdict)}">{_e(row.verdict)}</span> '
        f"{_e(row.store)} &middot; {_e(row.check)}</h3>",
        f'<p class="where">scenario {_e(cx.scenario)} (size {cx.size}) on store '
        f"{_e(cx.store)}, strategy {_e(cx.strategy)}{_e(seed)}, schedule "
        f"#{cx.schedule_index}</p>",
        f'<ol class="violations">{violations}</ol>',
    ]
    if more_violations > 0:
        parts.append(f'<p class="omitted">{more_violations:,} more violations not shown.</p>')
    parts.append(svg)
    if omitted:
        parts.append(
            f'<p class="omitted">{omitted:,} more operations not shown (the timeline keeps '
            f"the violating ones and the earliest, {MAX_BARS} in all).</p>"
        )
    if cx.timeline:
        parts.append(
            '<p class="legend">Time runs left to right in store operations completed (the '
            "trace's step numbers); red bars are the operations the violation is about. "
            "Hover a bar for its call and result.</p>"
        )
    commands = "\n".join(_clip(c) for c in cx.commands())
    parts += [
        "<h4>Reproduce</h4>",
        f'<pre class="token">{_e(_clip(cx.token))}</pre>',
        f'<pre class="commands">{_e(commands)}</pre>',
        f"<h4>Trace ({len(cx.trace):,} step{'' if len(cx.trace) == 1 else 's'}: actor, "
        "operation, what it saw)</h4>",
        f'<pre class="trace">{_e(_trace_text(cx.trace))}</pre>',
        "</section>",
    ]
    return "\n".join(parts)


def _trace_text(trace: Sequence[str]) -> str:
    lines = [_clip(line, 1000) for line in trace]
    if len(lines) <= MAX_TRACE_LINES:
        return "\n".join(lines)
    # The start shows how the actors set off and the end how the run broke: keep both.
    head = MAX_TRACE_LINES // 2
    tail = MAX_TRACE_LINES - head
    skipped = len(lines) - MAX_TRACE_LINES
    return "\n".join(
        [*lines[:head], f"... {skipped:,} more trace lines not shown ...", *lines[-tail:]]
    )


# -- the timeline -----------------------------------------------------------------------------

_LANE = 44  # px per actor lane
_BAR = 36  # px bar height (two lines of text)
_TOP = 22  # px for the time axis
_CHAR = 6.7  # px per character of 11px monospace (a little more than 0.6em, to be safe)
_MIN_BAR = 4.0  # px: an operation that took no store step still shows


def _select_ops(ops: Sequence[TimelineOp]) -> tuple[list[TimelineOp], int]:
    if len(ops) <= MAX_BARS:
        return list(ops), 0
    violating = [i for i, op in enumerate(ops) if op.violating][:MAX_BARS]
    others = sorted((i for i, op in enumerate(ops) if not op.violating), key=lambda i: ops[i].start)
    keep = sorted([*violating, *others[: MAX_BARS - len(violating)]])
    return [ops[i] for i in keep], len(ops) - len(keep)


def _fit(text: str, width: float) -> str:
    room = int((width - 8) / _CHAR)
    if len(text) <= room:
        return text
    return text[: room - 1] + "\u2026" if room >= 6 else ""


def _tick_step(span: int, unit: float) -> int:
    """The first of 1, 2, 5, 10, 20, 50, ... that gives at most 20 ticks, 28 px apart."""
    magnitude = 1
    while True:
        for step in (magnitude, 2 * magnitude, 5 * magnitude):
            if span / step <= 20 and step * unit >= 28:
                return step
        magnitude *= 10


def _timeline_svg(timeline: Sequence[TimelineOp]) -> tuple[str, int]:
    """The SVG of a counterexample's operations, and how many operations it left out."""
    if not timeline:
        return '<p class="no-timeline">No timeline was recorded for this counterexample.</p>', 0
    ops, omitted = _select_ops(timeline)
    actors = list(dict.fromkeys(op.actor for op in ops))
    t0 = min(op.start for op in ops)
    span = max(max(max(op.start, op.end) for op in ops) - t0, 1)
    # Wide enough to read a short history, narrow enough (<= 12,000 px) for a long one.
    unit = min(80.0, max(1000.0 / span, 6.0), 12000.0 / span)
    label_w = min(max(max(len(a) for a in actors) * _CHAR + 18, 64), 160)
    width = round(label_w + span * unit + 24)
    height = _TOP + len(actors) * _LANE + 4
    lane_y = {a: _TOP + n * _LANE for n, a in enumerate(actors)}
    out = [
        f'<div class="timeline-wrap"><svg class="timeline" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="timeline of {len(ops)} operations">'
    ]
    for n, actor in enumerate(actors):
        y = lane_y[actor]
        if n % 2 == 0:
            out.append(f'<rect class="lane" x="0" y="{y}" width="{width}" height="{_LANE}"></rect>')
        out.append(
            f'<text class="actor" x="6" y="{y + _LANE / 2 + 4:.0f}">'
            f"{_e(_fit(actor, label_w + 2))}</text>"
        )
    step = _tick_step(span, unit)
    for t in range(0, span + 1, step):
        x = label_w + t * unit
        out.append(
            f'<line class="grid" x1="{x:.1f}" y1="{_TOP - 4}" x2="{x:.1f}" y2="{height}"></line>'
        )
        out.append(f'<text class="tick" x="{x + 2:.1f}" y="{_TOP - 8}">{t0 + t}</text>')
    for op in ops:
        x = label_w + (op.start - t0) * unit + 1
        w = max((max(op.end, op.start) - op.start) * unit - 2, _MIN_BAR)
        top = lane_y[op.actor] + (_LANE - _BAR) / 2
        cls = "op violating" if op.violating else "op"
        # The actor is the lane's name already; the bar has more room without it.
        label = op.label[len(op.actor) + 1 :] if op.label.startswith(op.actor + " ") else op.label
        tip = f"{op.label} -> {op.result} (steps {op.start} to {op.end})"
        if op.violating:
            tip += ", violating"
        out.append(
            f'<g class="bar"><title>{_e(_clip(tip, 1000))}</title>'
            f'<rect class="{cls}" data-actor="{_e(op.actor)}" data-start="{op.start}" '
            f'data-end="{op.end}" x="{x:.1f}" y="{top:.0f}" width="{w:.1f}" height="{_BAR}" '
            'rx="3"></rect>'
        )
        first = _fit(label, w)
        second = _fit(f"\u2192 {op.result}", w)
        if first:
            out.append(f'<text x="{x + 4:.1f}" y="{top + 14:.0f}">{_e(first)}</text>')
        if second:
            out.append(
                f'<text class="result" x="{x + 4:.1f}" y="{top + 29:.0f}">{_e(second)}</text>'
            )
        out.append("</g>")
    out.append("</svg></div>")
    return "".join(out), omitted
