"""A comparison as text and as a report: the table a strategist reads, and ``report.html`` with its files.

`text_table` is what ``loyaltysim compare`` prints. `write_report` writes a self-contained ``report.html`` (figures
embedded as base64 PNG, so it opens offline and can be mailed), the same figures as PNG files, the comparison table
as CSV and Parquet, the per-replication metrics and the raw per-replication time series as Parquet.
"""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from loyaltysim.runs.files import atomic_write
from loyaltysim.runs.metrics import COMPARISON_METRICS, METRICS, check_metrics
from loyaltysim.scenario import Scenario

if TYPE_CHECKING:
    from loyaltysim.comparisons.comparison import Comparison

__all__ = [
    "FIGURES",
    "HEADLINE",
    "format_value",
    "report_html",
    "scenario_changes",
    "text_table",
    "verdict",
    "write_report",
]

HEADLINE = ("retention", "active", "profit", "nps")
"""Metrics shown at the checkpoints before the horizon when no metric is chosen."""

FIGURES = {
    "active": "Active customers",
    "retention": "Retention of the starting customer base",
    "cumulative_profit": "Cumulative profit",
    "nps": "Net Promoter Score",
    "stages": "Customers by CX Spectrum stage",
    "differences": "Differences to the baseline at the horizon",
}
"""Figures of the report: file stem -> caption."""


def format_value(x: float, metric: str, signed: bool = False) -> str:
    """A number as the tables show it: the metric's decimals, thousands separators, ``n/a`` for NaN."""
    if x is None or not math.isfinite(x):
        return "n/a"
    d = METRICS[metric].decimals
    if round(x, d) == 0:
        x = 0.0  # no "-0.0"
    return f"{x:+,.{d}f}" if signed else f"{x:,.{d}f}"


def _half(row: pd.Series, lo: str, hi: str, metric: str) -> str:
    return format_value((row[hi] - row[lo]) / 2, metric)


def _cell(row: pd.Series, is_base: bool) -> str:
    """Baseline: mean; variant: difference ± half-width (ROI: the ROI itself); * when the interval excludes 0."""
    m = row["metric"]
    if is_base:
        return format_value(row["mean"], m)
    cols = ("mean", "ci_low", "ci_high") if m == "roi" else ("diff", "diff_low", "diff_high")
    value = format_value(row[cols[0]], m, signed=True)
    if not math.isfinite(row[cols[1]]):
        return value
    return f"{value} ± {_half(row, cols[1], cols[2], m)}{' *' if row['excludes_zero'] else '  '}"


def verdict(comparison: Comparison) -> list[dict[str, Any]]:
    """Per variant at the horizon: profit difference, its interval, ROI, retention difference, and a plain answer.

    The answer is ``"pays"`` when the profit difference's interval lies above zero, ``"loses money"`` when it lies
    below, and ``"unclear"`` when it includes zero.
    """
    df = comparison.to_frame(["profit", "roi", "retention"])
    df = df[(df["month"] == comparison.horizon_month) & (df["scenario"] != comparison.baseline)]
    out = []
    for name in comparison.names[1:]:
        rows = {r["metric"]: r for _, r in df[df["scenario"] == name].iterrows()}
        p = rows["profit"]
        answer = "unclear" if not p["excludes_zero"] else ("pays" if p["diff"] > 0 else "loses money")
        out.append(
            {
                "scenario": name,
                "answer": answer,
                "profit_diff": p["diff"],
                "profit_low": p["diff_low"],
                "profit_high": p["diff_high"],
                "roi": rows["roi"]["mean"],
                "roi_low": rows["roi"]["ci_low"],
                "roi_high": rows["roi"]["ci_high"],
                "retention_diff": rows["retention"]["diff"],
                "retention_low": rows["retention"]["diff_low"],
                "retention_high": rows["retention"]["diff_high"],
            }
        )
    return sorted(out, key=lambda v: -v["profit_diff"] if math.isfinite(v["profit_diff"]) else math.inf)


def _interval(lo: float, hi: float, metric: str) -> str:
    return f"[{format_value(lo, metric, True)}, {format_value(hi, metric, True)}]"


def _mode(c: Comparison) -> str:
    last = c.seed + c.replications - 1
    if c.independent:
        return f"independent seeds per scenario from {c.seed} (Welch intervals)"
    return f"paired seeds {c.seed}-{last} (common random numbers)"


def _header(c: Comparison) -> str:
    s = c.scenarios[0]
    return (
        f"Comparing {len(c.scenarios) - 1} variant(s) with {c.baseline}: {s.population.size:,} people, "
        f"{s.n_steps} steps of {s.time.step_days:g} days ({c.horizon_month:g} months), "
        f"{c.replications} replications, {_mode(c)}."
    )


