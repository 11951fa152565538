"""Targets files: the free parameters with their priors, the firm's KPIs with their uncertainty, how the fit runs.

`load_targets` reads and validates a TOML targets file (pydantic, one-line errors naming the file, key, value and
what is allowed), then checks it against the scenario it calibrates: every prior on a numeric key the scenario has,
inside the key's limits; every target month within the horizon; touchpoints and survey statistics that exist.
See ``docs/calibration.md``.
"""

from __future__ import annotations

import difflib
import math
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator
from scipy import stats

from loyaltysim.calibration.kpis import KPIS, SURVEY_STATISTICS
from loyaltysim.errors import InputError
from loyaltysim.runs.inputs import read_toml, toml_text, validate_model
from loyaltysim.runs.metrics import SURVEY_WINDOW_DAYS, checkpoint_step, month_to_step, step_to_month
from loyaltysim.scenario import MONTH_DAYS, Scenario, key_bounds

__all__ = [
    "PRIORS",
    "Abc",
    "Prior",
    "Target",
    "Targets",
    "check_against",
    "kpi_window",
    "load_targets",
    "prior_bounds",
    "statistic",
    "survey_window",
    "to_toml",
]

Family = Literal["uniform", "log-uniform", "normal", "beta"]
PRIORS: tuple[str, ...] = get_args(Family)
"""The prior families a free parameter may have."""
MIN_PRIOR_MASS = 1e-6
"""Least mass a normal prior must keep inside the key's limits (it is truncated to them)."""


def statistic(name: str, month: float) -> str:
    """The name of one target month's statistic: ``target@month``."""
    return f"{name}@{month:g}"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Prior(_Section):
    """The prior of one free parameter (a dotted scenario key)."""

    prior: Family = Field(description="Family: " + ", ".join(PRIORS))
    low: float | None = Field(None, description="uniform, log-uniform: lower end; normal: truncation; beta: 0 at.")
    high: float | None = Field(None, description="uniform, log-uniform: upper end; normal: truncation; beta: 1 at.")
    mean: float | None = Field(None, description="normal: mean.")
    sd: float | None = Field(None, gt=0, description="normal: standard deviation.")
    a: float | None = Field(None, gt=0, description="beta: first shape.")
    b: float | None = Field(None, gt=0, description="beta: second shape.")

    @model_validator(mode="after")
    def _proper(self) -> Prior:
        family = self.prior
        given = {k for k in ("mean", "sd", "a", "b") if getattr(self, k) is not None}
        wanted = {"uniform": set(), "log-uniform": set(), "normal": {"mean", "sd"}, "beta": {"a", "b"}}[family]
        if given != wanted:
            need = f"takes {' and '.join(sorted(wanted))}" if wanted else "takes low and high only"
            raise ValueError(f"a {family} prior {need}; got {', '.join(sorted(given)) or 'none of mean, sd, a, b'}")
        if family in ("uniform", "log-uniform") and (self.low is None or self.high is None):
            raise ValueError(f"a {family} prior needs low and high")
        lo, hi = self.support
        if not lo < hi:
            raise ValueError(f"improper prior: low ({lo:g}) must be below high ({hi:g})")
        if family == "log-uniform" and not lo > 0:
            raise ValueError(f"a log-uniform prior needs low above 0, got {lo:g}")
        return self

    @property
    def support(self) -> tuple[float, float]:
        """The interval the prior puts its mass on (a normal's truncation, infinite where none is given)."""
        if self.prior == "beta":
            return (0.0 if self.low is None else self.low), (1.0 if self.high is None else self.high)
        lo = -math.inf if self.low is None else self.low
        hi = math.inf if self.high is None else self.high
        return lo, hi

    def distribution(self, bounds: tuple[float, float] = (-math.inf, math.inf)):
        """The prior as a frozen scipy distribution; a normal is truncated to its low/high and to ``bounds``."""
        lo, hi = self.support
        if self.prior == "uniform":
            return stats.uniform(lo, hi - lo)
        if self.prior == "log-uniform":
            return stats.loguniform(lo, hi)
        if self.prior == "beta":
            return stats.beta(self.a, self.b, loc=lo, scale=hi - lo)
        lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
        return stats.truncnorm((lo - self.mean) / self.sd, (hi - self.mean) / self.sd, loc=self.mean, scale=self.sd)

    def describe(self) -> str:
        """The prior in a few words, e.g. ``uniform(0.1, 3)``."""
        lo, hi = self.support
        if self.prior == "normal":
            cut = "" if (self.low, self.high) == (None, None) else f", within {lo:g}..{hi:g}"
            return f"normal({self.mean:g}, sd {self.sd:g}{cut})"
        if self.prior == "beta":
            return f"beta({self.a:g}, {self.b:g}) on {lo:g}..{hi:g}"
        return f"{self.prior}({lo:g}, {hi:g})"


