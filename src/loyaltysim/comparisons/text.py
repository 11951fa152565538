"""A comparison as the text a strategist reads: a verdict per lever, then the metrics at the checkpoints.

`text_table` is what ``loyaltysim compare`` prints; `verdict` and `format_value` are shared with the HTML report.
It takes a `Comparison` without importing it (arrows point down).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from loyaltysim.runs.metrics import COMPARISON_METRICS, METRICS, check_metrics

if TYPE_CHECKING:
    from loyaltysim.comparisons.comparison import Comparison

__all__ = ["HEADLINE", "format_value", "header", "interval", "text_table", "variant_columns", "verdict"]

HEADLINE = ("retention", "active", "profit", "nps")
"""Metrics shown at the checkpoints before the horizon when no metric is chosen."""


def variant_columns(metric: str) -> tuple[str, str, str]:
    """Columns of `Comparison.to_frame` that show a variant.

    Its difference to the baseline and that interval, or, for ROI (itself a comparison with the baseline), its own
    value and interval.
    """
    return ("mean", "ci_low", "ci_high") if metric == "roi" else ("diff", "diff_low", "diff_high")


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
    cols = variant_columns(m)
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


def interval(lo: float, hi: float, metric: str) -> str:
    """A confidence interval as the tables show it: ``[low, high]``, signed."""
    return f"[{format_value(lo, metric, True)}, {format_value(hi, metric, True)}]"


def _mode(c: Comparison) -> str:
    last = c.seed + c.replications - 1
    if c.independent:
        return f"independent seeds per scenario from {c.seed} (Welch intervals)"
    return f"paired seeds {c.seed}-{last} (common random numbers)"


def header(c: Comparison) -> str:
    """One sentence on what was compared: variants, market size, steps, replications and seeds."""
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
            f"{interval(v['profit_low'], v['profit_high'], 'profit'):<26}  retention {ret} pts{roi}"
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
    lines = [header(c), "", *_verdict_lines(c)]
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
