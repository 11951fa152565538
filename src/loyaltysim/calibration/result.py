"""`Calibration`: the posterior of a fit, how well it reproduces the targets, and the calibrated scenario.

`build_calibration` reads pyabc's history (the last generation is the posterior; every generation's epsilon,
acceptance and effective sample size) and runs the posterior-predictive simulations: parameter sets drawn from
the posterior, each simulated with a fresh seed, every target and held-out KPI measured. `load_calibration` reads
a saved calibration back without pyabc.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loyaltysim.calibration.simulate import Simulator
from loyaltysim.calibration.targets import Targets, load_targets, prior_bounds, statistic
from loyaltysim.errors import InputError
from loyaltysim.runs.files import atomic_write, json_ready
from loyaltysim.runs.inputs import toml_key, toml_value
from loyaltysim.runs.posterior import POSTERIOR_FILE, Posterior, weighted_quantile
from loyaltysim.scenario import Scenario, dotted_values

__all__ = ["INTERVAL", "Calibration", "build_calibration", "load_calibration"]

INTERVAL = 0.9
"""Level of the posterior intervals reported (and written as comments in ``calibrated.toml``)."""
PREDICTIVE_SEED = 2**31
"""First seed of the posterior-predictive simulations: above every seed the fit draws (0 .. 2**31 - 2)."""


class Calibration:
    """The result of `loyaltysim.calibration.calibrate`.

    Attributes
    ----------
    posterior : pandas.DataFrame
        The last generation's parameter sets: one column per dotted key, and ``weight``.
    populations : pandas.DataFrame
        One row per generation: ``generation``, ``epsilon``, ``simulations``, ``accepted``, ``acceptance``,
        ``ess`` (effective sample size), ``seconds``.
    predictive : pandas.DataFrame
        Posterior-predictive runs: ``draw``, ``statistic`` (``target@month``), ``value``.
    observed : pandas.DataFrame
        Every target and held-out month: ``statistic``, ``target``, ``kpi``, ``month``, ``value``, ``sd``,
        ``holdout``.
    """

    def __init__(
        self,
        base: Scenario,
        targets: Targets,
        posterior: pd.DataFrame,
        populations: pd.DataFrame,
        predictive: pd.DataFrame,
        info: dict[str, Any],
        scenario_path: str | None = None,
    ) -> None:
        self.base = base
        self.targets = targets
        self.posterior = posterior
        self.populations = populations
        self.predictive = predictive
        self.info = info
        self.scenario_path = scenario_path
        self.observed = _observed_frame(targets)

    @property
    def keys(self) -> list[str]:
        """The free parameters' dotted keys."""
        return list(self.targets.parameters)

    def sample(self) -> Posterior:
        """The posterior as weighted parameter sets (what ``compare --posterior`` draws from)."""
        fixed = {**self.targets.set, "population.size": self.info.get("customers")}
        return Posterior(
            self.posterior[self.keys], self.posterior["weight"].to_numpy(), self.info.get("folder", ""), fixed
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per free parameter: prior, posterior median, mean, 90 % interval, how much the fit narrowed it."""
        w = self.posterior["weight"].to_numpy()
        tail = (1 - INTERVAL) / 2
        rows = []
        bounds = prior_bounds(self.base, self.targets)
        for key, prior in self.targets.parameters.items():
            x = self.posterior[key].to_numpy(float)
            lo, med, hi = weighted_quantile(x, w, [tail, 0.5, 1 - tail])
            p_lo, p_hi = prior.distribution(bounds[key]).ppf([tail, 1 - tail])
            rows.append(
                {
                    "key": key,
                    "prior": prior.describe(),
                    "median": float(med),
                    "mean": float(np.sum(w * x)),
                    "low": float(lo),
                    "high": float(hi),
                    "prior_low": float(p_lo),
                    "prior_high": float(p_hi),
                    "narrowing": float(1 - (hi - lo) / (p_hi - p_lo)) if p_hi > p_lo else math.nan,
                }
            )
        return pd.DataFrame(rows)

    def fit_frame(self) -> pd.DataFrame:
        """One row per target month: observed value and sd, posterior-predictive median and 90 % band, z-score."""
        tail = (1 - INTERVAL) / 2
        pred = self.predictive.groupby("statistic")["value"]
        q = pred.quantile([tail, 0.5, 1 - tail]).unstack()
        frame = self.observed.copy()
        frame["predicted"] = frame["statistic"].map(q[0.5]) if len(q) else math.nan
        frame["low"] = frame["statistic"].map(q[tail]) if len(q) else math.nan
        frame["high"] = frame["statistic"].map(q[1 - tail]) if len(q) else math.nan
        spread = frame["statistic"].map(pred.std()) if len(q) else math.nan
        total = np.sqrt(frame["sd"] ** 2 + spread**2)
        frame["z"] = (frame["predicted"] - frame["value"]) / total
        frame["within_band"] = (frame["value"] >= frame["low"]) & (frame["value"] <= frame["high"])
        return frame

    def scenario(self) -> Scenario:
        """The calibrated scenario: the input with the targets file's ``set`` and the posterior medians."""
        medians = {r["key"]: r["median"] for r in self.to_frame().to_dict(orient="records")}
        return self.base.with_overrides(medians, label="calibration")

    def plot(self, ax=None):
        """Marginal posteriors with their priors (a `matplotlib.figure.Figure`; ``ax``: an array of axes to use)."""
        from loyaltysim.calibration.figures import marginals

        return marginals(self, ax)

    def text(self) -> str:
        """The calibration in plain text: how it ran, the posterior, and the fit to each target."""
        i = self.info
        lines = [
            f"{self.targets.name}: {i['generations']} generation(s), {i['simulations']:,} simulations (pyabc's "
            "initial sample included), "
            f"stopped by {i['stop']}; final epsilon {i['epsilon']:.3g}, acceptance {i['acceptance']:.1%}, "
            f"effective sample size {i['ess']:.0f} of {i['particles']}",
            "",
            f"  {'parameter':<40} {'prior':<28} {'median':>10}  {INTERVAL:.0%} interval",
        ]
        for r in self.to_frame().itertuples():
            lines.append(f"  {r.key:<40} {r.prior:<28} {r.median:>10.4g}  {r.low:.4g} .. {r.high:.4g}")
        lines += ["", f"  {'target':<28} {'observed':>10} {'sd':>7} {'predicted':>10}  {INTERVAL:.0%} band"]
        for r in self.fit_frame().itertuples():
            tag = " (held out)" if r.holdout else ""
            lines.append(
                f"  {r.statistic + tag:<28} {r.value:>10.4g} {r.sd:>7.3g} {r.predicted:>10.4g}  "
                f"{r.low:.4g} .. {r.high:.4g}"
            )
        return "\n".join(lines)

    def calibrated_toml(self, folder: str | Path) -> str:
        """``calibrated.toml``: extends the input scenario (relative to ``folder``), the ``set`` keys, the medians."""
        frame = self.to_frame()
        lines = [
            f"# Calibrated by 'loyaltysim calibrate' against {Path(self.targets.source or 'targets').name}:",
            f"# posterior medians, with the {INTERVAL:.0%} posterior interval of each in its comment.",
            "# Load it with --root at a folder holding both this file and the scenario it extends.",
        ]
        notes = {
            r.key: f"{INTERVAL:.0%} interval {r.low:.4g} .. {r.high:.4g}; prior {r.prior}" for r in frame.itertuples()
        }
        if not self.scenario_path:  # nothing to extend: the whole scenario, the fitted keys with their notes
            lines.append("# (the input was not a file: the scenario is written whole)")
            data = self.scenario().model_dump(mode="json", exclude={"source"})
            for key, value in dotted_values(data).items():
                if value is not None and not (isinstance(value, list) and not value):
                    note = f"  # {notes[key]}" if key in notes else ""
                    lines.append(f"{toml_key(key)} = {toml_value(value)}{note}")
            return "\n".join(lines) + "\n"
        rel = os.path.relpath(self.scenario_path, Path(folder).resolve())
        lines.append(f"extends = {json.dumps(rel)}")
        lines.append(f"name = {json.dumps(self.base.name + '-calibrated')}")
        for key, value in self.targets.set.items():
            lines.append(f"{toml_key(key)} = {toml_value(value)}  # fixed by the targets file's set")
        for r in frame.itertuples():
            lines.append(f"{toml_key(r.key)} = {toml_value(float(r.median), 6)}  # {notes[r.key]}")
        return "\n".join(lines) + "\n"

    def save(self, directory: str | Path) -> list[Path]:
        """Write the posterior, tables, figures, ``calibrated.toml`` and ``report.html`` into ``directory``.

        Each file is replaced whole (written beside, then renamed); the history and the targets copy stay.
        """
        from loyaltysim.calibration.report import figures, report_html

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        written = []

        def put(name: str, write) -> None:
            atomic_write(out / name, write)
            written.append(out / name)

        put(POSTERIOR_FILE, lambda tmp: self.sample().save(tmp))
        put("parameters.csv", lambda tmp: self.to_frame().to_csv(tmp, index=False))
        put("fit.csv", lambda tmp: self.fit_frame().to_csv(tmp, index=False))
        put("populations.csv", lambda tmp: self.populations.to_csv(tmp, index=False))
        put("predictive.parquet", lambda tmp: self.predictive.to_parquet(tmp, index=False))
        put("scenario.json", lambda tmp: Path(tmp).write_text(json.dumps(self._state(out), indent=1) + "\n"))
        put("calibrated.toml", lambda tmp: Path(tmp).write_text(self.calibrated_toml(out)))
        pngs = figures(self)
        for stem, data in pngs.items():
            put(f"{stem}.png", lambda tmp, d=data: Path(tmp).write_bytes(d))
        put("report.html", lambda tmp: Path(tmp).write_text(report_html(self, pngs), encoding="utf-8"))
        return written

    def _state(self, folder: Path) -> dict[str, Any]:
        """What `load_calibration` needs beside the tables; the scenario's path relative to ``folder``."""
        rel = os.path.relpath(self.scenario_path, folder.resolve()) if self.scenario_path else None
        return {
            "scenario_path": rel,
            "base": self.base.model_dump(mode="json"),
            "info": json_ready(self.info),
        }

    def __repr__(self) -> str:
        return f"Calibration({self.targets.name!r}, keys={self.keys}, generations={self.info.get('generations')})"


def _observed_frame(targets: Targets) -> pd.DataFrame:
    rows = []
    for holdout, group in ((False, targets.targets), (True, targets.holdout)):
        for name, t in group.items():
            for m, v, s in zip(t.months, t.values, t.sds, strict=True):
                rows.append(
                    {
                        "statistic": statistic(name, m),
                        "target": name,
                        "kpi": t.kpi or name,
                        "month": float(m),
                        "value": float(v),
                        "sd": float(s),
                        "holdout": holdout,
                    }
                )
    return pd.DataFrame(rows)


def build_calibration(
    spec: Scenario,
    fitted: Scenario,
    targets: Targets,
    history,
    folder: Path,
    stop: str,
    seconds: float,
    resumed: bool,
) -> Calibration:
    """The `Calibration` of a pyabc history: its last generation, the generations' record, predictive runs."""
    t = history.max_t
    frame, w = history.get_distribution(m=0, t=t)
    posterior = frame.reset_index(drop=True)[list(targets.parameters)].astype(float)
    for key, prior in targets.parameters.items():
        if prior.prior == "log-uniform":  # the sampler held its logarithm
            posterior[key] = np.exp(posterior[key])
    posterior = posterior.assign(weight=np.asarray(w, float))
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0].reset_index(drop=True)
    ess = []
    for g in pops["t"]:
        _, wg = history.get_distribution(m=0, t=int(g))
        wg = np.asarray(wg, float)
        ess.append(float(wg.sum() ** 2 / np.sum(wg**2)))
    populations = pd.DataFrame(
        {
            "generation": pops["t"].astype(int),
            "epsilon": pops["epsilon"].astype(float),
            "simulations": pops["samples"].astype(int),
            "accepted": pops["particles"].astype(int),
            "acceptance": pops["particles"] / pops["samples"],
            "ess": ess,
            "seconds": pops["wall_time"].astype(float) if "wall_time" in pops else math.nan,
        }
    )
    base = spec.with_overrides(targets.set, label="set") if targets.set else spec
    predictive = predictive_runs(fitted, targets, posterior, targets.abc.predictive, targets.abc.seed)
    simulations = int(history.total_nr_simulations)
    fit_seconds = float(populations["seconds"].sum())
    info = {
        "folder": str(folder),
        "generations": len(populations),
        "simulations": simulations,
        "epsilon": float(populations["epsilon"].iloc[-1]),
        "acceptance": float(populations["acceptance"].iloc[-1]),
        "overall_acceptance": float(populations["accepted"].sum() / max(1, populations["simulations"].sum())),
        "ess": float(populations["ess"].iloc[-1]),
        "particles": int(targets.abc.population),
        "stop": stop,
        "fit_seconds": fit_seconds,
        "simulations_per_second": simulations / fit_seconds if fit_seconds > 0 else math.nan,
        "seconds": float(seconds),
        "resumed": bool(resumed),
        "customers": fitted.population.size,
    }
    return Calibration(base, targets, posterior, populations, predictive, info, spec.source)


