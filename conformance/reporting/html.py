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
"""

SCRIPT = """
(function () {
  "use strict";
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input[name=status]"));
  var select = document.getElementById("filter-class");
  var filtered = Array.prototype.slice.call(document.querySelectorAll("[data-status][data-class]"));
  var requirements = filtered.filter(function (el) { return el.classList.contains("requirement"); });
  var counter = document.getElementById("filter-count");
  function apply() {
    var wanted = {};
    boxes.forEach(function (box) { wanted[box.value] = box.checked; });
    var cls = select.value;
    var shown = 0;
    filtered.forEach(function (el) {
      var classes = el.getAttribute("data-class").split(" ");
      var visible = wanted[el.getAttribute("data-status")] === true &&
        (cls === "" || classes.indexOf(cls) >= 0);
      el.hidden = !visible;
      if (visible && el.classList.contains("requirement")) { shown += 1; }
    });
    counter.textContent = shown + " of " + requirements.length + " requirements shown";
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


def _failure(index: int, requirement: RequirementResult, failure: Failure, status: Status) -> str:
    parts = [
        f'<details class="failure" id="failure-{index}" open data-status="{esc(status.value)}" '
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


def _failures_section(result: RunResult) -> str:
    statuses = _operation_status_of(result)
    blocks: list[str] = []
    for requirement in result.requirements:
        for failure in requirement.failures:
            if requirement.status is Status.WAIVED:
                status = Status.WAIVED
            elif failure.operation is not None:
                status = statuses.get((requirement.id, failure.operation), Status.FAILED)
            else:
                status = Status.FAILED
            blocks.append(_failure(len(blocks) + 1, requirement, failure, status))
    if not blocks:
        return '<h2 id="failures">Failures</h2><p>No failure was recorded.</p>'
    return f'<h2 id="failures">Failures ({len(blocks)})</h2>\n' + "\n".join(blocks)


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


def trend_svg(points: list[TrendPoint], width: int = 640, height: int = 160) -> str:
    """Passed and failed requirement counts over the runs, as a small line chart."""
    pad = 28
    top = max([1, *(p.counts.get("passed", 0) for p in points), *(p.counts.get("failed", 0) for p in points)])
    step = (width - 2 * pad) / max(len(points) - 1, 1)

    def line(status: str) -> str:
        coords = []
        for index, point in enumerate(points):
            x = pad + index * step
            y = height - pad - (height - 2 * pad) * point.counts.get(status, 0) / top
            coords.append(f"{x:.1f},{y:.1f}")
        return " ".join(coords)

    circles = "".join(
        f'<circle cx="{pad + i * step:.1f}" '
        f'cy="{height - pad - (height - 2 * pad) * p.counts.get(s, 0) / top:.1f}" '
        f'r="3" fill="{c}"><title>{esc(p.run_id)}: {p.counts.get(s, 0)} {s}</title></circle>'
        for i, p in enumerate(points)
        for s, c in (("passed", "#1a7f37"), ("failed", "#cf222e"))
    )
    return (
        f'<svg id="trend-chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="passed and failed requirements per run">'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#d0d7de"/>'
        f'<text x="2" y="{pad}">{top}</text><text x="2" y="{height - pad}">0</text>'
        f'<polyline fill="none" stroke="#1a7f37" stroke-width="2" points="{line("passed")}"/>'
        f'<polyline fill="none" stroke="#cf222e" stroke-width="2" points="{line("failed")}"/>'
        f"{circles}"
        f'<text x="{pad}" y="{height - 6}">oldest</text>'
        f'<text x="{width - pad - 40}" y="{height - 6}">this run</text>'
        "</svg>"
    )


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


def _problems(result: RunResult) -> str:
    parts = []
    if result.errors:
        items = "".join(f"<li>{esc(e)}</li>" for e in result.errors)
        parts.append(f'<h2 id="errors">Errors ({len(result.errors)})</h2><ul class="errors">{items}</ul>')
    if result.stale_waivers:
        items = "".join(f"<li><b>{esc(s.reason)}</b>: {esc(describe(s.waiver))}</li>" for s in result.stale_waivers)
        parts.append(f'<h2 id="stale-waivers">Stale waivers ({len(result.stale_waivers)})</h2><ul>{items}</ul>')
    return "\n".join(parts)


def _filters(result: RunResult) -> str:
    boxes = "".join(
        f'<label><input type="checkbox" name="status" value="{esc(s.value)}" checked> {esc(s.value)} '
        f"({result.count(s)})</label>"
        for s in STATUSES
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
            _meta(result),
            _problems(result),
            _trend(points or []),
            _filters(result),
            _matrix(result),
            _operations(result),
            _failures_section(result),
            f"<script>{SCRIPT}</script>",
            "</body></html>",
        ]
    )


class HtmlReporter:
    name = "html"

    def write(self, result: RunResult, context: ReportContext) -> Path:
        return write_atomically(context.directory / FILENAME, render_html(result, trend(result, context.history_dir)))