class Target(_Section):
    """One observed KPI: its values at months, their uncertainty (standard deviations) and weight in the distance."""

    kpi: str | None = Field(None, description="One of the KPIs (default: the target's name).")
    months: list[float] = Field(min_length=1, description="Months (since month 0) at which the KPI was observed.")
    values: list[float] = Field(min_length=1, description="Observed values, in the KPI's unit.")
    sd: float | list[float] = Field(description="Standard deviation of each observed value (one for all, or a list).")
    weight: float = Field(1.0, gt=0, description="Weight of this target's squared standardised errors.")
    window_months: float = Field(1.0, gt=0, description="Windowed KPIs: months before each month measured over.")
    touchpoint: str | None = Field(None, description="contacts: the touchpoint.")
    statistic: str | None = Field(None, description="survey: the statistic (see loyaltysim survey).")
    window_days: float = Field(SURVEY_WINDOW_DAYS, gt=0, description="survey: length of the survey's windows.")

    @field_validator("months", "values")
    @classmethod
    def _finite(cls, value: list[float]) -> list[float]:
        if any(not math.isfinite(x) for x in value):
            raise ValueError("finite numbers")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Target:
        if len(self.values) != len(self.months):
            raise ValueError(f"values: {len(self.values)} values for {len(self.months)} months; give one per month")
        sds = self.sds
        if len(sds) != len(self.months):
            raise ValueError(f"sd: {len(sds)} standard deviations for {len(self.months)} months; give one or one each")
        if any(not (s > 0 and math.isfinite(s)) for s in sds):
            raise ValueError(f"sd: standard deviations above 0, got {sds}")
        if any(m <= 0 for m in self.months):
            raise ValueError(f"months: months after month 0, got {self.months}")
        if len(set(self.months)) != len(self.months):
            raise ValueError(f"months: each month once, got {self.months}")
        return self

    @property
    def sds(self) -> list[float]:
        """One standard deviation per month."""
        return [float(self.sd)] * len(self.months) if isinstance(self.sd, int | float) else list(self.sd)


class Abc(_Section):
    """How the ABC-SMC fit runs, and when it stops (whichever rule comes first)."""

    population: int = Field(200, ge=10, le=100_000, description="Accepted parameter sets per generation.")
    generations: int = Field(8, ge=1, le=1000, description="At most this many generations.")
    min_epsilon: float = Field(0.0, ge=0, description="Stop once the acceptance distance is at or below this.")
    max_simulations: int | None = Field(None, ge=1, description="Stop after this many simulations in all.")
    max_minutes: float | None = Field(None, gt=0, description="Stop after a generation that ends past this time.")
    seed: int = Field(1, ge=0, description="Seed of the sampler (runs with one job are reproducible).")
    customers: int | None = Field(
        None, ge=100, description="Population size of each simulation (default: the scenario's)."
    )
    predictive: int = Field(40, ge=2, le=10_000, description="Posterior-predictive simulations for the report.")


