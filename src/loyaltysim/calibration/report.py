"""A calibration as ``report.html``: self-contained (figures as base64 PNG), readable offline and mailable."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import TYPE_CHECKING

from loyaltysim.calibration.kpis import KPIS
from loyaltysim.calibration.result import INTERVAL
from loyaltysim.comparisons.report import CSS

if TYPE_CHECKING:
    from loyaltysim.calibration.result import Calibration

__all__ = ["FIGURES", "figures", "report_html"]

FIGURES = {
    "fit": "Targets (black, ± 2 sd) and held-out KPIs (red) against the posterior-predictive 90 % band",
    "marginals": "Marginal posteriors against their priors (median line, 90 % interval shaded)",
    "pairs": "Pairs of the posterior's parameter sets: correlations show which parameters trade off",
    "generations": "ABC-SMC by generation: acceptance distance, acceptance rate, effective sample size",
}
"""Figures of the report: file stem -> caption."""

_CSS = CSS + ".off{color:#c0392b}\n"
"""The comparison report's style, and a mark for a target more than 2 sd off."""


def figures(cal: Calibration) -> dict[str, bytes]:
    """The report's figures as PNG bytes, by file stem."""
    from loyaltysim.calibration import figures as f

    out = {}
    for stem, fig in (
        ("fit", f.fit_bands(cal)),
        ("marginals", f.marginals(cal)),
        ("pairs", f.pairs(cal)),
        ("generations", f.generations(cal)),
    ):
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100)
        out[stem] = buf.getvalue()
    return out


def _row(cells: list[str], numeric: set[int] = frozenset(), cls: str = "") -> str:
    tds = "".join(
        f'<td class="n">{html.escape(c)}</td>' if i in numeric else f"<td>{html.escape(c)}</td>"
        for i, c in enumerate(cells)
    )
    return f'<tr class="{cls}">{tds}</tr>'


def report_html(cal: Calibration, pngs: dict[str, bytes]) -> str:
    """The report as one HTML page."""
    i = cal.info
    e = html.escape
    head = (
        f"<p>Scenario <b>{e(Path(cal.scenario_path).name if cal.scenario_path else cal.base.name)}</b>, "
        f"targets <b>{e(Path(cal.targets.source or 'targets.toml').name)}</b>. "
        f"ABC-SMC (pyabc) with {i['particles']} particles: {i['generations']} generation(s), {i['simulations']:,} "
        f"simulations of {i['customers']:,} customers in {i['fit_seconds']:.0f} s "
        f"({i['simulations_per_second']:.1f} simulations/s); stopped by <b>{e(str(i['stop']))}</b>. Final epsilon "
        f"{i['epsilon']:.3g}, acceptance {i['acceptance']:.1%} (overall {i['overall_acceptance']:.1%}), effective "
        f"sample size {i['ess']:.0f}.</p>"
        "<p><small>Distance: sqrt of the sum over target months of weight x ((simulated - observed) / sd)^2; "
        "epsilon is the median distance of the previous generation. The posterior covers the parameters' "
        "uncertainty given the targets' stated sd and the simulation's own noise at this population size.</small></p>"
    )
    params = [
        "<table><tr><th>parameter</th><th>prior</th><th>median</th>"
        f"<th>{INTERVAL:.0%} interval</th><th>prior {INTERVAL:.0%}</th><th>narrowed by</th></tr>"
    ]
    for r in cal.to_frame().itertuples():
        params.append(
            _row(
                [
                    r.key,
                    r.prior,
                    f"{r.median:.4g}",
                    f"{r.low:.4g} .. {r.high:.4g}",
                    f"{r.prior_low:.4g} .. {r.prior_high:.4g}",
                    f"{r.narrowing:.0%}",
                ],
                {2, 3, 4, 5},
            )
        )
    params.append("</table>")
    fit = [
        "<table><tr><th>target</th><th>KPI</th><th>month</th><th>observed</th><th>sd</th>"
        f"<th>predicted</th><th>{INTERVAL:.0%} band</th><th>z</th></tr>"
    ]
    for r in cal.fit_frame().itertuples():
        fit.append(
            _row(
                [
                    r.target + (" (held out)" if r.holdout else ""),
                    f"{KPIS[r.kpi].label} ({KPIS[r.kpi].unit})",
                    f"{r.month:g}",
                    f"{r.value:.4g}",
                    f"{r.sd:.3g}",
                    f"{r.predicted:.4g}",
                    f"{r.low:.4g} .. {r.high:.4g}",
                    f"{r.z:+.2f}",
                ],
                {2, 3, 4, 5, 6, 7},
                "off" if abs(r.z) > 2 else "",
            )
        )
    fit.append(
        "</table><p><small>z: (predicted - observed) / sqrt(sd^2 + predictive sd^2); |z| > 2 in red.</small></p>"
    )
    figs = "".join(
        f'<figure><img alt="{e(cap)}" src="data:image/png;base64,{base64.b64encode(pngs[k]).decode()}">'
        f"<figcaption>{e(cap)}</figcaption></figure>"
        for k, cap in FIGURES.items()
        if k in pngs
    )
    gens = [
        "<table><tr><th>generation</th><th>epsilon</th><th>simulations</th><th>acceptance</th><th>ESS</th>"
        "<th>seconds</th></tr>"
    ]
    for r in cal.populations.itertuples():
        gens.append(
            _row(
                [
                    str(r.generation),
                    f"{r.epsilon:.3g}",
                    f"{r.simulations:,}",
                    f"{r.acceptance:.1%}",
                    f"{r.ess:.0f}",
                    f"{r.seconds:.1f}",
                ],
                {0, 1, 2, 3, 4, 5},
            )
        )
    gens.append("</table>")
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{e(cal.targets.name)}: calibration</title>"
        f"<style>{_CSS}</style></head><body><h1>{e(cal.targets.name)}: calibration</h1>"
        f"<p>{e(cal.targets.description)}</p>{head}"
        f"<h2>Posterior</h2><div class=wide>{''.join(params)}</div>"
        f"<h2>Fit to the targets</h2><div class=wide>{''.join(fit)}</div>"
        f"<h2>Figures</h2>{figs}<h2>Generations</h2><div class=wide>{''.join(gens)}</div>"
        "<p><small>Carry the posterior into a decision: loyaltysim compare BASE VARIANT ... --posterior "
        f"{e(str(i.get('folder', 'DIR')))}</small></p></body></html>"
    )
