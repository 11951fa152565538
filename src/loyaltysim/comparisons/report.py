"""A comparison as a report: ``report.html`` with its figures and tables.

`write_report` writes a self-contained ``report.html`` (figures embedded as base64 PNG, so it opens offline and can be
mailed), the same figures as PNG files, the comparison table as CSV and Parquet, the per-replication metrics and the
raw per-replication time series as Parquet. It takes a `Comparison` without importing it (arrows point down).
"""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loyaltysim.comparisons.text import (
    DECISION_HEAD,
    HEADLINE,
    decision_cells,
    draw_lines,
    format_value,
    half_width,
    header,
    market_lines,
    uncertainty_line,
    variant_columns,
    verdict,
)
from loyaltysim.runs.files import output_folder
from loyaltysim.runs.metrics import COMPARISON_METRICS, METRICS
from loyaltysim.scenario import Scenario, dotted_values

if TYPE_CHECKING:
    from loyaltysim.comparisons.comparison import Comparison

__all__ = ["CSS", "FIGURES", "report_html", "scenario_changes", "write_report"]

FIGURES = {
    "profit_difference": "Cumulative profit, difference to the baseline: payback is where the band crosses zero",
    "retention_difference": "Retention of the starting base, difference to the baseline",
    "active": "Active customers",
    "retention": "Retention of the starting customer base",
    "cumulative_profit": "Cumulative profit",
    "nps": "Net Promoter Score",
    "stages": "Customers by CX Spectrum stage",
    "differences": "Differences to the baseline at the horizon",
    "tornado": "What the verdict hinges on: each lever's value difference with one assumption at its low or high end",
}
"""Figures of the report: file stem -> caption."""


