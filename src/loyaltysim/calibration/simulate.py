"""One simulation of a calibration: a parameter set and a seed in, every target's simulated values out.

`Simulator` is what the ABC sampler calls (a picklable object, so that spawned processes and Dask workers can run
it): it applies the parameter set to the scenario, runs the model up to the last month a target needs (with the
survey's diary only when a target is a survey statistic) and measures each target (`loyaltysim.calibration.kpis`).
Statistics are named ``target@month``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from loyaltysim.calibration.kpis import Run, Where, measure
from loyaltysim.calibration.targets import Target, Targets, kpi_window, statistic, survey_window
from loyaltysim.engine.layout import COLUMNS
from loyaltysim.engine.model import LoyaltyModel
from loyaltysim.engine.threads import threads
from loyaltysim.errors import InputError
from loyaltysim.runs.metrics import checkpoint_step, step_to_month
from loyaltysim.scenario import Scenario
from loyaltysim.survey.panel import Panel

__all__ = ["Simulator", "targets_of"]


_REFUSED: set[str] = set()


def _refused(exc: InputError) -> None:
    """Log, once per message, a parameter set the scenario refuses (the fit goes on; the set is never accepted)."""
    text = str(exc)
    if text not in _REFUSED:
        _REFUSED.add(text)
        logging.getLogger("loyaltysim.calibration").warning("parameter set refused: %s", text)


def targets_of(targets: Targets, holdout: bool = False) -> list[tuple[str, Target]]:
    """``(name, target)`` of the fitted targets, or of the fitted and the held-out ones.

    A held-out target may share a fitted one's name: the same KPI at other months.
    """
    return [*targets.targets.items(), *(targets.holdout.items() if holdout else ())]


class Simulator:
    """Simulate ``scenario`` at a parameter set and measure ``group``'s targets.

    Parameters
    ----------
    scenario
        The scenario every simulation starts from (the targets file's ``set`` applied).
    targets
        The validated targets file.
    holdout
        Also measure the held-out targets (the posterior-predictive runs; the fit measures only its targets).
    log_keys
        Keys the sampler moves on a log scale (log-uniform priors): their values arrive as natural logarithms.
    noise
        ``{statistic: sd}``: add Gaussian noise of that sd to each simulated statistic (the fit does, so that its
        posterior accounts for the observations' own error: Wilkinson 2013); None for the model's own values.
    """

    def __init__(
        self,
        scenario: Scenario,
        targets: Targets,
        holdout: bool = False,
        log_keys: tuple[str, ...] = (),
        noise: Mapping[str, float] | None = None,
    ) -> None:
        self.scenario_data = scenario.model_dump()
        self.targets = targets
        self.group = targets_of(targets, holdout)
        self.log_keys = frozenset(log_keys)
        self.noise = dict(noise or {})
        self._spec: Scenario | None = scenario

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_spec": None}  # workers rebuild the scenario from its plain dump

    @property
    def spec(self) -> Scenario:
        """The base scenario."""
        if self._spec is None:
            self._spec = Scenario.model_validate(self.scenario_data)
        return self._spec

    def __call__(self, parameters: Mapping[str, float], seed: int | None = None) -> dict[str, float]:
        """Every target's values at ``parameters`` (dotted keys) from one run with ``seed`` (default: drawn)."""
        if seed is None:
            seed = int(np.random.randint(0, 2**31 - 1))  # the sampler seeds numpy's global generator
        values = {k: math.exp(float(v)) if k in self.log_keys else float(v) for k, v in parameters.items()}
        try:
            spec = self.spec.with_overrides(values, label="calibration")
        except InputError as exc:  # a set breaking a rule across keys: no run, every statistic unmeasured
            _refused(exc)
            return {statistic(name, m): float("nan") for name, t in self.group for m in t.months}
        with threads(1):
            run = self.run(spec, int(seed))
        out: dict[str, float] = {}
        for name, t in self.group:
            w, sw = kpi_window(spec, t), survey_window(spec, t)
            for m in t.months:
                at = Where(checkpoint_step(spec, m, "calibration"), w, t.touchpoint, t.statistic, sw)
                out[statistic(name, m)] = measure(run, t.kpi or name, at)
        for key, sd in self.noise.items():  # the sampler seeds numpy's global generator
            out[key] += sd * float(np.random.standard_normal())
        return out

    def run(self, spec: Scenario, seed: int) -> Run:
        """Run ``spec`` with ``seed`` to the last step a target needs; what the targets are measured from."""
        surveys = sorted(
            {
                (survey_window(spec, t), checkpoint_step(spec, m, "calibration"))
                for name, t in self.group
                if (t.kpi or name) == "survey"
                for m in t.months
            }
        )
        last = max(checkpoint_step(spec, m, "calibration") for _, t in self.group for m in t.months)
        model = LoyaltyModel(spec, rng=seed, diary=bool(surveys))
        step_months = step_to_month(1, spec.time.step_days)
        panels = {
            (w, s): Panel(step_to_month(s, spec.time.step_days), s, w, step_months, spec.population.size)
            for w, s in surveys
        }
        uses = [model.touchpoint_uses.copy()]
        for panel in panels.values():
            panel.record(model, 0)
        while model.steps < last:
            model.step()
            uses.append(model.touchpoint_uses.copy())
            for panel in panels.values():
                panel.record(model, model.steps)
        ts = model.timeseries()
        columns = {name: ts[name].to_numpy() for name in COLUMNS if name in ts}
        return Run(columns, np.array(uses), model.plan.touchpoints, spec.months_per_step, spec.population.size, panels)
