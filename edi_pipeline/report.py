"""The denial report: classified adjustments in, one self-contained HTML page out.

Charts are inline SVG drawn here (no script, no stylesheet or font fetched: the page works
offline and from a file), so the page is the same in a browser, an e-mail attachment or an
archive. It shows denied dollars by root cause, by payer and by drug over time, the top fixes by
dollars, and "closing the loop": from repeated denial patterns (the same payer denying the same
code for the same preventable reason) the scrub rule, as a ready-to-review TOML snippet, that
would have held those claims before they were sent.

``aggregate`` is pure (rows → ``Report``); ``render_html`` is pure (``Report`` → str).
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from edi_pipeline.ledger.remit import AdjustmentRow
from edi_pipeline.models import money

ZERO = Decimal("0.00")
DRUG_KINDS = frozenset({"drug", "drug_waste"})

#: scrub rule kind → hold category (models.HOLD_CATEGORIES)
CATEGORY = {
    "ndc_required": "ndc",
    "auth_required": "authorization",
    "frequency": "frequency",
    "unit_limit": "unit_limit",
    "bundling": "bundling",
    "diagnosis_coverage": "diagnosis_coverage",
    "site_of_care": "site_of_care",
    "documentation": "documentation",
    "biosimilar_first": "biosimilar",
    "step_therapy": "step_therapy",
}


@dataclass(frozen=True, slots=True)
class Fix:
    fix: str
    rule: str
    root_cause: str
    dollars: Decimal
    denials: int
    codes: tuple[str, ...]  # e.g. CO-16/M119


@dataclass(frozen=True, slots=True)
class Proposal:
    """A scrub rule that would have held the claims of one denial pattern."""

    payer: str
    kind: str
    procedure: str
    denials: int
    dollars: Decimal
    toml: str
    complete: bool  # False: parameters the 835 cannot tell are left for a person (commented out)


@dataclass
class Report:
    denied: Decimal = ZERO
    denials: int = 0
    adjustments: int = 0
    adjusted: Decimal = ZERO
    by_root_cause: dict[str, Decimal] = field(default_factory=dict)
    by_payer: dict[str, Decimal] = field(default_factory=dict)
    by_drug_month: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    fixes: list[Fix] = field(default_factory=list)
    proposals: list[Proposal] = field(default_factory=list)
    first: date | None = None
    last: date | None = None


def _month(row: AdjustmentRow) -> str | None:
    day = row.paid_on or row.service_date
    return f"{day.year:04d}-{day.month:02d}" if day else None


def _drug(row: AdjustmentRow) -> str | None:
    if row.line_kind not in DRUG_KINDS or not row.procedure:
        return None
    return f"{row.drug} ({row.procedure})" if row.drug else row.procedure


def aggregate(
    rows: Iterable[AdjustmentRow], *, min_denials: int = 2, today: date | None = None
) -> Report:
    rep = Report()
    fixes: dict[tuple[str, str], list] = {}
    patterns: dict[tuple[str, str, str], list[AdjustmentRow]] = defaultdict(list)
    claim_codes: dict[tuple[str, str, date | None], set[str]] = defaultdict(set)
    paid_units: dict[tuple[str, str], Decimal] = {}
    for row in rows:
        rep.adjustments += 1
        rep.adjusted += row.amount
        if row.procedure:
            claim_codes[(row.payer, row.patient_control_number, row.paid_on)].add(row.procedure)
        day = row.paid_on or row.service_date
        if day is not None:
            rep.first = day if rep.first is None or day < rep.first else rep.first
            rep.last = day if rep.last is None or day > rep.last else rep.last
        if not row.denial:
            if row.procedure and row.units is not None and row.amount >= 0:
                key = (row.payer, row.procedure)
                paid_units[key] = max(paid_units.get(key, Decimal(0)), abs(row.units))
            continue
        rep.denials += 1
        rep.denied += row.at_stake
        rep.by_root_cause[row.root_cause] = (
            rep.by_root_cause.get(row.root_cause, ZERO) + row.at_stake
        )
        rep.by_payer[row.payer] = rep.by_payer.get(row.payer, ZERO) + row.at_stake
        drug = _drug(row)
        month = _month(row)
        if drug and month:
            series = rep.by_drug_month.setdefault(drug, {})
            series[month] = series.get(month, ZERO) + row.at_stake
        entry = fixes.setdefault((row.rule, row.fix), [row.root_cause, ZERO, 0, set()])
        entry[1] += row.at_stake
        entry[2] += 1
        entry[3].add(f"{row.group}-{row.carc}" + "".join(f"/{r}" for r in row.rarcs))
        if row.prevent and row.procedure:
            patterns[(row.payer, row.prevent, row.procedure)].append(row)
    rep.fixes = sorted(
        (
            Fix(fix, rule, cause, dollars, n, tuple(sorted(codes)))
            for (rule, fix), (cause, dollars, n, codes) in fixes.items()
        ),
        key=lambda f: (-f.dollars, f.rule),
    )
    for (payer, kind, procedure), found in sorted(patterns.items()):
        if len(found) < min_denials:
            continue
        others = set()
        for r in found:
            others |= claim_codes[(r.payer, r.patient_control_number, r.paid_on)] - {procedure}
        rep.proposals.append(
            propose(
                payer, kind, procedure, found, others, paid_units.get((payer, procedure)), today
            )
        )
    rep.proposals.sort(key=lambda p: (-p.dollars, p.payer, p.procedure))
    return rep


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "payer"


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def propose(
    payer: str,
    kind: str,
    procedure: str,
    rows: list[AdjustmentRow],
    other_codes: set[str],
    max_paid_units: Decimal | None,
    today: date | None,
) -> Proposal:
    """The scrub rule (maps/payers/<payer>.toml ``[[rule]]``) that would have held these claims.

    Parameters the 835 can tell are filled in (codes, pairs, units); those it cannot (a policy's
    diagnosis list or dosing interval) are left commented out for a person to set, and the rule
    is marked ``verify = true`` either way: a pattern in remits is evidence, not the policy.
    """
    dollars = sum((r.at_stake for r in rows), ZERO)
    codes = sorted({f"{r.group}-{r.carc}" + "".join(f"/{x}" for x in r.rarcs) for r in rows})
    dates = sorted(d for d in (r.service_date or r.paid_on for r in rows) if d is not None)
    start = dates[0] if dates else (today or date.today())
    span = f"{dates[0]}..{dates[-1]}" if dates else "unknown dates"
    drug = next((r.drug for r in rows if r.drug), None)
    what = f"{procedure} ({drug})" if drug else procedure
    params: list[str] = []
    complete = True
    messages = {
        "ndc_required": f"{what} needs the 11-digit NDC with quantity and unit in loop 2410",
        "auth_required": f"{what} needs a prior authorization covering the date, product and units",
        "frequency": f"{what} given sooner than the payer's dosing interval",
        "unit_limit": f"{what}: units above what the payer pays",
        "bundling": f"{what} is not paid with "
        + (", ".join(sorted(other_codes)) or "the same-day service"),
        "diagnosis_coverage": f"{what} is covered only for the payer's listed diagnoses",
        "site_of_care": f"{what} is covered only in the payer's allowed places of service",
    }
    if kind == "bundling":
        if other_codes:
            params.append(f"column1 = [{', '.join(_q(c) for c in sorted(other_codes))}]")
            params.append(f"column2 = [{_q(procedure)}]")
            if all(r.line_kind == "em" for r in rows):
                params.append('bypass_modifiers = ["25"]   # a separately identifiable visit')
        else:
            complete = False
            params.append("# column1 = [...]   # the code it was bundled into: not in the 835")
            params.append(f"column2 = [{_q(procedure)}]")
    else:
        params.append(f"procedures = [{_q(procedure)}]")
    if kind == "unit_limit":
        if max_paid_units is not None:
            params.append(f"max_units = {max_paid_units}   # most units this payer paid for it")
            params.append('per = "line"')
        else:
            complete = False
            params.append("# max_units = ...   # no paid line of this code to learn it from")
    elif kind == "frequency":
        complete = False
        params.append("# cycle_interval_days = ...   # from the payer's dosing policy")
    elif kind == "diagnosis_coverage":
        complete = False
        params.append('# diagnoses = ["..."]   # covered ICD-10-CM families from the policy')
    elif kind == "site_of_care":
        complete = False
        params.append('# allowed_pos = ["11"]   # from the payer\'s site-of-care policy')
    rule_id = f"{_slug(payer)}-{procedure.lower()}-{kind.replace('_', '-')}-from-remits"
    message = messages.get(kind, f"{what}: denied by {payer} ({', '.join(codes)})")
    source = (
        f"edi-pipeline report: {len(rows)} denials {', '.join(codes)} by {payer} on {procedure}, "
        f"service dates {span}, {money(dollars)} at stake; confirm against the payer's policy"
    )
    lines = [
        "[[rule]]",
        f"id = {_q(rule_id)}",
        f"kind = {_q(kind)}",
        f"category = {_q(CATEGORY.get(kind, 'coding'))}",
        f"message = {_q(message)}",
        f"source = {_q(source)}",
        f"effective_from = {start.isoformat()}",
        "verify = true",
        *params,
    ]
    if not complete:
        lines = [f"# {ln}" if not ln.startswith("#") else ln for ln in lines]
        lines.insert(0, "# incomplete: set the commented parameter from the policy, then uncomment")
    return Proposal(payer, kind, procedure, len(rows), dollars, "\n".join(lines) + "\n", complete)


# ---------------------------------------------------------------------- HTML

PALETTE = ("#c0392b", "#2471a3", "#229954", "#b9770e", "#7d3c98", "#17a589", "#566573", "#d35400")


def dollars(value: Decimal) -> str:
    return f"${value.quantize(Decimal('0.01')):,}"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def bar_chart(chart_id: str, title: str, items: list[tuple[str, Decimal]]) -> str:
    """A horizontal bar chart; each bar carries its label and amount as data attributes."""
    width, label_w, bar_h, gap = 720, 220, 22, 8
    height = 30 + len(items) * (bar_h + gap) + 10
    top = max((v for _, v in items), default=ZERO) or Decimal(1)
    parts = [
        f'<svg id="{_e(chart_id)}" class="chart" xmlns="http://www.w3.org/2000/svg" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{_e(title)}">',
        f'<text x="0" y="18" class="chart-title">{_e(title)}</text>',
    ]
    for i, (label, value) in enumerate(items):
        y = 30 + i * (bar_h + gap)
        w = int((width - label_w - 120) * (value / top)) if value > 0 else 0
        parts.append(
            f'<g class="bar" data-label="{_e(label)}" data-value="{money(value)}">'
            f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end">{_e(label)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{max(w, 1)}" height="{bar_h}" '
            f'fill="{PALETTE[i % len(PALETTE)]}">'
            f"<title>{_e(label)}: {dollars(value)}</title></rect>"
            f'<text x="{label_w + max(w, 1) + 6}" y="{y + 16}">{dollars(value)}</text></g>'
        )
    if not items:
        parts.append('<text x="0" y="50">no denials</text>')
    parts.append("</svg>")
    return "".join(parts)


def line_chart(chart_id: str, title: str, series: dict[str, dict[str, Decimal]]) -> str:
    """Denied dollars per month, one line per drug (the six largest; the rest summed as other)."""
    ranked = sorted(series.items(), key=lambda kv: -sum(kv[1].values(), ZERO))
    shown = dict(ranked[:6])
    if len(ranked) > 6:
        rest: dict[str, Decimal] = {}
        for _, s in ranked[6:]:
            for m, v in s.items():
                rest[m] = rest.get(m, ZERO) + v
        shown["other drugs"] = rest
    months = sorted({m for s in shown.values() for m in s})
    width, height, left, bottom, top_pad = 720, 300, 70, 40, 30
    plot_w, plot_h = width - left - 170, height - bottom - top_pad
    top = max((v for s in shown.values() for v in s.values()), default=ZERO) or Decimal(1)
    parts = [
        f'<svg id="{_e(chart_id)}" class="chart" xmlns="http://www.w3.org/2000/svg" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{_e(title)}">',
        f'<text x="0" y="18" class="chart-title">{_e(title)}</text>',
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" y2="{top_pad + plot_h}" '
        'stroke="#999"/>',
        f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{top_pad + plot_h}" stroke="#999"/>',
        f'<text x="{left - 6}" y="{top_pad + 10}" text-anchor="end">{dollars(top)}</text>',
        f'<text x="{left - 6}" y="{top_pad + plot_h}" text-anchor="end">$0</text>',
    ]

    def x_of(i: int) -> float:
        return left + (plot_w * (i + 0.5) / len(months) if months else 0)

    for i, m in enumerate(months):
        parts.append(
            f'<text x="{x_of(i):.1f}" y="{top_pad + plot_h + 18}" text-anchor="middle">{m}</text>'
        )
    for n, (drug, s) in enumerate(shown.items()):
        color = PALETTE[n % len(PALETTE)]
        pts = []
        for i, m in enumerate(months):
            v = s.get(m, ZERO)
            pts.append((x_of(i), top_pad + plot_h - float(plot_h * (v / top)), m, v))
        parts.append(
            f'<g class="series" data-label="{_e(drug)}" '
            f'data-value="{money(sum(s.values(), ZERO))}">'
            f'<polyline fill="none" stroke="{color}" stroke-width="2" points="'
            + " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in pts)
            + '"/>'
            + "".join(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{color}">'
                f"<title>{_e(drug)} {m}: {dollars(v)}</title></circle>"
                for x, y, m, v in pts
            )
            + f'<rect x="{left + plot_w + 14}" y="{top_pad + n * 20}" width="12" height="12" '
            f'fill="{color}"/><text x="{left + plot_w + 32}" y="{top_pad + n * 20 + 11}">'
            f"{_e(drug)}</text></g>"
        )
    if not shown:
        parts.append(f'<text x="{left + 10}" y="{top_pad + 40}">no drug denials</text>')
    parts.append("</svg>")
    return "".join(parts)


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#222;
max-width:1100px}
h1{margin-bottom:.2rem} .muted{color:#666} .chart{display:block;margin:1rem 0 2rem}
.chart text{font-size:12px;fill:#222} .chart .chart-title{font-size:15px;font-weight:600}
table{border-collapse:collapse;margin:1rem 0 2rem;width:100%} th,td{border-bottom:1px solid #ddd;
padding:.35rem .5rem;text-align:left;vertical-align:top} td.num,th.num{text-align:right;
font-variant-numeric:tabular-nums} .totals{display:flex;gap:2rem;margin:1rem 0}
.totals div{background:#f4f6f7;padding:.7rem 1rem;border-radius:6px}
.totals strong{display:block;font-size:1.4rem} pre{background:#f8f9f9;border:1px solid #ddd;
padding:.8rem;overflow:auto}
"""