def _verdict_lines(c: Comparison) -> list[str]:
    lines = [
        f"Which lever pays? Profit over {c.horizon_month:g} months after intervention costs, "
        f"difference to {c.baseline} ({c.level:.0%} CI):"
    ]
    width = max(len(n) for n in c.names)
    for v in verdict(c):
        roi = "" if not math.isfinite(v["roi"]) else f"; ROI {format_value(v['roi'], 'roi', True)} per unit spent"
        ret = format_value(v["retention_diff"], "retention", True)
        diff = format_value(v["profit_diff"], "profit", True)
        lines.append(
            f"  {v['scenario']:<{width}}  {v['answer']:<11}  {diff:>12} "
            f"{_interval(v['profit_low'], v['profit_high'], 'profit'):<26}  retention {ret} pts{roi}"
        )
    return lines


def _block(c: Comparison, month: float, metrics: list[str]) -> list[str]:
    df = c.to_frame(metrics)
    df = df[df["month"] == month]
    head = ["metric", "unit", c.baseline, *c.names[1:]]
    rows = []
    for m in metrics:
        part = df[df["metric"] == m].set_index("scenario")
        cells = [_cell(part.loc[n], n == c.baseline) if n in part.index else "-" for n in c.names]
        rows.append([METRICS[m].label, METRICS[m].unit, *cells])
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    fmt = [f"{{:<{widths[0]}}}", f"{{:<{widths[1]}}}", *(f"{{:>{w}}}" for w in widths[2:])]
    lines = [
        f"Month {month:g}: {c.baseline} mean; variants: difference to it ± half-width of the "
        f"{c.level:.0%} CI (ROI: its own value); * = CI excludes zero"
    ]
    lines += ["  " + "  ".join(f.format(x) for f, x in zip(fmt, r, strict=True)) for r in [head, *rows]]
    return lines


def text_table(comparison: Comparison, metrics: list[str] | None = None) -> str:
    """The comparison as a strategist's table: a verdict per lever, then the metrics at the checkpoints.

    Parameters
    ----------
    comparison
        A finished `Comparison`.
    metrics
        Metrics to show at every checkpoint; None: every metric at the horizon and `HEADLINE` at the earlier
        checkpoints.

    Returns
    -------
    str
    """
    c = comparison
    lines = [_header(c), "", *_verdict_lines(c)]
    chosen = check_metrics(metrics, COMPARISON_METRICS, "metric", "compare") if metrics else None
    for month, _ in c.checkpoints:
        if chosen is None:
            shown = list(COMPARISON_METRICS) if month == c.horizon_month else list(HEADLINE)
        else:
            shown = chosen
        lines += ["", *_block(c, month, shown)]
    if c.replications < 2:
        lines += ["", "One replication: no confidence intervals; use --replications 2 or more."]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------------
