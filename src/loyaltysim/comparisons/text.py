"""A comparison as the text a strategist reads: a verdict per lever, then the metrics at the checkpoints.

`text_table` is what ``loyaltysim compare`` prints; `verdict` and `format_value` are shared with the HTML report.
It takes a `Comparison` without importing it (arrows point down).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from loyaltysim.runs.metrics import COMPARISON_METRICS, METRICS, RELATIVE_METRICS, check_metrics

if TYPE_CHECKING:
    from loyaltysim.comparisons.comparison import Comparison

__all__ = [
    "DECISION",
    "DECISION_HEAD",
    "HEADLINE",
    "decision_cells",
    "format_value",
    "half_width",
    "header",
    "interval",
    "market_lines",
    "text_table",
    "variant_columns",
    "verdict",
]

HEADLINE = ("retention", "active", "profit", "value", "nps")
"""Metrics shown at the checkpoints before the horizon when no metric is chosen."""


def variant_columns(metric: str) -> tuple[str, str, str]:
    """Columns of `Comparison.to_frame` that show a variant.

    Its difference to the baseline and that interval, or, for ROI, payback and break-even cost (themselves
    comparisons with the baseline), their own value and interval.
    """
    return ("mean", "ci_low", "ci_high") if metric in RELATIVE_METRICS else ("diff", "diff_low", "diff_high")


def format_value(x: float, metric: str, signed: bool = False) -> str:
    """A number as the tables show it: the metric's decimals, thousands separators, ``n/a`` for NaN."""
    if x is None or not math.isfinite(x):
        return "n/a"
    d = METRICS[metric].decimals
    if round(x, d) == 0:
        x = 0.0  # no "-0.0"
    return f"{x:+,.{d}f}" if signed else f"{x:,.{d}f}"


def half_width(row: pd.Series, lo: str, hi: str, metric: str) -> str:
    """`` ± half-width`` of an interval as the tables show it (empty without one)."""
    if not (math.isfinite(row[lo]) and math.isfinite(row[hi])):
        return ""
    return f" ± {format_value((row[hi] - row[lo]) / 2, metric)}"


def _cell(row: pd.Series, is_base: bool) -> str:
    """Baseline: mean; variant: difference ± half-width (ROI: the ROI itself); * when the interval excludes 0."""
    m = row["metric"]
    if is_base:
        return format_value(row["mean"], m)
    cols = variant_columns(m)
    value = format_value(row[cols[0]], m, signed=True)
    if not math.isfinite(row[cols[1]]):
        return value
    return f"{value}{half_width(row, cols[1], cols[2], m)}{' *' if row['marked'] else '  '}"


DECISION = ("value", "roi", "payback", "break_even", "active", "clv", "retention")
"""What the decision table shows per lever, after the verdict."""


def verdict(comparison: Comparison) -> list[dict[str, Any]]:
    """Per variant at the horizon: the decision quantities and a plain answer, best first.

    ``answer`` is ``"pays"`` when the value difference (discounted profit plus terminal value) is marked (its
    interval excludes zero and it matters, `Comparison.practical`) and positive, ``"loses money"`` when marked and
    negative, ``"unclear"`` otherwise (the same rule the tornado's flips use). For every metric of `DECISION` the
    row has ``<metric>``, ``<metric>_low``, ``<metric>_high`` (the difference to the baseline, or the metric itself
    for ROI, payback and break-even) and ``<metric>_n`` (replications with a finite value); ``profit_diff`` and its
    interval are there too.
    """
    df = comparison.to_frame([*DECISION, "profit"])
    df = df[(df["month"] == comparison.horizon_month) & (df["scenario"] != comparison.baseline)]
    out = []
    for name in comparison.names[1:]:
        rows = {r["metric"]: r for _, r in df[df["scenario"] == name].iterrows()}
        v = rows["value"]
        answer = "unclear" if not v["marked"] else ("pays" if v["diff"] > 0 else "loses money")
        row: dict[str, Any] = {"scenario": name, "answer": answer}
        for metric in (*DECISION, "profit"):
            cols = variant_columns(metric)
            r = rows[metric]
            key = "profit_diff" if metric == "profit" else metric
            row[key], row[f"{metric}_low"], row[f"{metric}_high"] = (float(r[c]) for c in cols)
            row[f"{metric}_n"] = int(r["n"])
            row[f"{metric}_marked"] = bool(r["marked"])
        out.append(row)
    return sorted(out, key=lambda v: -v["value"] if math.isfinite(v["value"]) else math.inf)


def decision_cells(v: dict[str, Any], replications: int) -> list[str]:
    """The decision table's cells of one variant (after its name and answer), as text."""
    cells = [
        f"{format_value(v['value'], 'value', True)} {interval(v['value_low'], v['value_high'], 'value')}",
        format_value(v["roi"], "roi", True),
    ]
    n = v["payback_n"]
    if n == 0:
        cells.append("never")
    else:
        month = f"month {format_value(v['payback'], 'payback')}"
        cells.append(month if n == replications else f"{month} ({n} of {replications} runs)")
    be = v["break_even"]
    cells.append("no extra cost" if not math.isfinite(be) else f"x{format_value(be, 'break_even')}")
    cells.append(format_value(v["active"], "active", True))
    cells.append(format_value(v["clv"], "clv", True))
    cells.append(format_value(v["retention"], "retention", True))
    return cells


