"""`analyze`: the analysis that suits a sweep, as tables (CSV) and figures (PNG) in ``DIR/analysis/month-M``.

Sensitivity indices for Sobol and Morris designs and partial rank correlations with scatter panels for Latin
hypercubes (`loyaltysim.sweeps.sensitivity`), with the split of each metric's variance into stochastic and
parametric, heatmaps and ROI for grids (`loyaltysim.sweeps.figures`), closed forms for validation experiments
(`loyaltysim.sweeps.validation`); for every sweep with replications the convergence of the intervals, and for one
with outcomes over time their envelopes (``DIR/analysis/series``). This is what ``loyaltysim analyze DIR`` runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from loyaltysim.runs.files import output_folder
from loyaltysim.sweeps import figures
from loyaltysim.sweeps.results import SweepResults
from loyaltysim.sweeps.sensitivity import sensitivity
from loyaltysim.sweeps.validation import validation

__all__ = ["METHODS", "Report", "analyze", "default_method"]

METHODS = ("sobol", "morris", "prcc", "grid", "validation")
"""Analyses ``loyaltysim analyze`` can run."""


@dataclass
class Report:
    """What `analyze` made: tables by name and the files written."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)


def default_method(results: SweepResults) -> str:
    """The analysis that suits the experiment: closed form, the design's indices, PRCC (Latin hypercube) or grid."""
    exp = results.experiment
    if exp.analysis.compare:
        return "validation"
    return {"sobol": "sobol", "morris": "morris", "lhs": "prcc"}.get(exp.design.kind, "grid")


def analyze(
    results: SweepResults,
    method: str | None = None,
    metrics: Sequence[str] | None = None,
    month: float | None = None,
    out: str | Path | None = None,
    force: bool = False,
) -> Report:
    """Run the analysis of a sweep and write its tables (CSV) and figures (PNG) into ``out``.

    Parameters
    ----------
    results
        A finished sweep.
    method
        ``sobol``, ``morris``, ``prcc`` (partial rank correlations and scatter panels, for sampled designs),
        ``grid`` (heatmaps, ROI) or ``validation`` (closed form); default: `default_method`.
    metrics
        Metrics to analyse (default: all the experiment recorded; for grids with a reference point, ROI too).
    month
        Checkpoint (default: the last).
    out
        Directory for the files (default: ``<sweep directory>/analysis/month-M``, M the checkpoint, or
        ``.../analysis/validation``); it is replaced whole by each analysis, and the files' names end in
        ``_month-M`` too, so analyses of different months never overwrite each other. The envelopes over time of
        a sweep with ``[series]`` go to ``<sweep directory>/analysis/series``, or ``out/series``.
    force
        Replace ``out`` even if it holds files that another command wrote.

    Returns
    -------
    Report
        The tables by name and the files written.
    """
    from matplotlib.figure import Figure

    method = method or default_method(results)
    exp = results.experiment
    metrics = list(metrics or exp.metrics)
    for m in metrics:
        if m not in exp.metrics and not (m == "roi" and exp.has_roi):
            allowed = [*exp.metrics, *(["roi"] if exp.has_roi else [])]
            raise ValueError(f"metric '{m}' was not recorded by this sweep; allowed: {', '.join(allowed)}")
    tag = "validation" if method == "validation" else f"month-{round(results.month(month), 2):g}"
    folder = Path(out) if out is not None else (results.directory or Path(".")) / "analysis" / tag
    suffix = "" if method == "validation" else f"_{tag}"
    report = Report()
    figs: dict[str, Any] = {}
    names = list(exp.parameters)

    def save_table(name: str, df: pd.DataFrame) -> None:
        report.tables[name + suffix] = df

    def save_figure(name: str, fig) -> None:
        figs[name + suffix] = fig

    if method in ("sobol", "morris", "prcc"):
        for m in metrics:
            s = sensitivity(results, method, m, month)
            save_table(f"{method}_{m}", s.to_frame())
            if s.variance is not None:
                save_table(f"variance_{m}", s.variance)
            if s.second_order is not None:
                save_table(f"{method}_{m}_second_order", s.second_order.reset_index())
            fig = Figure(figsize=(7, 0.45 * len(s.table) + 1.6), layout="constrained")
            s.plot(fig.subplots())
            save_figure(f"{method}_{m}", fig)
            if method == "prcc":  # the points themselves: a sampled design has no grid to draw
                cols = min(3, len(names))
                fig = Figure(figsize=(3.4 * cols, 2.9 * -(-len(names) // cols) + 0.5), layout="constrained")
                save_figure(f"scatter_{m}", figures.scatters(results, m, month, fig))
    elif method == "grid":
        if exp.has_roi and "roi" not in metrics and metrics == list(exp.metrics):
            metrics.append("roi")
        for m in metrics:
            means = results.grid_means(m, month)
            save_table(f"grid_{m}", means)
            if m != "roi" and exp.analysis.reference is not None and not exp.independent_seeds:
                save_table(f"difference_{m}", results.differences(m, month))
            fig = Figure(figsize=(6.4, 5), layout="constrained")
            if len(names) >= 2:
                x, y = exp.analysis.heatmap or (names[0], names[1])
                figures.heatmap(results, m, x, y, month, fig.subplots())
            else:
                figures.scatter(results, m, names[0], month, fig.subplots())
            save_figure(f"heatmap_{m}" if len(names) >= 2 else f"grid_{m}", fig)
    elif method == "validation":
        table, fig = validation(results)
        save_table(f"validation_{exp.analysis.compare}", table)
        save_figure(f"validation_{exp.analysis.compare}", fig)
    else:
        raise ValueError(f"unknown method '{method}'; allowed: {', '.join(METHODS)}")
    if method != "validation" and exp.replications >= 2:
        recorded = [m for m in metrics if m != "roi"]
        save_table("convergence", results.convergence(recorded, month))
        fig = Figure(figsize=(6.4, 4.2), layout="constrained")
        figures.convergence(report.tables["convergence" + suffix], fig.subplots())
        save_figure("convergence", fig)
    _write(folder, report, report.tables, figs, force)
    if exp.series is not None and results.series is not None and not results.series.empty:
        _write_series(results, out, force, report)
    return report


def _write(folder: Path, report: Report, tables: dict[str, pd.DataFrame], figs: dict[str, Any], force: bool) -> None:
    """Write tables and figures into ``folder``, replaced whole (it holds the latest analysis)."""
    with output_folder(folder, "analyze", force) as tmp:
        for name, df in tables.items():
            df.to_csv(tmp / f"{name}.csv", index=False)
            report.files.append(folder / f"{name}.csv")
        for name, fig in figs.items():
            fig.savefig(tmp / f"{name}.png", dpi=110, format="png")
            report.files.append(folder / f"{name}.png")


def _write_series(results: SweepResults, out: str | Path | None, force: bool, report: Report) -> None:
    """Envelopes of every series metric over time, in ``DIR/analysis/series`` (or ``OUT/series``)."""
    from matplotlib.figure import Figure

    folder = Path(out) / "series" if out is not None else (results.directory or Path(".")) / "analysis" / "series"
    tables, figs = {}, {}
    for m in results.experiment.series.metrics:
        table = results.envelope(m)
        tables[f"envelope_{m}"] = table
        fig = Figure(figsize=(7.5, 4.6), layout="constrained")
        figures.envelopes(table, results.experiment.replications, fig.subplots())
        figs[f"envelope_{m}"] = fig
    report.tables.update(tables)
    _write(folder, report, tables, figs, force)