# What each scenario assumes


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for k, v in data.items():
            out.update(_flat(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: data}


def scenario_changes(baseline: Scenario, variant: Scenario) -> list[tuple[str, Any, Any]]:
    """Parameters a variant sets differently from the baseline, interventions left out: ``(key, base, variant)``."""
    skip = {"name", "description", "interventions", "source"}
    a = _flat(baseline.model_dump(exclude=skip))
    b = _flat(variant.model_dump(exclude=skip))
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

    for series in ("active", "retention", "cumulative_profit", "nps"):
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
    return out


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}h1{font-size:1.6em}h2{margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}th,td{padding:.25em .6em;border-bottom:1px solid #eee}
th{text-align:left;background:#f6f6f6}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.sure{font-weight:600}.pays{color:#238b45}.loses{color:#c0392b}.unclear{color:#7f7f7f}
figure{margin:1.2em 0}figcaption{font-size:.9em;color:#555}img{max-width:100%}small{color:#666}
"""


def _td(text: str, cls: str = "n") -> str:
    return f'<td class="{cls}">{html.escape(text)}</td>'


def _html_block(c: Comparison, month: float, metrics: list[str]) -> str:
    df = c.to_frame(metrics)
    df = df[df["month"] == month]
    head = "".join(
        f"<th>{html.escape(h)}</th>"
        for h in ["metric", "unit", f"{c.baseline} mean [CI]", *(f"{n}: difference [CI]" for n in c.names[1:])]
    )
    body = []
    for m in metrics:
        part = df[df["metric"] == m].set_index("scenario")
        cells = [_td(METRICS[m].label, ""), _td(METRICS[m].unit, "")]
        for n in c.names:
            if n not in part.index:
                cells.append(_td("-"))
                continue
            r = part.loc[n]
            if n == c.baseline:
                cells.append(
                    _td(
                        f"{format_value(r['mean'], m)} [{format_value(r['ci_low'], m)}, "
                        f"{format_value(r['ci_high'], m)}]"
                    )
                )
                continue
            cols = ("mean", "ci_low", "ci_high") if m == "roi" else ("diff", "diff_low", "diff_high")
            text = f"{format_value(r[cols[0]], m, True)} {_interval(r[cols[1]], r[cols[2]], m)}"
            cells.append(_td(text + (" *" if r["excludes_zero"] else ""), "n sure" if r["excludes_zero"] else "n"))
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


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
                "<th>one-off cost</th><th>per month</th><th>per interaction</th></tr>"
                + "".join(
                    f"<tr>{_td(name, '')}{_td(iv.touchpoint, '')}{_td(f'{iv.start_day:g}')}"
                    f"{_td(_levers(iv), '')}{_td(f'{iv.cost_once:,.0f}')}{_td(f'{iv.cost_per_month:,.0f}')}"
                    f"{_td(f'{iv.cost_per_interaction:,.2f}')}</tr>"
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
    from loyaltysim import __version__

    c = comparison
    verdict_rows = []
    for v in verdict(c):
        cls = {"pays": "pays", "loses money": "loses", "unclear": "unclear"}[v["answer"]]
        verdict_rows.append(
            f"<tr>{_td(v['scenario'], '')}{_td(v['answer'], cls)}"
            f"{_td(format_value(v['profit_diff'], 'profit', True))}"
            f"{_td(_interval(v['profit_low'], v['profit_high'], 'profit'))}"
            f"{_td(format_value(v['roi'], 'roi', True))}{_td(_interval(v['roi_low'], v['roi_high'], 'roi'))}"
            f"{_td(format_value(v['retention_diff'], 'retention', True))}"
            f"{_td(_interval(v['retention_low'], v['retention_high'], 'retention'))}</tr>"
        )
    blocks = []
    for month, _ in c.checkpoints:
        shown = list(COMPARISON_METRICS) if month == c.horizon_month else list(HEADLINE)
        blocks.append(f"<h3>Month {month:g}</h3>{_html_block(c, month, shown)}")
    figs = "".join(
        f'<figure><img alt="{html.escape(cap)}" src="data:image/png;base64,{base64.b64encode(figures[k]).decode()}">'
        f"<figcaption>{html.escape(cap)} ({k}.png)</figcaption></figure>"
        for k, cap in FIGURES.items()
    )
    defs = "".join(
        f"<tr>{_td(k, '')}{_td(METRICS[k].label, '')}{_td(METRICS[k].unit, '')}{_td(METRICS[k].meaning, '')}</tr>"
        for k in COMPARISON_METRICS
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>loyaltysim comparison: {html.escape(c.baseline)}</title>
<style>{_CSS}</style></head><body>
<h1>Scenario comparison: {html.escape(", ".join(c.names[1:]))} against {html.escape(c.baseline)}</h1>
<p>{html.escape(_header(c))}</p>
<h2>Which lever pays?</h2>
<p>Profit over {c.horizon_month:g} months after intervention costs, difference to {html.escape(c.baseline)}, with
{c.level:.0%} confidence intervals. <b>pays</b>: the interval lies above zero; <b>loses money</b>: below zero;
<b>unclear</b>: it includes zero (more replications narrow it).</p>
<table><tr><th>variant</th><th>answer</th><th>profit difference</th><th>{c.level:.0%} CI</th><th>ROI</th>
<th>{c.level:.0%} CI</th><th>retention difference (pts)</th><th>{c.level:.0%} CI</th></tr>
{"".join(verdict_rows)}</table>
<h2>Summary table</h2>
<p>Baseline: mean over replications with its {c.level:.0%} t-interval. Variants: difference to the baseline
({"Welch interval, independent seeds" if c.independent else "paired over replications with common random numbers"}).
ROI is itself relative to the baseline and shown as its own value. * and bold: the interval excludes zero.</p>
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


def write_report(comparison: Comparison, directory: str | Path) -> list[Path]:
    """Write the report of a comparison into ``directory`` (created if missing); every file atomically.

    Files: ``report.html`` (self-contained), one PNG per figure of `FIGURES`, ``summary.csv`` and
    ``summary.parquet`` (`Comparison.to_frame`), ``replicates.parquet`` (per-replication metrics) and
    ``runs.parquet`` (raw per-replication time series).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    table = comparison.to_frame()
    paths: list[Path] = []

    def put(name: str, write) -> None:
        path = out / name
        atomic_write(path, write)
        paths.append(path)

    put("summary.csv", lambda p: table.to_csv(p, index=False))
    put("summary.parquet", lambda p: table.to_parquet(p, index=False))
    put("replicates.parquet", lambda p: comparison.replicates.to_parquet(p, index=False))
    put("runs.parquet", lambda p: comparison.runs.to_parquet(p, index=False))
    figures = _figures(comparison)
    for key, data in figures.items():
        put(f"{key}.png", lambda p, data=data: Path(p).write_bytes(data))
    page = report_html(comparison, figures)
    put("report.html", lambda p: Path(p).write_text(page, encoding="utf-8"))
    return paths