DECISION_HEAD = (
    "lever",
    "verdict",
    "value difference [CI]",  # in the scenario's currency (the market line says which)
    "ROI",
    "payback",
    "break-even cost",
    "customers kept",
    "CLV",
    "retention pts",
)
"""Column heads of the decision table."""


def market_lines(c: Comparison) -> list[str]:
    """The market and the baseline's economics, as the report's first lines state them."""
    s = c.scenarios[0]
    e = s.economics
    spend = ", ".join(f"{name} {p.spend_per_month:g}" for name, p in s.personas.items())
    return [
        f"Market: {s.population.size:,} people, {s.population.initial_customers:.0%} customers at month 0, "
        f"{c.horizon_month:g} months. Money in {c.currency}.",
        f"Baseline economics: spend per month by persona {spend}; gross margin {e.gross_margin:.0%}; cost to serve "
        f"{e.cost_to_serve_per_month:g} a customer-month; acquisition {e.acquisition_cost:g} a new customer; "
        "interactions at each touchpoint's own cost.",
    ]


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


FEW_DRAWS = 20
"""Fewer posterior draws (replications) than this give the spread of the differences a warning."""


def uncertainty_line(c: Comparison) -> str:
    """Which uncertainty the intervals cover."""
    if c.posterior:
        keys = ", ".join(c.draws.columns) if c.draws is not None else ""
        return (
            f"Each replication draws one parameter set from the posterior in {c.posterior} ({keys}), the same for "
            "every scenario: the intervals are for the mean difference over the posterior, simulation noise and "
            "parameter uncertainty both in it (they narrow with more replications); the spread of the paired "
            "differences over the draws is what this firm could face."
        )
    return "Intervals cover simulation noise only (the parameters are fixed at the scenarios' values)."


def draw_spread(c: Comparison) -> list[dict[str, Any]]:
    """Per variant, over the replications' posterior draws: the spread of the paired value difference at the horizon.

    5 % and 95 % quantiles and how many draws it is positive in; empty without a posterior.
    """
    if not c.posterior:
        return []
    at = c.replicates[c.replicates["step"] == c.checkpoints[-1][1]]
    value = at.pivot(index="replication", columns="scenario", values="value")
    out = []
    for name in c.names[1:]:
        d = (value[name] - value[c.baseline]).to_numpy(float)
        lo, hi = np.quantile(d, [0.05, 0.95])
        out.append({"scenario": name, "low": float(lo), "high": float(hi), "positive": int((d > 0).sum()), "n": d.size})
    return out


def draw_lines(c: Comparison) -> list[str]:
    """One line per variant on the spread of its value difference over the posterior's draws."""
    spread = draw_spread(c)
    lines = [
        f"  {s['scenario']}: value difference {format_value(s['low'], 'value', True)} to "
        f"{format_value(s['high'], 'value', True)} (5-95 % of draws), above zero in {s['positive']} of {s['n']} draws"
        for s in spread
    ]
    if spread and spread[0]["n"] < FEW_DRAWS:
        lines.append(f"  ({spread[0]['n']} draws are too few for a 5-95 % range: run {FEW_DRAWS} or more replications)")
    return lines


def _verdict_lines(c: Comparison) -> list[str]:
    lines = [
        f"Which lever pays? Value over {c.horizon_month:g} months: profit after intervention costs, discounted at "
        f"{c.discount_rate:.0%} a year, plus the terminal value of the customers active at the end; difference to "
        f"{c.baseline} with its {c.level:.0%} CI. A verdict needs the interval to exclude zero and the difference "
        f"to be at least {c.practical:.1%} of the baseline's value. {uncertainty_line(c)}",
    ]
    rows = [list(DECISION_HEAD)]
    for v in verdict(c):
        rows.append([v["scenario"], v["answer"], *decision_cells(v, c.replications)])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        lines.append(
            "  "
            + "  ".join(x.ljust(w) if i < 2 else x.rjust(w) for i, (x, w) in enumerate(zip(r, widths, strict=True)))
        )
    lines.append(
        "  payback: first month the cumulative profit difference stays above zero; break-even cost: the multiple of "
        "the lever's costs at which it still pays."
    )
    if c.posterior:
        lines.append("Over the posterior's draws (one per replication):")
        lines.extend(draw_lines(c))
    return lines


def _block(c: Comparison, month: float, metrics: list[str]) -> list[str]:
    df = c.to_frame(metrics)
    df = df[df["month"] == month]
    head = ["metric", "unit", c.baseline, *c.names[1:]]
    rows = []
    for m in metrics:
        part = df[df["metric"] == m].set_index("scenario")
        cells = [_cell(part.loc[n], n == c.baseline) if n in part.index else "-" for n in c.names]
        rows.append([METRICS[m].label, c.unit(m), *cells])
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    fmt = [f"{{:<{widths[0]}}}", f"{{:<{widths[1]}}}", *(f"{{:>{w}}}" for w in widths[2:])]
    lines = [
        f"Month {month:g}: {c.baseline} mean; variants: difference to it ± half-width of the "
        f"{c.level:.0%} CI (ROI, payback, break-even: their own value); * = CI excludes zero and the difference "
        f"is at least {c.practical:.1%} of the baseline's"
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
    lines = [header(c), *market_lines(c), "", *_verdict_lines(c)]
    if c.tornado is not None:
        lines += [
            "",
            f"What the verdict hinges on (each assumption at the ends of its range, {c.tornado_replications} paired "
            "replications; ranges in docs/comparison.md):",
            *(f"  {line}" for line in c.hinges()),
        ]
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