class Targets(_Section):
    """A validated targets file."""

    name: str = Field("calibration", description="Short name.")
    description: str = ""
    set: dict[str, Any] = Field(
        default_factory=dict, description="Scenario keys fixed for the fit (kept in calibrated.toml)."
    )
    parameters: dict[str, Prior] = Field(description="Free parameters: dotted scenario key = prior.")
    targets: dict[str, Target] = Field(description="Observed KPIs fitted, by name.")
    holdout: dict[str, Target] = Field(default_factory=dict, description="Observed KPIs shown, not fitted.")
    abc: Abc = Field(default_factory=Abc)
    _source: str | None = PrivateAttr(None)

    @property
    def source(self) -> str | None:
        """The file it was read from (resolved), if any."""
        return self._source

    @model_validator(mode="before")
    @classmethod
    def _quoted(cls, data: Any) -> Any:
        """A dotted key left unquoted ([parameters.competitor.visibility]) becomes nested tables: say to quote it."""
        params = data.get("parameters") if isinstance(data, dict) else None
        for name, value in (params or {}).items():
            if isinstance(value, dict) and "prior" not in value and any(isinstance(v, dict) for v in value.values()):
                inner = next(k for k, v in value.items() if isinstance(v, dict))
                raise ValueError(
                    f'parameters.{name}: quote a dotted key in the table name: [parameters."{name}.{inner}"]'
                )
        return data

    @field_validator("parameters")
    @classmethod
    def _some_parameters(cls, value: dict[str, Prior]) -> dict[str, Prior]:
        if not value:
            raise ValueError('no free parameters: give at least one, e.g. [parameters."competitor.visibility"]')
        return value

    @field_validator("targets")
    @classmethod
    def _some_targets(cls, value: dict[str, Target]) -> dict[str, Target]:
        if not value:
            raise ValueError("an empty target set: give at least one KPI with months, values and sd")
        return value

    @model_validator(mode="after")
    def _kpis(self) -> Targets:
        for table, group in (("targets", self.targets), ("holdout", self.holdout)):
            for name, t in group.items():
                kpi = t.kpi or name
                where = f"{table}.{name}"
                if kpi not in KPIS:
                    hint = difflib.get_close_matches(kpi, list(KPIS), n=1)
                    more = f"; did you mean '{hint[0]}'?" if hint else ""
                    raise ValueError(f"{where}.kpi: unknown KPI '{kpi}'; allowed: {', '.join(KPIS)}{more}")
                if "window_months" in t.model_fields_set and not KPIS[kpi].windowed:
                    raise ValueError(f"{where}.window_months: {kpi} is read at the month, not over a window")
                if (kpi == "contacts") != (t.touchpoint is not None):
                    raise ValueError(f"{where}.touchpoint: contacts need a touchpoint, and only contacts take one")
                if (kpi == "survey") != (t.statistic is not None):
                    raise ValueError(f"{where}.statistic: survey targets need a statistic, and only they take one")
                if kpi == "survey" and t.statistic not in SURVEY_STATISTICS:
                    raise ValueError(f"{where}.statistic: one of {', '.join(SURVEY_STATISTICS)}")
        for name, t in self.holdout.items():
            fitted = self.targets.get(name)
            if fitted is None:
                continue
            same = ("kpi", "touchpoint", "statistic", "window_months", "window_days")
            if any(getattr(t, k) != getattr(fitted, k) for k in same):
                raise ValueError(
                    f"holdout.{name}: a held-out target named like a fitted one continues it (same kpi, touchpoint, "
                    "statistic and windows); give it another name to hold out another KPI"
                )
            if set(t.months) & set(fitted.months):
                common = sorted(set(t.months) & set(fitted.months))
                raise ValueError(
                    f"holdout.{name}.months: months {common} are fitted in targets.{name}; hold out others"
                )
        return self

    def fingerprint_data(self) -> dict[str, Any]:
        """What a calibration's results depend on: everything but its name, description and stopping rules.

        A calibration resumed with more generations, a later wall-time budget or another epsilon is the same fit.
        """
        data = self.model_dump(mode="json", exclude={"name", "description"})
        data["abc"] = {k: data["abc"][k] for k in ("population", "customers")}
        return data


def load_targets(path: str | Path, scenario: Scenario) -> tuple[Targets, Scenario]:
    """Read a targets file and check it against ``scenario``.

    Returns
    -------
    targets : Targets
    fitted : Scenario
        ``scenario`` with the file's ``set`` and ``abc.customers`` applied: what each simulation starts from.

    Raises
    ------
    InputError
        One line naming the file, the key, the value and what is allowed.
    """
    label = str(path)
    targets = validate_model(Targets, read_toml(path, "targets file"), label)
    targets._source = str(Path(path).resolve())
    fitted = scenario
    for table, changes in (("set", targets.set), ("abc", {"population.size": targets.abc.customers})):
        changes = {k: v for k, v in changes.items() if v is not None}
        try:
            fitted = fitted.with_overrides(changes, label=label) if changes else fitted
        except InputError as exc:
            key = "abc.customers" if table == "abc" else f"set.{exc.key}"
            raise InputError(label, key, exc.value, exc.allowed) from None
    check_against(targets, fitted, label)
    return targets, fitted