def scenario_changes(baseline: Scenario, variant: Scenario) -> list[tuple[str, Any, Any]]:
    """Parameters a variant sets differently from the baseline, interventions left out: ``(key, base, variant)``."""
    skip = {"name", "description", "interventions", "source"}
    a = dotted_values(baseline.model_dump(exclude=skip))
    b = dotted_values(variant.model_dump(exclude=skip))
    return [(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


def _levers(iv: Any) -> str:
    parts = []
    for lever, ch in iv.changes().items():
        if ch.set is not None:
            parts.append(f"{lever} = {ch.set:g}")
        elif ch.scale is not None:
            parts.append(f"{lever} × {ch.scale:g} ({(ch.scale - 1) * 100:+.0f} %)")
        else:
            parts.append(f"{lever} {ch.add:+g}")
    return ", ".join(parts) or "no level change"


# ---------------------------------------------------------------------------------------------------------------
# Figures and the HTML report


def _figures(c: Comparison) -> dict[str, bytes]:
    from matplotlib.figure import Figure

    out = {}

    def png(fig: Figure) -> bytes:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
        return buf.getvalue()

    for series in ("profit_difference", "retention_difference", "active", "retention", "cumulative_profit", "nps"):
        fig = Figure(figsize=(7.5, 4.2), layout="constrained")
        c.plot(series, ax=fig.subplots())
        out[series] = png(fig)
    fig = Figure(figsize=(3.4 * len(c.scenarios), 3.8), layout="constrained")
    c.plot_stages(fig.subplots(1, len(c.scenarios), sharey=True, squeeze=False)[0])
    out["stages"] = png(fig)
    fig = Figure(figsize=(11, 0.9 + 0.45 * len(c.scenarios)), layout="constrained")
    axes = fig.subplots(1, 3)
    for ax, metric in zip(axes, ("retention", "profit", "roi"), strict=True):
        c.plot_differences(metric, ax=ax)
        ax.title.set_fontsize("small")
    out["differences"] = png(fig)
    if c.tornado is not None:
        fig = Figure(figsize=(10.5, 1.2 + 2.6 * (len(c.scenarios) - 1)), layout="constrained")
        c.plot_tornado(fig.subplots(len(c.scenarios) - 1, 1, squeeze=False)[:, 0])
        out["tornado"] = png(fig)
    return out


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}h1{font-size:1.6em}h2{margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}th,td{padding:.25em .6em;border-bottom:1px solid #eee}
th{text-align:left;background:#f6f6f6}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.sure{font-weight:600}.pays{color:#238b45}.loses{color:#c0392b}.unclear{color:#7f7f7f}
.wide{overflow-x:auto}figure{margin:1.2em 0}figcaption{font-size:.9em;color:#555}img{max-width:100%}small{color:#666}
"""
"""Style of the self-contained HTML reports (the calibration report adds to it)."""


def _td(text: str, cls: str = "n") -> str:
    return f'<td class="{cls}">{html.escape(text)}</td>'


def _html_block(c: Comparison, month: float, metrics: list[str]) -> str:
    df = c.to_frame(metrics)
    df = df[df["month"] == month]
    head = "".join(
        f"<th>{html.escape(h)}</th>"
        for h in ["metric", "unit", f"{c.baseline} mean ± CI", *(f"{n}: difference ± CI" for n in c.names[1:])]
    )
    body = []
    for m in metrics:
        part = df[df["metric"] == m].set_index("scenario")
        cells = [_td(METRICS[m].label, ""), _td(c.unit(m), "")]
        for n in c.names:
            if n not in part.index:
                cells.append(_td("-"))
                continue
            r = part.loc[n]
            if n == c.baseline:
                cells.append(_td(f"{format_value(r['mean'], m)}{half_width(r, 'ci_low', 'ci_high', m)}"))
                continue
            cols = variant_columns(m)
            text = f"{format_value(r[cols[0]], m, True)}{half_width(r, cols[1], cols[2], m)}"
            cells.append(_td(text + (" *" if r["marked"] else ""), "n sure" if r["marked"] else "n"))
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<div class="wide"><table><tr>{head}</tr>{"".join(body)}</table></div>'


def _assumptions(c: Comparison) -> str:
    base = c.scenarios[0]
    parts = []
    horizon = c.to_frame(["intervention_cost"])
    horizon = horizon[horizon["month"] == c.horizon_month].set_index("scenario")
    for s in c.scenarios:
        rows = [
            f"<h3>{html.escape(s.name)}</h3><p>{html.escape(s.description or '(no description)')}"
            f"<br><small>{html.escape(s.source or 'built in Python')}</small></p>"
        ]
        if s is not base:
            changes = scenario_changes(base, s)
            if changes:
                rows.append(
                    "<table><tr><th>parameter</th><th>baseline</th><th>this scenario</th></tr>"
                    + "".join(f"<tr>{_td(k, '')}{_td(str(a))}{_td(str(b))}</tr>" for k, a, b in changes)
                    + "</table>"
                )
        if s.interventions:
            cost = horizon.loc[s.name, "mean"] if s.name in horizon.index else math.nan
            rows.append(
                "<table><tr><th>intervention</th><th>touchpoint</th><th>from day</th><th>change</th>"
                "<th>one-off cost</th><th>per month</th><th>per interaction</th><th>per customer-month</th></tr>"
                + "".join(
                    f"<tr>{_td(name, '')}{_td(iv.touchpoint, '')}{_td(f'{iv.start_day:g}')}"
                    f"{_td(_levers(iv), '')}{_td(f'{iv.cost_once:,.0f}')}{_td(f'{iv.cost_per_month:,.0f}')}"
                    f"{_td(f'{iv.cost_per_interaction:,.2f}')}{_td(f'{iv.cost_per_customer:,.2f}')}</tr>"
                    for name, iv in s.interventions.items()
                )
                + "</table>"
                + f"<p>Simulated intervention cost over {c.horizon_month:g} months: "
                f"{format_value(cost, 'intervention_cost')} (mean over replications).</p>"
            )
        elif s is base:
            rows.append("<p>No interventions.</p>")
        parts.append("".join(rows))
    return "".join(parts)


def report_html(comparison: Comparison, figures: dict[str, bytes]) -> str:
    """The report as one HTML page with the figures embedded as base64 PNG."""
    from loyaltysim._version import __version__

    c = comparison
    verdict_rows = []
    for v in verdict(c):
        cls = {"pays": "pays", "loses money": "loses", "unclear": "unclear"}[v["answer"]]
        cells = "".join(_td(x) for x in decision_cells(v, c.replications))
        verdict_rows.append(f"<tr>{_td(v['scenario'], '')}{_td(v['answer'], cls)}{cells}</tr>")
    heads = "".join(f"<th>{html.escape(h)}</th>" for h in DECISION_HEAD)
    market = "".join(f"<p>{html.escape(line)}</p>" for line in market_lines(c))
    blocks = []
    for month, _ in c.checkpoints:
        shown = list(COMPARISON_METRICS) if month == c.horizon_month else list(HEADLINE)
        blocks.append(f"<h3>Month {month:g}</h3>{_html_block(c, month, shown)}")
    figs = "".join(
        f'<figure><img alt="{html.escape(cap)}" src="data:image/png;base64,{base64.b64encode(figures[k]).decode()}">'
        f"<figcaption>{html.escape(cap)} ({k}.png)</figcaption></figure>"
        for k, cap in FIGURES.items()
        if k in figures
    )
    hinges = "".join(f"<li>{html.escape(line)}</li>" for line in c.hinges())
    hinges = (
        f"<h3>What the verdict hinges on</h3><p>Each assumption at the low and the high end of its range, every "
        f"scenario run again with the same {c.tornado_replications} seeds (figure tornado.png; tornado.csv):</p>"
        f"<ul>{hinges}</ul>"
        if hinges
        else ""
    )
    defs = "".join(
        f"<tr>{_td(k, '')}{_td(METRICS[k].label, '')}{_td(c.unit(k), '')}{_td(METRICS[k].meaning, '')}</tr>"
        for k in COMPARISON_METRICS
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>loyaltysim comparison: {html.escape(c.baseline)}</title>
<style>{CSS}</style></head><body>
<h1>Scenario comparison: {html.escape(", ".join(c.names[1:]))} against {html.escape(c.baseline)}</h1>
<p>{html.escape(header(c))}</p>{market}
<h2>Which lever pays?</h2>
<p>Value over {c.horizon_month:g} months: profit after intervention costs, discounted at {c.discount_rate:.0%} a
year, plus the terminal value of the customers active at the end, as a difference to {html.escape(c.baseline)} with
its {c.level:.0%} confidence interval. <b>pays</b>: the interval lies above zero and the difference is at least
{c.practical:.1%} of the baseline's value; <b>loses money</b>: the same below zero; <b>unclear</b>: otherwise (more
replications narrow it). {html.escape(uncertainty_line(c))}
{"".join(f"<br>{html.escape(line.strip())}" for line in draw_lines(c))}
Payback: the first month from which the cumulative profit difference stays above zero. Break-even cost: the
multiple of the lever's costs at which it still pays.</p>
<div class="wide"><table><tr>{heads}</tr>
{"".join(verdict_rows)}</table></div>{hinges}
<h2>Summary table</h2>
<p>Baseline: mean over replications with its {c.level:.0%} t-interval. Variants: difference to the baseline
({"Welch interval, independent seeds" if c.independent else "paired over replications with common random numbers"}).
ROI, payback and break-even cost are themselves relative to the baseline and shown as their own values. * and bold:
the interval excludes zero and the difference is at least {c.practical:.1%} of the baseline's.</p>
{"".join(blocks)}
<h2>Figures</h2>{figs}
<h2>Assumptions of each scenario</h2>{_assumptions(c)}
<h2>Definitions</h2>
<table><tr><th>key</th><th>metric</th><th>unit</th><th>meaning</th></tr>{defs}</table>
<p>CLV uses a yearly discount rate of {c.discount_rate:.0%}. Files beside this report: summary.csv and
summary.parquet (this table, every checkpoint), replicates.parquet (every metric of every replication),
runs.parquet (the raw per-step time series of every run), and the figures as PNG.</p>
<p><small>loyaltysim {html.escape(__version__)}</small></p>
</body></html>
"""


def write_report(comparison: Comparison, directory: str | Path, force: bool = False) -> list[Path]:
    """Write the report of a comparison into ``directory``, whole: the old folder stays until the new one is done.

    Files: ``report.html`` (self-contained), one PNG per figure of `FIGURES`, ``summary.csv`` and
    ``summary.parquet`` (`Comparison.to_frame`), ``replicates.parquet`` (per-replication metrics) and
    ``runs.parquet`` (raw per-replication time series). A ``directory`` holding another command's outputs is
    refused unless ``force`` (`loyaltysim.runs.files.output_folder`).

    Returns
    -------
    list of pathlib.Path
        The files, at their final place.
    """
    out = Path(directory)
    table = comparison.to_frame()
    names: list[str] = []
    with output_folder(out, "compare", force) as tmp:

        def put(name: str, write) -> None:
            write(tmp / name)
            names.append(name)

        put("summary.csv", lambda p: table.to_csv(p, index=False))
        put("summary.parquet", lambda p: table.to_parquet(p, index=False))
        put("replicates.parquet", lambda p: comparison.replicates.to_parquet(p, index=False))
        put("runs.parquet", lambda p: comparison.runs.to_parquet(p, index=False))
        if comparison.draws is not None:
            put("posterior_draws.csv", lambda p: comparison.draws.to_csv(p))
        if comparison.tornado is not None:
            put("tornado.csv", lambda p: comparison.tornado.to_csv(p, index=False))
        figures = _figures(comparison)
        for key, data in figures.items():
            put(f"{key}.png", lambda p, data=data: Path(p).write_bytes(data))
        page = report_html(comparison, figures)
        put("report.html", lambda p: Path(p).write_text(page, encoding="utf-8"))
    return [out / name for name in names]