def predictive_runs(fitted: Scenario, targets: Targets, posterior: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``n`` posterior-predictive runs: sets drawn by weight, each simulated with its own fresh seed."""
    keys = list(targets.parameters)
    draws = Posterior(posterior[keys], posterior["weight"].to_numpy()).draws(n, seed)
    sim = Simulator(fitted, targets, holdout=True)
    rows = []
    for i, draw in enumerate(draws):
        values = sim(draw, seed=PREDICTIVE_SEED + seed * 1_000_000 + i)
        rows.extend({"draw": i, "statistic": k, "value": v} for k, v in values.items())
    return pd.DataFrame(rows)


def load_calibration(directory: str | Path) -> Calibration:
    """A saved calibration, read back from its folder (no pyabc needed).

    Raises
    ------
    InputError
        A folder that holds no complete calibration.
    """
    folder = Path(directory)
    need = [POSTERIOR_FILE, "scenario.json", "targets.toml", "populations.csv", "predictive.parquet"]
    missing = [n for n in need if not (folder / n).is_file()]
    if missing:
        raise InputError(str(folder), None, None, f"not a finished calibration folder (missing {', '.join(missing)})")
    state = json.loads((folder / "scenario.json").read_text(encoding="utf-8"))
    base = Scenario.model_validate(state["base"])
    rel = state.get("scenario_path")
    path = str((folder / rel).resolve()) if rel else None  # stored relative to the folder, so it moves with it
    base.source = path
    targets, _ = load_targets(
        folder / "targets.toml", base
    )  # base has the set applied already: applying it again is a no-op
    info = {k: (math.nan if v is None else v) for k, v in state["info"].items()}
    return Calibration(
        base,
        targets,
        pd.read_parquet(folder / POSTERIOR_FILE),
        pd.read_csv(folder / "populations.csv"),
        pd.read_parquet(folder / "predictive.parquet"),
        info,
        path,
    )