def render_html(rep: Report, *, title: str, generated: str, sources: list[str]) -> str:
    causes = sorted(rep.by_root_cause.items(), key=lambda kv: (-kv[1], kv[0]))
    payers = sorted(rep.by_payer.items(), key=lambda kv: (-kv[1], kv[0]))
    period = f"{rep.first} to {rep.last}" if rep.first else "no dated remits"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="muted">Generated {_e(generated)} from {_e(", ".join(sources))}; '
        f"period {_e(period)}.</p>",
        '<section class="totals">',
        f'<div>Denied dollars<strong id="total-denied" data-value="{money(rep.denied)}">'
        f"{dollars(rep.denied)}</strong></div>",
        f'<div>Denied adjustments<strong id="total-denials">{rep.denials}</strong></div>',
        f'<div>All adjustments<strong id="total-adjusted" data-value="{money(rep.adjusted)}">'
        f"{dollars(rep.adjusted)}</strong></div>",
        "</section>",
        "<h2>Denied dollars by root cause</h2>",
        bar_chart("chart-root-cause", "Denied dollars by root cause", causes),
        '<table id="table-root-cause"><thead><tr><th>Root cause</th>'
        '<th class="num">Denied</th></tr></thead><tbody>',
        *(
            f'<tr data-root-cause="{_e(c)}"><td>{_e(c)}</td>'
            f'<td class="num" data-value="{money(v)}">{dollars(v)}</td></tr>'
            for c, v in causes
        ),
        "</tbody></table>",
        "<h2>Denied dollars by payer</h2>",
        bar_chart("chart-payer", "Denied dollars by payer", payers),
        "<h2>Denied dollars by drug over time</h2>",
        line_chart("chart-drug-time", "Denied dollars by drug and month", rep.by_drug_month),
        "<h2>Top fixes by dollars</h2>",
        '<table id="table-fixes"><thead><tr><th>Fix</th><th>Root cause</th><th>Codes</th>'
        '<th class="num">Denials</th><th class="num">Dollars</th></tr></thead><tbody>',
        *(
            f'<tr data-rule="{_e(f.rule)}"><td>{_e(f.fix)}</td><td>{_e(f.root_cause)}</td>'
            f'<td>{_e(", ".join(f.codes))}</td><td class="num">{f.denials}</td>'
            f'<td class="num" data-value="{money(f.dollars)}">{dollars(f.dollars)}</td></tr>'
            for f in rep.fixes[:25]
        ),
        "</tbody></table>",
        "<h2>Closing the loop: scrub rules these denials suggest</h2>",
        '<p class="muted">Each pattern is one payer denying one code for a reason a scrub rule '
        "can catch before the claim is sent. Review the snippet against the payer's policy, then "
        "add it to <code>maps/payers/&lt;payer&gt;.toml</code>.</p>",
    ]
    if rep.proposals:
        for p in rep.proposals:
            out.append(
                f'<section class="proposal" data-kind="{_e(p.kind)}" data-procedure='
                f'"{_e(p.procedure)}"><h3>{_e(p.payer)}: {_e(p.procedure)} ({_e(p.kind)}), '
                f"{p.denials} denials, {dollars(p.dollars)}</h3><pre>{_e(p.toml)}</pre></section>"
            )
    else:
        out.append('<p id="no-proposals">No repeated preventable denial pattern yet.</p>')
    out.append("</body></html>")
    return "\n".join(out) + "\n"
