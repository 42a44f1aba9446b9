"""`report.html`: the whole run in one file that opens offline.

No external asset of any kind: CSS and the small filtering script are inline, the trend is an
inline SVG. Everything is rendered here, in Python, with every string escaped — response bodies
come from the target, and a hostile target must not be able to run script in the reader's
browser. A Content-Security-Policy allowing only this file's own script (by hash) and no network
is the second fence behind the escaping.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from conformance.contract.catalog import CLASSES
from conformance.reporting import ReportContext, write_atomically
from conformance.reporting.causes import expected_vs_actual, group_errors
from conformance.reporting.history import TrendPoint, trend
from conformance.results import Failure, RecordedExchange, RequirementResult, RunResult, Status
from conformance.waivers import describe

FILENAME = "report.html"
STATUSES = (Status.FAILED, Status.WAIVED, Status.PASSED, Status.SKIPPED, Status.NOT_APPLICABLE)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

STYLE = """
:root { --pass: #1a7f37; --fail: #cf222e; --error: #9a6700; --waived: #8250df; --muted: #57606a; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1200px;
       padding: 0 1.5rem 3rem; color: #1f2328; }
h1 { margin: 1.2rem 0 .4rem; font-size: 1.5rem; }
h2 { margin-top: 2rem; border-bottom: 1px solid #d0d7de; padding-bottom: .3rem; font-size: 1.2rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
th, td { border: 1px solid #d0d7de; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.mark { text-align: center; width: 4.5rem; }
pre { background: #f6f8fa; padding: .6rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all;
      margin: .3rem 0; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
.verdict { font-size: 1.6rem; font-weight: 700; padding: .6rem 1rem; border-radius: 6px; color: #fff;
           display: inline-block; }
.verdict-pass { background: var(--pass); } .verdict-fail { background: var(--fail); }
.verdict-error, .verdict-interrupted { background: var(--error); }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 1rem; font-size: 12px; color: #fff;
         background: var(--muted); white-space: nowrap; }
.s-passed { background: var(--pass); } .s-failed { background: var(--fail); }
.s-waived { background: var(--waived); } .s-skipped, .s-not-applicable { background: var(--muted); }
.meta td:first-child { width: 12rem; color: var(--muted); }
.cards { display: flex; gap: .6rem; flex-wrap: wrap; margin: 1rem 0; }
.card { border: 1px solid #d0d7de; border-radius: 6px; padding: .4rem .9rem; min-width: 7rem; }
.card b { font-size: 1.3rem; display: block; }
.filters { position: sticky; top: 0; background: #fff; padding: .5rem 0; border-bottom: 1px solid #d0d7de;
           z-index: 1; }
.filters label { margin-right: .8rem; }
details.failure { border: 1px solid #d0d7de; border-left: 4px solid var(--fail); border-radius: 4px;
                  padding: .4rem .8rem; margin: .6rem 0; }
details.failure[data-status="waived"] { border-left-color: var(--waived); }
details.failure summary { cursor: pointer; font-weight: 600; }
.statement { color: var(--muted); font-style: italic; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: .8rem; }
@media (max-width: 800px) { .grid { grid-template-columns: 1fr; } }
svg text { font-size: 11px; fill: var(--muted); }
.s-error { background: var(--error); }
ul.errors { padding-left: 1.2rem; }
li.error-group { margin: .3rem 0; }
li.error-group details { margin-left: 1rem; color: var(--muted); }
.trend-panel { display: block; margin: .2rem 0; }
"""

SCRIPT = """
(function () {
  "use strict";
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input[name=status]"));
  var select = document.getElementById("filter-class");
  var filtered = Array.prototype.slice.call(document.querySelectorAll("[data-status][data-class]"));
  var requirements = filtered.filter(function (el) { return el.classList.contains("requirement"); });
  var errors = filtered.filter(function (el) { return el.classList.contains("error-group"); });
  var counter = document.getElementById("filter-count");
  function apply() {
    var wanted = {};
    boxes.forEach(function (box) { wanted[box.value] = box.checked; });
    var cls = select.value;
    var shown = 0;
    var errorsShown = 0;
    filtered.forEach(function (el) {
      var classes = el.getAttribute("data-class").split(" ");
      var visible = wanted[el.getAttribute("data-status")] === true &&
        (cls === "" || classes.indexOf(cls) >= 0);
      el.hidden = !visible;
      if (visible && el.classList.contains("requirement")) { shown += 1; }
      if (visible && el.classList.contains("error-group")) { errorsShown += 1; }
    });
    counter.textContent = shown + " of " + requirements.length + " requirements shown" +
      (errors.length ? ", " + errorsShown + " of " + errors.length + " error causes" : "");
  }
  // A link may preset the filters: report.html#status=failed,waived&class=auth
  var preset = {};
  location.hash.replace(/^#/, "").split("&").forEach(function (pair) {
    var parts = pair.split("=");
    if (parts.length === 2) { preset[decodeURIComponent(parts[0])] = decodeURIComponent(parts[1]); }
  });
  if (preset.status) {
    var statuses = preset.status.split(",");
    boxes.forEach(function (box) { box.checked = statuses.indexOf(box.value) >= 0; });
  }
  if (preset["class"]) { select.value = preset["class"]; }
  boxes.forEach(function (box) { box.addEventListener("change", apply); });
  select.addEventListener("change", apply);
  apply();
  document.body.setAttribute("data-ready", "true");
})();
"""


def esc(value: object) -> str:
    """Escaped for text and for quoted attributes; control characters made visible."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))
    return html.escape(text, quote=True)


def badge(status: Status | str) -> str:
    value = status.value if isinstance(status, Status) else str(status)
    return f'<span class="badge s-{esc(value)}">{esc(value)}</span>'


def _headers(headers: dict[str, str]) -> str:
    return "\n".join(f"{name}: {value}" for name, value in headers.items())


def _exchange(exchange: RecordedExchange) -> str:
    request = f"{exchange.method} {exchange.url}\n{_headers(exchange.request_headers)}"
    if exchange.request_body:
        request += f"\n\n{exchange.request_body}"
    status = exchange.status if exchange.status is not None else "(no response)"
    elapsed = f" in {exchange.elapsed_ms:.0f} ms" if exchange.elapsed_ms is not None else ""
    response = f"{status}{elapsed}\n{_headers(exchange.response_headers)}"
    if exchange.response_body:
        response += f"\n\n{exchange.response_body}"
    return (
        '<div class="grid">'
        f'<div><h3>Request</h3><pre class="request"><code>{esc(request)}</code></pre></div>'
        f'<div><h3>Response</h3><pre class="response"><code>{esc(response)}</code></pre></div>'
        "</div>"
    )


def _failure(index: int, requirement: RequirementResult, failure: Failure, status: Status, opened: bool = True) -> str:
    parts = [
        f'<details class="failure" id="failure-{index}"{" open" if opened else ""} data-status="{esc(status.value)}" '
        f'data-class="{esc(requirement.requirement.cls)}">',
        f"<summary>{badge(status)} {esc(requirement.id)} · {esc(failure.operation or '(run)')} · "
        f"{esc(failure.title)}</summary>",
        f'<p class="statement">{esc(requirement.id)} ({esc(requirement.requirement.level.value)}): '
        f"{esc(requirement.requirement.statement)}</p>",
        f'<p class="statement">Likely causes and first checks: {esc(requirement.requirement.troubleshooting)}</p>'
        if requirement.requirement.troubleshooting
        else "",
        f'<p class="message">{esc(failure.message)}</p>',
        f"<p>severity {esc(failure.severity.value)} · check <code>{esc(failure.check)}</code>"
        + (f" · test <code>{esc(failure.test_id)}</code>" if failure.test_id else "")
        + "</p>",
    ]
    if status is Status.WAIVED and requirement.waiver is not None:
        parts.append(f'<p class="waiver">{esc(describe(requirement.waiver))}</p>')
    if failure.exchange is not None:
        parts.append(_exchange(failure.exchange))
    if failure.curl:
        parts.append(f'<h3>Reproduce</h3><pre class="curl"><code>{esc(failure.curl)}</code></pre>')
    parts.append(failure_replay_html(failure))
    parts.append("</details>")
    return "\n".join(parts)


def failure_replay_html(failure: Failure) -> str:
    """The failure's cause in one line, its replay command and its steps (each escaped), in order."""
    parts = [f'<p class="cause">{esc(failure.cause)}</p>']
    if failure.steps:
        parts.append(f'<p class="replay">replay: <code>phase2-conformance replay {esc(failure.id)}</code></p>')
    if len(failure.steps) > 1 or failure.steps_dropped:
        dropped = f" ({failure.steps_dropped} earlier not kept)" if failure.steps_dropped else ""
        items = []
        for step in failure.steps:
            expected = f" · expected {esc(step.expected)}" if step.expected else ""
            body = f" · body <code>{esc(step.request_body_file)}</code>" if step.request_body_file else ""
            items.append(
                f"<li><code>{esc(step.method)} {esc(step.url)}</code> → {esc(str(step.status))}"
                f"{expected} · token {esc(step.credential)}{body}</li>"
            )
        parts.append(f'<h3>Steps{dropped}</h3><ol class="steps">{"".join(items)}</ol>')
    return "\n".join(parts)


def _operation_status_of(result: RunResult) -> dict[tuple[str, str], Status]:
    return {(rid, o.label): status for o in result.operations for rid, status in o.requirements.items()}


OPEN_FAILURES = 10  # more failure cards than this start folded: the list above them leads


def _failed_requirements(result: RunResult) -> str:
    """One row per failed or waived requirement: where it failed and what was expected against what
    came back, each linking to its first failure card."""
    rows = []
    index = 0
    for requirement in result.requirements:
        if not requirement.failures:
            continue
        first = index + 1
        index += len(requirement.failures)
        if requirement.status not in (Status.FAILED, Status.WAIVED):
            continue
        operations = sorted({f.operation or "(run)" for f in requirement.failures})
        where = ", ".join(operations[:3]) + (f" and {len(operations) - 3} more" if len(operations) > 3 else "")
        rows.append(
            f'<tr class="failed-requirement" data-status="{esc(requirement.status.value)}" '
            f'data-class="{esc(requirement.requirement.cls)}">'
            f'<td><a href="#failure-{first}"><b>{esc(requirement.id)}</b></a></td>'
            f"<td>{badge(requirement.status)} {esc(requirement.failures[0].severity.value)}</td>"
            f"<td>{esc(where)}</td><td>{esc(expected_vs_actual(requirement.failures[0]))}"
            + (f" <small>(+{len(requirement.failures) - 1} more)</small>" if len(requirement.failures) > 1 else "")
            + "</td></tr>"
        )
    if not rows:
        return ""
    return (
        '<table id="failed-requirements"><thead><tr><th>requirement</th><th>status</th><th>where</th>'
        f"<th>expected vs actual</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _failures_section(result: RunResult) -> str:
    statuses = _operation_status_of(result)
    total = sum(len(r.failures) for r in result.requirements)
    blocks: list[str] = []
    for requirement in result.requirements:
        for failure in requirement.failures:
            if requirement.status is Status.WAIVED:
                status = Status.WAIVED
            elif failure.operation is not None:
                status = statuses.get((requirement.id, failure.operation), Status.FAILED)
            else:
                status = Status.FAILED
            blocks.append(_failure(len(blocks) + 1, requirement, failure, status, opened=total <= OPEN_FAILURES))
    if not blocks:
        return '<h2 id="failures">Failures</h2><p>No failure was recorded.</p>'
    failed = sum(1 for r in result.requirements if r.status is Status.FAILED)
    return (
        f'<h2 id="failures">Failures ({len(blocks)} on {failed} failed requirement{"s" if failed != 1 else ""})</h2>\n'
        + _failed_requirements(result)
        + "\n"
        + "\n".join(blocks)
    )


def _matrix(result: RunResult) -> str:
    by_class: dict[str, list[RequirementResult]] = {}
    for requirement in result.requirements:
        by_class.setdefault(requirement.requirement.cls, []).append(requirement)
    head = "".join(f"<th>{esc(s.value)}</th>" for s in STATUSES)
    parts = ['<h2 id="matrix">Conformance matrix</h2>']
    for cls in [c for c in CLASSES if c in by_class] + sorted(set(by_class) - set(CLASSES)):
        counts = Counter(r.status for r in by_class[cls])
        summary = ", ".join(f"{counts[s]} {s.value}" for s in STATUSES if counts[s])
        parts.append(f'<h3 class="class-heading">{esc(cls)} <small>({esc(summary)})</small></h3>')
        parts.append(
            f"<table><thead><tr><th>requirement</th><th>level</th>{head}<th>statement · detail</th></tr></thead><tbody>"
        )
        for requirement in by_class[cls]:
            marks = "".join(f'<td class="mark">{badge(s) if requirement.status is s else ""}</td>' for s in STATUSES)
            detail = []
            if requirement.reason:
                detail.append(esc(requirement.reason))
            if requirement.operations:
                detail.append(
                    f"judged on {len(requirement.operations)} operation(s), {requirement.evaluations} evaluations"
                )
            if requirement.failures:
                detail.append(f'<a href="#failures">{len(requirement.failures)} failure(s)</a>')
            parts.append(
                f'<tr class="requirement" id="req-{esc(requirement.id)}" '
                f'data-status="{esc(requirement.status.value)}" '
                f'data-class="{esc(cls)}"><td><b>{esc(requirement.id)}</b></td>'
                f"<td>{esc(requirement.requirement.level.value)}</td>{marks}"
                f"<td>{esc(requirement.requirement.statement)}"
                + (f"<br><small>{' · '.join(detail)}</small>" if detail else "")
                + "</td></tr>"
            )
        parts.append("</tbody></table>")
    return "\n".join(parts)


def _operations(result: RunResult) -> str:
    classes_of = {r.id: r.requirement.cls for r in result.requirements}
    rows = []
    for operation in result.operations:
        counts = Counter(operation.requirements.values())
        failing = sorted(rid for rid, s in operation.requirements.items() if s is Status.FAILED)
        waived = sorted(rid for rid, s in operation.requirements.items() if s is Status.WAIVED)
        classes = " ".join(sorted({classes_of.get(rid, "") for rid in operation.requirements} - {""}))
        cells = "".join(f"<td>{counts[s]}</td>" for s in STATUSES)
        notes = []
        if failing:
            notes.append("failed: " + ", ".join(f'<a href="#req-{esc(r)}">{esc(r)}</a>' for r in failing))
        if waived:
            notes.append("waived: " + ", ".join(f'<a href="#req-{esc(r)}">{esc(r)}</a>' for r in waived))
        rows.append(
            f'<tr class="operation" data-status="{esc(operation.status.value)}" data-class="{esc(classes)}">'
            f"<td><code>{esc(operation.label)}</code><br><small>{esc(operation.operation_id)}</small></td>"
            f"<td>{badge(operation.status)}</td><td>{operation.requests}</td>{cells}"
            f"<td>{' · '.join(notes)}</td></tr>"
        )
    head = "".join(f"<th>{esc(s.value)}</th>" for s in STATUSES)
    return (
        '<h2 id="operations">Operations</h2>'
        f"<table><thead><tr><th>operation</th><th>status</th><th>requests</th>{head}<th>requirements</th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
    )


TREND_SERIES = (("failed", "#cf222e"), ("passed", "#1a7f37"))


def _scale_top(values: list[int]) -> int:
    """The top of a panel's axis: its own largest value (at least 1), so 0 → 3 spans the panel."""
    return max([1, *values])


def _date_label(finished_at: str) -> str:
    """`2026-01-15 10:00` from an RFC 3339 time, or what there is."""
    return finished_at[:16].replace("T", " ") if len(finished_at) >= 16 else finished_at or "?"


def trend_svg(points: list[TrendPoint], width: int = 720, panel_height: int = 110) -> str:
    """Failed and passed requirements per run, each in a panel with its own scale (a change from 0
    to 3 failures is the panel's whole height, not 3/82 of a shared one), dated on the x axis."""
    left, right, top_pad, bottom = 44, 16, 14, 34
    plot_width = width - left - right
    plot_height = panel_height - top_pad - bottom
    step = plot_width / max(len(points) - 1, 1)
    # Dates under at most 6 points (the first and the last always), so labels never overlap.
    every = max(1, -(-len(points) // 6))
    labelled = {i for i in range(len(points)) if i % every == 0} | {len(points) - 1}
    panels = []
    for name, colour in TREND_SERIES:
        values = [p.counts.get(name, 0) for p in points]
        top = _scale_top(values)

        def y(value: int, top: int = top) -> float:
            return top_pad + plot_height - plot_height * value / top

        coords = " ".join(f"{left + i * step:.1f},{y(v):.1f}" for i, v in enumerate(values))
        circles = "".join(
            f'<circle cx="{left + i * step:.1f}" cy="{y(v):.1f}" r="3" fill="{colour}">'
            f"<title>{esc(p.run_id)} ({esc(_date_label(p.finished_at))}): {v} {name}</title></circle>"
            for i, (p, v) in enumerate(zip(points, values, strict=True))
        )
        ticks = sorted({0, top // 2, top}) if top > 1 else [0, 1]
        grid = "".join(
            f'<line x1="{left}" y1="{y(t):.1f}" x2="{width - right}" y2="{y(t):.1f}" stroke="#d0d7de"/>'
            f'<text class="tick" x="{left - 6}" y="{y(t) + 4:.1f}" text-anchor="end">{t}</text>'
            for t in ticks
        )
        dates = "".join(
            f'<text class="date" x="{left + i * step:.1f}" y="{panel_height - 8}" text-anchor="middle">'
            f"{esc(_date_label(points[i].finished_at))}</text>"
            for i in sorted(labelled)
        )
        panels.append(
            f'<svg class="trend-panel" id="trend-{name}" xmlns="http://www.w3.org/2000/svg" width="{width}" '
            f'height="{panel_height}" viewBox="0 0 {width} {panel_height}" role="img" '
            f'aria-label="{name} requirements per run, 0 to {top}" data-top="{top}">'
            f'<text x="{left}" y="10" font-weight="600">{name} requirements (scale 0–{top})</text>'
            f"{grid}"
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{coords}"/>'
            f"{circles}{dates}</svg>"
        )
    return f'<div id="trend-chart">{"".join(panels)}</div>'


def _trend(points: list[TrendPoint]) -> str:
    if not points:
        return ""
    head = "".join(f"<th>{esc(s.value)}</th>" for s in STATUSES)
    rows = "".join(
        f"<tr><td><code>{esc(p.run_id)}</code></td><td>{esc(p.finished_at)}</td><td>{badge(p.verdict)}</td>"
        + "".join(f"<td>{p.counts.get(s.value, 0)}</td>" for s in STATUSES)
        + "</tr>"
        for p in reversed(points)
    )
    return (
        f'<h2 id="trend">Trend over {len(points)} runs</h2>{trend_svg(points)}'
        f'<table id="trend-table"><thead><tr><th>run</th><th>finished</th><th>verdict</th>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def _meta(result: RunResult) -> str:
    rows: Iterable[tuple[str, object]] = (
        ("target", f"{result.target}{' (embedded reference)' if result.reference else ''}"),
        ("profile", result.profile),
        ("seed", result.seed),
        ("feature flags", ", ".join(result.feature_flags) or "(none)"),
        ("classes", ", ".join(result.classes)),
        ("fails the gate", f"{result.fail_on.upper()} failures"),
        ("contract SHA-256", result.contract_sha256),
        ("catalog version", result.catalog_version),
        ("suite version", result.suite_version),
        ("run", result.run_id),
        (
            "started · finished",
            f"{result.started_at} · {result.finished_at} ({result.duration_seconds:.1f}s)",
        ),
        ("requests sent", result.requests_sent),
        ("exit code", result.exit_code),
    )
    return (
        '<table class="meta">' + "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in rows) + "</table>"
    )


def _errors(result: RunResult) -> str:
    """The run's errors by cause: one item per cause, naming (and linking) every requirement it
    left unverified; each item carries the classes of those requirements, so the filters apply."""
    if not result.errors:
        return ""
    classes_of = {r.id: r.requirement.cls for r in result.requirements}
    every_class = " ".join(sorted(set(classes_of.values())))
    items = []
    for group in group_errors(result.errors):
        classes = " ".join(sorted({classes_of[r] for r in group.requirements if r in classes_of})) or every_class
        if group.requirements:
            count = len(group.requirements)
            links = ", ".join(f'<a href="#req-{esc(r)}">{esc(r)}</a>' for r in group.requirements)
            head = (
                f"<b>{count} requirement{'s' if count != 1 else ''} not verified</b> because "
                f"{esc(group.cause)}: {links}"
            )
        else:
            head = esc(group.headline)
        each = ""
        if len(group.errors) > 1 or group.requirements:
            listed = "".join(f"<li>{esc(e)}</li>" for e in group.errors)
            each = f"<details><summary>each error ({len(group.errors)})</summary><ul>{listed}</ul></details>"
        items.append(f'<li class="error-group" data-status="error" data-class="{esc(classes)}">{head}{each}</li>')
    return (
        f'<section id="errors"><h2>Errors ({len(result.errors)}, {_causes(len(items))})</h2>'
        f'<ul class="errors">{"".join(items)}</ul></section>'
    )


def _causes(count: int) -> str:
    return f"{count} cause{'s' if count != 1 else ''}"


def _stale_waivers(result: RunResult) -> str:
    if not result.stale_waivers:
        return ""
    items = "".join(f"<li><b>{esc(s.reason)}</b>: {esc(describe(s.waiver))}</li>" for s in result.stale_waivers)
    return f'<h2 id="stale-waivers">Stale waivers ({len(result.stale_waivers)})</h2><ul>{items}</ul>'


def _filters(result: RunResult) -> str:
    boxes = "".join(
        f'<label><input type="checkbox" name="status" value="{esc(s.value)}" checked> {esc(s.value)} '
        f"({result.count(s)})</label>"
        for s in STATUSES
    )
    if result.errors:
        boxes += (
            '<label><input type="checkbox" name="status" value="error" checked> errors '
            f"({_causes(len(group_errors(result.errors)))})</label>"
        )
    present = {r.requirement.cls for r in result.requirements}
    options = "".join(f'<option value="{esc(c)}">{esc(c)}</option>' for c in CLASSES if c in present)
    return (
        f'<div class="filters" id="filters">{boxes}<label>class <select id="filter-class">'
        f'<option value="">all</option>{options}</select></label> <span id="filter-count"></span></div>'
    )


def render_html(result: RunResult, points: list[TrendPoint] | None = None) -> str:
    verdict_text = result.headline
    script_hash = base64.b64encode(hashlib.sha256(SCRIPT.encode("utf-8")).digest()).decode("ascii")
    csp = f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{script_hash}'"
    cards = "".join(
        f'<div class="card" data-count="{esc(s.value)}"><b>{result.count(s)}</b>{badge(s)}</div>' for s in STATUSES
    )
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{esc(csp)}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>Phase 2 conformance: {esc(verdict_text)} · {esc(result.run_id)}</title>",
            f"<style>{STYLE}</style></head><body>",
            "<h1>Phase 2 conformance report</h1>",
            f'<div id="verdict" class="verdict verdict-{esc(result.verdict.value)}" '
            f'data-verdict="{esc(result.verdict.value)}">{esc(verdict_text)}</div>',
            f'<div class="cards">{cards}</div>',
            # What a vendor fixes first, first: the failures, the causes of the errors; then the matrix.
            _filters(result),
            _failures_section(result),
            _errors(result),
            _matrix(result),
            _operations(result),
            _trend(points or []),
            _stale_waivers(result),
            '<h2 id="run">Run</h2>',
            _meta(result),
            f"<script>{SCRIPT}</script>",
            "</body></html>",
        ]
    )


class HtmlReporter:
    name = "html"

    def write(self, result: RunResult, context: ReportContext) -> Path:
        return write_atomically(context.directory / FILENAME, render_html(result, trend(result, context.history_dir)))