def check_against(targets: Targets, spec: Scenario, label: str) -> None:
    """Refuse priors on keys ``spec`` lacks or outside their limits, and targets it cannot measure."""
    data = spec.model_dump()
    for key, prior in targets.parameters.items():
        where = f'parameters."{key}"'
        try:
            lo, hi = key_bounds(data, key, where)
        except InputError as exc:
            raise InputError(label, exc.file if exc.key is None else exc.key, exc.value, exc.allowed) from None
        p_lo, p_hi = prior.support
        if prior.prior != "normal" and not (lo <= p_lo and p_hi <= hi):
            raise InputError(label, where, prior.describe(), f"a prior inside the key's limits {lo:g} .. {hi:g}")
        if prior.prior == "normal":
            a, b = max(lo, p_lo), min(hi, p_hi)
            norm = stats.norm(prior.mean, prior.sd)
            mass = norm.cdf(b) - norm.cdf(a) if a < b else 0.0
            if not mass >= MIN_PRIOR_MASS:
                raise InputError(
                    label,
                    where,
                    prior.describe(),
                    f"a normal prior with its mass inside the key's limits {lo:g} .. {hi:g}",
                )
        for end in _ends(prior, (lo, hi)):
            try:
                spec.with_overrides({key: end}, label=where)
            except InputError as exc:
                raise InputError(
                    label, where, f"{end:g}", f"a prior whose values make a valid scenario: {exc.allowed}"
                ) from None
    horizon = step_to_month(spec.n_steps, spec.time.step_days)
    for table, group in (("targets", targets.targets), ("holdout", targets.holdout)):
        for name, t in group.items():
            where = f"{table}.{name}"
            for m in t.months:
                if KPIS[t.kpi or name].windowed and t.window_months > m * (1 + 1e-9):
                    raise InputError(
                        label, f"{where}.window_months", f"{t.window_months:g}", f"a window of at most the month {m:g}"
                    )
                if month_to_step(m, spec.time.step_days) > spec.n_steps:
                    raise InputError(
                        label,
                        f"{where}.months",
                        f"{m:g}",
                        f"months within the scenario's horizon of {horizon:.4g} months "
                        "(raise time.horizon_days in set)",
                    )
                if month_to_step(m, spec.time.step_days) < 1:
                    raise InputError(
                        label, f"{where}.months", f"{m:g}", f"at least one step ({spec.time.step_days:g} days)"
                    )
            if t.touchpoint is not None and t.touchpoint not in spec.touchpoints:
                raise InputError(
                    label, f"{where}.touchpoint", repr(t.touchpoint), f"one of {', '.join(spec.touchpoints)}"
                )
            if (t.kpi or name) == "survey":
                window = survey_window(spec, t)
                for m in t.months:
                    if checkpoint_step(spec, m, label) < 2 * window:
                        first = step_to_month(2 * window, spec.time.step_days)
                        raise InputError(
                            label,
                            f"{where}.months",
                            f"{m:g}",
                            f"a month from {first:.1f} on: the survey looks back two windows of {t.window_days:g} days",
                        )


def prior_bounds(spec: Scenario, targets: Targets) -> dict[str, tuple[float, float]]:
    """Each free parameter's key limits in ``spec`` (a normal prior is truncated to them)."""
    data = spec.model_dump()
    return {k: key_bounds(data, k, "calibration") for k in targets.parameters}


def survey_window(spec: Scenario, target: Target) -> int:
    """A survey target's window in steps (at least one)."""
    return max(1, round(target.window_days / spec.time.step_days))


def kpi_window(spec: Scenario, target: Target) -> int:
    """A windowed target's window in steps (at least one)."""
    return max(1, round(target.window_months * MONTH_DAYS / spec.time.step_days))


def _ends(prior: Prior, bounds: tuple[float, float]) -> list[float]:
    """Values at the ends of a prior's mass (its 0.1 % and 99.9 % quantiles where it has no hard ends)."""
    dist = prior.distribution(bounds)
    return [float(x) for x in np.clip(dist.ppf([0.0005, 0.9995]), *bounds)]


def to_toml(targets: Targets) -> str:
    """A targets file's text for ``targets`` (what `load_targets` reads back to the same `Targets`)."""
    return toml_text(targets.model_dump(exclude_none=True, exclude_unset=True))
