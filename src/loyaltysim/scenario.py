"""Scenario files: every model parameter, declared once, and how a TOML file becomes a `Scenario`.

Each parameter is a pydantic field with its default, allowed range, unit, a one-line meaning and the source of
the default number. Validation, the CLI's ``--set``, the teaching app's sliders, sweep axes, the JSON Schema and
the parameter table in ``docs/model.md`` all read these declarations; nothing declares a parameter a second time.

Rates are stated per month (``MONTH_DAYS`` days); a step lasts ``time.step_days`` days.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from loyaltysim.errors import ScenarioError, first_error

__all__ = [
    "MONTH_DAYS",
    "STAGES",
    "Change",
    "Intervention",
    "Persona",
    "Scenario",
    "Touchpoint",
    "json_schema",
    "load_scenario",
    "parameter_table",
    "scenario_from_dict",
]

MONTH_DAYS = 365.25 / 12
"""Length of the month in which every rate is stated, in days."""

STAGES = ("needs", "expectations", "desires", "preferences", "personalization", "empathy")
"""The six stages of the CX Spectrum (seed 000), shallowest first."""


def param(default: Any, doc: str, *, unit: str = "", source: str = "assumption", **limits: Any) -> Any:
    """Declare a scenario parameter: default, limits (ge, le, gt, lt), unit, meaning and source."""
    extra = {"unit": unit, "source": source}
    return Field(default, description=doc, json_schema_extra=extra, **limits)


class Section(BaseModel):
    """Base of every scenario table: unknown keys are errors, values are checked on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


class Time(Section):
    """Step length and horizon."""

    step_days: float = param(
        7.0, "Length of one simulation step.", unit="days", gt=0, le=366, source="assumption (weekly steps)"
    )
    horizon_days: float = param(
        364.0, "Simulated time span.", unit="days", gt=0, le=36525, source="assumption (one year of weekly steps)"
    )

    @model_validator(mode="after")
    def _horizon(self) -> Time:
        if self.horizon_days < self.step_days:
            raise ValueError(
                f"horizon_days ({self.horizon_days:g}) must be at least one step (step_days = {self.step_days:g})"
            )
        return self


class Population(Section):
    """Who is in the market at the start."""

    size: int = param(
        10_000, "Number of people in the market (prospects plus customers).", unit="people", ge=1, le=200_000_000
    )
    initial_customers: float = param(
        0.3, "Share of the market that is already a customer at the start.", unit="fraction", ge=0, le=1
    )
    initial_stage_shares: list[float] = param(
        [0.15, 0.20, 0.30, 0.15, 0.12, 0.08],
        "How starting customers spread over the six stages (needs ... empathy); sums to 1.",
        unit="fractions",
        source="assumption (most customers in the transactional middle stages)",
    )
    initial_loyalty: float = param(
        0.68,
        "Mean loyalty (0-1) of starting and newly won customers.",
        unit="score",
        ge=0,
        le=1,
        source="assumption (with loyalty_spread 0.25 the starting NPS is about -17, a weak telecom)",
    )
    loyalty_spread: float = param(
        0.25, "Half-width of the uniform spread of starting loyalty around its mean.", unit="score", ge=0, le=0.5
    )
    initial_expectation: float = param(
        0.5, "Expected experience quality (0-1) a customer starts with.", unit="score", ge=0, le=1
    )

    @model_validator(mode="after")
    def _shares(self) -> Population:
        s = self.initial_stage_shares
        if len(s) != len(STAGES) or any(x < 0 for x in s) or abs(sum(s) - 1) > 1e-6:
            raise ValueError(f"initial_stage_shares must be {len(STAGES)} non-negative numbers summing to 1, got {s}")
        return self


class Market(Section):
    """Acquisition (Bass), competitor pull and price."""

    marketing: float = param(
        0.0025,
        "Bass innovation p: monthly chance a prospect adopts from marketing alone.",
        unit="1/month",
        ge=0,
        le=1,
        source="Sultan, Farley & Lehmann (1990) meta-analysis mean p = 0.03/year, /12",
    )
    imitation: float = param(
        0.032,
        "Bass imitation q: monthly adoption chance added per unit of neighbour influence.",
        unit="1/month",
        ge=0,
        le=1,
        source="Sultan, Farley & Lehmann (1990) meta-analysis mean q = 0.38/year, /12",
    )
    competitor_pull: float = param(
        0.01,
        "Monthly hazard of switching to a competitor for a customer with zero loyalty.",
        unit="1/month",
        ge=0,
        le=5,
        source="assumption; seed 003: 61 % left a brand for a better competitor experience",
    )
    price: float = param(1.0, "Price relative to the reference price (1 = today's price).", unit="ratio", gt=0, le=10)
    price_sensitivity: float = param(
        0.05, "Extra monthly churn hazard per unit of relative price above 1.", unit="1/month", ge=0, le=10
    )


class Behaviour(Section):
    """How a customer judges an interaction and learns from it (CX pyramid, SERVQUAL gap, satisfaction)."""

    need_weight: float = param(
        0.4,
        "Weight of 'need met' (pyramid base) in perceived quality.",
        unit="weight",
        ge=0,
        le=1,
        source="assumption (seed 001 pyramid: base level)",
    )
    ease_weight: float = param(
        0.08,
        "Weight of ease (1 - effort) in perceived quality (effort acts mainly through frustration and churn).",
        unit="weight",
        ge=0,
        le=1,
        source="seed 004 (CEB): loyalty is 14 % low effort, 86 % emotional moments; 0.6 x 0.14",
    )
    feel_weight: float = param(
        0.52,
        "Weight of 'felt good' in perceived quality.",
        unit="weight",
        ge=0,
        le=1,
        source="seed 004 (CEB): 0.6 x 0.86 of what is not the pyramid's base",
    )
    empathy_share: float = param(
        0.5,
        "Share of empathy (vs personalization) in how good an interaction feels.",
        unit="fraction",
        ge=0,
        le=1,
        source="seed 000: personalization is the body, empathy the soul (equal parts)",
    )
    effort_noise: float = param(
        0.15, "Half-width of the uniform noise on the effort of one interaction.", unit="score", ge=0, le=1
    )
    feel_noise: float = param(
        0.15, "Half-width of the uniform noise on how an interaction feels.", unit="score", ge=0, le=1
    )
    effort_tolerance: float = param(
        0.6,
        "Felt effort above which an interaction is frustrating.",
        unit="score",
        ge=0,
        le=1,
        source="assumption (CES of about 4.6 on the 1-7 scale)",
    )
    loss_aversion: float = param(
        2.25,
        "How much more a shortfall weighs than an equal surplus.",
        unit="ratio",
        ge=1,
        le=10,
        source="Tversky & Kahneman (1992) loss-aversion coefficient 2.25",
    )
    neutral_satisfaction: float = param(
        0.7,
        "Satisfaction (0-1) with an interaction that exactly meets expectations.",
        unit="score",
        ge=0,
        le=1,
        source="assumption (expectancy-disconfirmation, Oliver 1980)",
    )
    satisfaction_sensitivity: float = param(
        1.5,
        "Satisfaction change per unit of (loss-weighted) disconfirmation.",
        unit="score",
        ge=0,
        le=10,
        source="assumption (Oliver 1980)",
    )
    loyalty_learning: float = param(
        0.1,
        "Share of the way loyalty moves towards the satisfaction of an interaction.",
        unit="1/interaction",
        ge=0,
        le=1,
    )
    expectation_learning: float = param(
        0.2,
        "Share of the way expectations move towards their target per interaction.",
        unit="1/interaction",
        ge=0,
        le=1,
        source="assumption; adaptive expectations (Oliver 1980)",
    )
    market_expectation: float = param(
        0.5,
        "Experience quality the market (competitors) sets as the norm.",
        unit="score",
        ge=0,
        le=1,
        source="assumption (seed 002: expectations also come from outside the firm)",
    )
    market_anchor: float = param(
        0.3, "Weight of the market norm (vs own experience) in the expectation target.", unit="fraction", ge=0, le=1
    )
    frustration_half_life_days: float = param(
        30.0, "Half-life of the memory of frustrating experiences.", unit="days", gt=0, le=3650
    )

    @model_validator(mode="after")
    def _weights(self) -> Behaviour:
        total = self.need_weight + self.ease_weight + self.feel_weight
        if abs(total - 1) > 1e-6:
            raise ValueError(f"need_weight + ease_weight + feel_weight must sum to 1, got {total:g}")
        return self


class Stages(Section):
    """Moves through the CX Spectrum and what each stage is worth."""

    advance_prob: float = param(
        0.25, "Chance to move one stage up after an interaction that meets the stage.", unit="probability", ge=0, le=1
    )
    slip_prob: float = param(
        0.3, "Chance to slip one stage down after a disappointing interaction.", unit="probability", ge=0, le=1
    )
    feel_threshold: float = param(
        0.5, "How good an interaction must feel to meet the desires stage and above.", unit="score", ge=0, le=1
    )
    ease_threshold: float = param(
        0.55, "Ease needed to meet the preferences stage and above.", unit="score", ge=0, le=1
    )
    personalization_threshold: float = param(
        0.5, "Touchpoint personalization needed at personalization and above.", unit="score", ge=0, le=1
    )
    empathy_threshold: float = param(0.6, "Touchpoint empathy needed at the empathy stage.", unit="score", ge=0, le=1)
    loyalty_bonus: float = param(
        0.15,
        "Extra satisfaction at the empathy stage (linear from 0 at needs).",
        unit="score",
        ge=0,
        le=1,
        source="assumption; seed 000: at the empathy stage the relationship is emotional",
    )
    spend_multipliers: list[float] = param(
        [0.7, 0.85, 1.0, 1.05, 1.15, 1.25],
        "Spend at each stage relative to the persona's spend (needs ... empathy).",
        unit="ratio",
        source="assumption; seed 003: 59 % will pay more for a great experience; seed 000: purchase at desires",
    )

    @model_validator(mode="after")
    def _multipliers(self) -> Stages:
        m = self.spend_multipliers
        if len(m) != len(STAGES) or any(x < 0 for x in m):
            raise ValueError(f"spend_multipliers must be {len(STAGES)} non-negative numbers, got {m}")
        return self


class WordOfMouth(Section):
    """Who tells whom about salient experiences, and what hearing it does."""

    positive_salience: float = param(
        0.08, "Disconfirmation above which an experience is worth telling.", unit="score", ge=0, le=10
    )
    negative_salience: float = param(
        0.08, "Loss-weighted shortfall beyond which an experience is worth telling.", unit="score", ge=0, le=10
    )
    positive_share: float = param(
        0.70,
        "Chance a customer tells after a salient good experience.",
        unit="probability",
        ge=0,
        le=1,
        source="seed 003: 70 % share good experiences",
    )
    negative_share: float = param(
        0.61,
        "Chance a customer tells after a salient bad experience.",
        unit="probability",
        ge=0,
        le=1,
        source="seed 003: 61 % share bad experiences",
    )
    positive_reach: float = param(0.1, "Share of neighbours told about a good experience.", unit="fraction", ge=0, le=1)
    negative_reach: float = param(
        0.4,
        "Share of neighbours told about a bad experience.",
        unit="fraction",
        ge=0,
        le=1,
        source="seed 004: a bad episode is told about 4x more (4 x 0.1)",
    )
    positive_weight: float = param(
        1.0, "Influence of one positive message, relative to one adopter neighbour.", unit="ratio", ge=0, le=100
    )
    negative_weight: float = param(
        1.0, "Influence of one negative message, relative to one adopter neighbour.", unit="ratio", ge=0, le=100
    )
    loyalty_effect: float = param(
        0.3,
        "Loyalty change of a customer per unit of net word of mouth heard.",
        unit="score",
        ge=0,
        le=10,
        source="assumption (seed 004: word of mouth moves loyalty)",
    )
    expectation_effect: float = param(
        0.2,
        "Expectation rise per unit of net positive word of mouth heard.",
        unit="score",
        ge=0,
        le=10,
        source="assumption (seed 002: expectations form from what one hears)",
    )


class Churn(Section):
    """What makes customers leave besides their base propensity."""

    enabled: bool = param(True, "Whether customers can leave at all (off for the Bass validation).", unit="")
    loyalty_effect: float = param(
        2.0, "Log-hazard change of base churn per unit of loyalty below the reference.", unit="1/score", ge=0, le=20
    )
    loyalty_reference: float = param(
        0.6, "Loyalty at which base churn equals the persona's Beta propensity.", unit="score", ge=0, le=1
    )
    frustration_effect: float = param(
        0.015,
        "Monthly churn hazard added per remembered frustrating experience.",
        unit="1/month",
        ge=0,
        le=10,
        source="assumption; seed 003: 56 % say they leave after a frustrating service "
        "experience (stated intent, far above behaviour)",
    )


class Economics(Section):
    """Margin and the costs of serving and winning customers."""

    gross_margin: float = param(
        0.6, "Share of revenue left after the cost of goods or network.", unit="fraction", ge=0, le=1
    )
    cost_to_serve_per_month: float = param(
        1.0, "Fixed monthly cost of keeping one customer (billing, retention).", unit="currency/month", ge=0
    )
    acquisition_cost: float = param(
        60.0,
        "Cost of winning one new customer.",
        unit="currency",
        ge=0,
        source="seed 003: winning a customer costs about 5x keeping one (5 x 12 months x cost_to_serve)",
    )


class Network(Section):
    """The social network word of mouth and adoption travel over."""

    kind: Literal["watts_strogatz", "barabasi_albert", "erdos_renyi", "ring", "complete", "edge_list"] = param(
        "watts_strogatz",
        "Social network between people.",
        unit="",
        source="assumption (small-world friendship networks, Watts & Strogatz 1998)",
    )
    mean_degree: int = param(
        10,
        "Average number of contacts per person (even for ring and small world).",
        unit="people",
        ge=1,
        le=1000,
        source="assumption",
    )
    rewire: float = param(
        0.1,
        "Watts-Strogatz rewiring probability.",
        unit="probability",
        ge=0,
        le=1,
        source="Watts & Strogatz (1998) small-world regime",
    )
    path: str | None = param(None, "Edge-list file (two 0-based ids a line, relative to the scenario file).", unit="")

    @model_validator(mode="after")
    def _path(self) -> Network:
        if self.kind == "edge_list" and not self.path:
            raise ValueError("kind 'edge_list' needs network.path")
        if self.kind in ("ring", "watts_strogatz") and self.mean_degree % 2:
            raise ValueError(f"mean_degree must be even for {self.kind}, got {self.mean_degree}")
        return self


class Touchpoint(Section):
    """One channel of the customer journey and the experience it gives (seed 002: journey touchpoints)."""

    visits_per_month: float = param(
        0.5, "How often an average customer uses this touchpoint.", unit="1/month", ge=0, le=100
    )
    fulfilment: float = param(
        0.9, "Chance the need is met at this touchpoint (1 - failure rate).", unit="probability", ge=0, le=1
    )
    effort: float = param(0.4, "Mean effort it takes (0 effortless, 1 torture).", unit="score", ge=0, le=1)
    empathy: float = param(0.4, "How much the customer feels understood and cared for.", unit="score", ge=0, le=1)
    personalization: float = param(
        0.3, "How much the interaction is tailored to the customer.", unit="score", ge=0, le=1
    )
    cost_per_interaction: float = param(1.0, "Cost to the company of one interaction.", unit="currency", ge=0)


class Persona(Section):
    """A buyer persona (seed 001): a share of the market with its own spend and sensitivities."""

    share: float = param(1.0, "Share of the market.", unit="fraction", ge=0, le=1)
    spend_per_month: float = param(30.0, "Monthly spend at the desires stage.", unit="currency/month", ge=0)
    effort_sensitivity: float = param(1.0, "How strongly effort is felt (1 = as measured).", unit="ratio", ge=0, le=5)
    emotion_sensitivity: float = param(
        1.0, "How strongly empathy and personalization are felt.", unit="ratio", ge=0, le=5
    )
    churn_a: float = param(
        0.8,
        "Beta a of the base monthly churn propensity.",
        unit="",
        ge=0.01,
        le=1000,
        source="assumption: Beta(0.8, 40), mean 2 %/month, typical mobile-telecom churn",
    )
    churn_b: float = param(
        40.0,
        "Beta b of the base monthly churn propensity.",
        unit="",
        ge=0.01,
        le=10000,
        source="assumption: see churn_a",
    )


class Change(Section):
    """How an intervention changes one level: exactly one of set, scale, add."""

    set: float | None = param(None, "New value.", unit="")
    scale: float | None = param(None, "Multiply the current value by this.", unit="ratio", ge=0)
    add: float | None = param(None, "Add this to the current value.", unit="")

    @model_validator(mode="after")
    def _one(self) -> Change:
        given = [k for k in ("set", "scale", "add") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of set, scale, add (got {given or 'none'})")
        return self

    def apply(self, value: float, lo: float = 0.0, hi: float = 1.0) -> float:
        """Return ``value`` changed, clipped to ``[lo, hi]``."""
        if self.set is not None:
            out = self.set
        elif self.scale is not None:
            out = value * self.scale
        else:
            out = value + self.add
        return min(hi, max(lo, out))


MAX_VISITS_PER_STEP = 150
"""Largest expected number of interactions of one customer in one step (the Poisson draw is capped at 255)."""

TOUCHPOINT_LEVERS = tuple(name for name in Touchpoint.model_fields if name != "cost_per_interaction")
MARKET_LEVERS = ("marketing", "price")


def _limits(model: type[BaseModel], field: str) -> tuple[float | None, float | None]:
    """Declared lower and upper limits of a field (ge/gt, le/lt)."""
    lo = hi = None
    for m in model.model_fields[field].metadata:
        lo = next((getattr(m, k) for k in ("ge", "gt") if getattr(m, k, None) is not None), lo)
        hi = next((getattr(m, k) for k in ("le", "lt") if getattr(m, k, None) is not None), hi)
    return lo, hi


def _fmt_limit(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


class Intervention(Section):
    """A lever a strategist pulls from a given day on, with what it costs (seed 002: the to-be journey)."""

    start_day: float = param(0.0, "Day from which the change holds.", unit="days", ge=0)
    touchpoint: str = param("all", "Touchpoint the level changes apply to, or 'all'.", unit="")
    visits_per_month: Change | None = param(None, "Change of the touchpoint's visit rate.", unit="1/month")
    fulfilment: Change | None = param(None, "Change of the chance the need is met.", unit="probability")
    effort: Change | None = param(None, "Change of the touchpoint's effort.", unit="score")
    empathy: Change | None = param(None, "Change of the touchpoint's empathy.", unit="score")
    personalization: Change | None = param(None, "Change of the touchpoint's personalization.", unit="score")
    marketing: Change | None = param(None, "Change of the Bass innovation p.", unit="1/month")
    price: Change | None = param(None, "Change of the relative price.", unit="ratio")
    cost_once: float = param(
        0.0, "One-off cost, paid in the first step that starts on or after start_day.", unit="currency", ge=0
    )
    cost_per_month: float = param(0.0, "Running cost per month from the start day.", unit="currency/month", ge=0)
    cost_per_interaction: float = param(0.0, "Extra cost per interaction at the touchpoint(s).", unit="currency", ge=0)


class Scenario(Section):
    """A complete, validated scenario: everything a run needs besides the seed."""

    name: str = param("scenario", "Short name used in tables and figures.", unit="")
    description: str = param("", "What this scenario represents.", unit="")
    time: Time = Field(default_factory=Time)
    population: Population = Field(default_factory=Population)
    market: Market = Field(default_factory=Market)
    behaviour: Behaviour = Field(default_factory=Behaviour)
    stages: Stages = Field(default_factory=Stages)
    word_of_mouth: WordOfMouth = Field(default_factory=WordOfMouth)
    churn: Churn = Field(default_factory=Churn)
    economics: Economics = Field(default_factory=Economics)
    network: Network = Field(default_factory=Network)
    touchpoints: dict[str, Touchpoint] = Field(
        default_factory=lambda: {"service": Touchpoint()}, min_length=1, max_length=120
    )
    personas: dict[str, Persona] = Field(default_factory=lambda: {"customer": Persona()}, min_length=1, max_length=120)
    interventions: dict[str, Intervention] = Field(default_factory=dict)
    source: str | None = Field(None, exclude=True, description="File the scenario was read from.")

    @model_validator(mode="after")
    def _cross(self) -> Scenario:
        total = sum(p.share for p in self.personas.values())
        if abs(total - 1) > 1e-6:
            raise ValueError(f"persona shares must sum to 1, got {total:g}")
        for name, iv in self.interventions.items():
            for lever in (*TOUCHPOINT_LEVERS, *MARKET_LEVERS):
                change = getattr(iv, lever)
                owner = Touchpoint if lever in TOUCHPOINT_LEVERS else Market
                if change is not None and change.set is not None:
                    lo, hi = _limits(owner, lever)
                    if (lo is not None and change.set < lo) or (hi is not None and change.set > hi):
                        raise ValueError(
                            f"interventions.{name}.{lever}.set = {change.set:g} is outside {lever}'s range "
                            f"[{_fmt_limit(lo)}, {_fmt_limit(hi)}]"
                        )
            if iv.touchpoint != "all" and iv.touchpoint not in self.touchpoints:
                raise ValueError(
                    f"interventions.{name}.touchpoint '{iv.touchpoint}' is not a touchpoint; "
                    f"allowed: 'all', {', '.join(repr(t) for t in self.touchpoints)}"
                )
        if (
            self.network.kind != "complete"
            and self.network.kind != "edge_list"
            and self.network.mean_degree >= self.population.size
        ):
            raise ValueError(
                f"network.mean_degree ({self.network.mean_degree}) must be below population.size "
                f"({self.population.size})"
            )
        visits = sum(t.visits_per_month for t in self.touchpoints.values()) * self.months_per_step
        if visits > MAX_VISITS_PER_STEP:
            raise ValueError(
                f"touchpoints' visits_per_month add up to {visits:.0f} interactions a step; at most "
                f"{MAX_VISITS_PER_STEP} are allowed: shorten time.step_days or lower visits_per_month"
            )
        return self

    @property
    def n_steps(self) -> int:
        """Number of steps in the horizon."""
        return max(1, math.floor(self.time.horizon_days / self.time.step_days + 0.5))

    @property
    def months_per_step(self) -> float:
        """Step length in the month in which rates are stated."""
        return self.time.step_days / MONTH_DAYS

    def with_overrides(self, overrides: Mapping[str, Any]) -> Scenario:
        """Return a copy with dotted keys changed, validated like a file."""
        data = self.model_dump(exclude={"source"})
        origin: dict[str, str] = {}
        for key, value in overrides.items():
            _set_dotted(data, key, value, label=self.source or "<scenario>")
            origin[key] = "--set"
        return scenario_from_dict(data, label=self.source or "<scenario>", origin=origin, source=self.source)


# ---------------------------------------------------------------------------------------------------------------
# Reading files


def _deep_merge(base: dict, over: dict, origin: dict, label: str, prefix: str = "") -> dict:
    out = dict(base)
    for key, value in over.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value, origin, label, dotted + ".")
        else:
            out[key] = value
            _mark(origin, dotted, value, label)
    return out


def _mark(origin: dict, dotted: str, value: Any, label: str) -> None:
    origin[dotted] = label
    if isinstance(value, dict):
        for k, v in value.items():
            _mark(origin, f"{dotted}.{k}", v, label)


def _read_toml(path: Path, chain: tuple[Path, ...], origin: dict) -> dict:
    label = str(path)
    if path in chain:
        cycle = " -> ".join(str(p) for p in (*chain, path))
        raise ScenarioError(label, "extends", str(path), f"no cycles (extends chain {cycle})")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        where = f"{chain[-1]}: extends" if chain else "scenario file"
        raise ScenarioError(label, None, None, f"file not found ({where})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(label, None, None, f"cannot read file: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(label, None, None, f"not valid TOML: {exc}") from None
    parent = data.pop("extends", None)
    if parent is None:
        _mark(origin, "", data, label)
        origin.pop("", None)
        for key, value in data.items():
            _mark(origin, key, value, label)
        if isinstance(data.get("network"), dict) and "path" in data["network"]:
            data["network"]["path"] = str((path.parent / str(data["network"]["path"])).resolve())
        return data
    if not isinstance(parent, str):
        raise ScenarioError(label, "extends", repr(parent), "a file name (string) relative to this file")
    base = _read_toml((path.parent / parent).resolve(), (*chain, path), origin)
    if isinstance(data.get("network"), dict) and "path" in data["network"]:
        data["network"]["path"] = str((path.parent / str(data["network"]["path"])).resolve())
    return _deep_merge(base, data, origin, label)


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Read, merge (``extends``) and validate a scenario file.

    Parameters
    ----------
    path
        TOML file. ``extends = "other.toml"`` (relative to the file) inherits everything the file does not set.
    overrides
        Dotted keys to change after reading, e.g. ``{"touchpoints.phone.effort": 0.3}``; strings are parsed as
        TOML values (``"0.3"``, ``"true"``, ``"[1, 2]"``).

    Raises
    ------
    ScenarioError
        With a one-line message naming the file, the key, the value and what is allowed.
    """
    path = Path(path).resolve()
    origin: dict[str, str] = {}
    data = _read_toml(path, (), origin)
    for key, value in (overrides or {}).items():
        _set_dotted(data, key, value, label="--set")
        origin[key] = "--set"
    if origin.get("name") not in (str(path), "--set"):  # named after its own file, not the one it extends
        data["name"] = path.stem
    return scenario_from_dict(data, label=str(path), origin=origin, source=str(path))


def parse_value(text: str) -> Any:
    """Parse a ``--set`` value as TOML (numbers, booleans, lists, quoted strings); fall back to a bare string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _set_dotted(data: dict, key: str, value: Any, label: str) -> None:
    if isinstance(value, str):
        value = parse_value(value)
    parts = key.split(".")
    node = data
    for i, part in enumerate(parts[:-1]):
        nxt = node.get(part)
        if nxt is None:
            nxt = node[part] = {}
        if not isinstance(nxt, dict):
            raise ScenarioError(label, ".".join(parts[: i + 1]), repr(nxt), "a table, so it has no sub-keys")
        node = nxt
    node[parts[-1]] = value


def scenario_from_dict(
    data: Mapping[str, Any],
    *,
    label: str = "<dict>",
    origin: Mapping[str, str] | None = None,
    source: str | None = None,
) -> Scenario:
    """Validate a nested dict as a `Scenario`, turning the first problem into a one-line `ScenarioError`."""
    try:
        scenario = Scenario.model_validate(dict(data))
    except ValidationError as exc:
        raise _friendly(exc, label, origin or {}) from None
    scenario.source = source
    return scenario


def _friendly(exc: ValidationError, label: str, origin: Mapping[str, str]) -> ScenarioError:
    err = first_error(exc)
    loc = [str(p) for p in err["loc"]]
    key = ".".join(loc)
    value = err.get("input")
    where = (
        (_section_origin(origin, key, label) if isinstance(value, dict) else None)
        or origin.get(key)
        or _closest_origin(origin, key)
        or label
    )
    kind = err["type"]
    if kind == "extra_forbidden":
        parent = loc[:-1]
        allowed = _allowed_keys(parent)
        hint = difflib.get_close_matches(loc[-1], allowed, n=1)
        more = f"; did you mean '{hint[0]}'?" if hint else ""
        return ScenarioError(where, key, _short(value), f"unknown key; allowed here: {', '.join(allowed)}{more}")
    if kind == "missing":
        return ScenarioError(where, key, None, "this key is required")
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    shown = None if not key or isinstance(value, dict) else _short(value)  # a table's own check says what is wrong
    return ScenarioError(where, key or None, shown, msg[0].lower() + msg[1:])


def _section_origin(origin: Mapping[str, str], key: str, label: str) -> str | None:
    """For a whole table's check: the file that was read (or --set) if it set anything in that table."""
    prefix = f"{key}." if key else ""
    files = {f for k, f in origin.items() if k.startswith(prefix)}
    for preferred in ("--set", label):
        if preferred in files:
            return preferred
    return None


def _closest_origin(origin: Mapping[str, str], key: str) -> str | None:
    parts = key.split(".")
    while parts:
        parts.pop()
        hit = origin.get(".".join(parts))
        if hit:
            return hit
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _allowed_keys(loc: list[str]) -> list[str]:
    model: type[BaseModel] = Scenario
    for part in loc:
        field = model.model_fields.get(part)
        if field is None:
            continue  # a dict key (touchpoint or persona name)
        ann = field.annotation
        sub = _section_type(ann)
        if sub is None:
            return []
        model = sub
    return [k for k in model.model_fields if k != "source"]


def _section_type(ann: Any) -> type[BaseModel] | None:
    import typing

    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in typing.get_args(ann):
        found = _section_type(arg)
        if found is not None:
            return found
    return None


# ---------------------------------------------------------------------------------------------------------------
# The declarations as data (docs, sliders, sweep axes)


def parameter_table() -> list[dict[str, Any]]:
    """Every declared parameter as rows: dotted key, default, limits, unit, meaning, source.

    Table sections appear as ``section.key``; per-touchpoint, per-persona and per-intervention fields as
    ``touchpoints.<name>.key`` etc.
    """
    rows: list[dict[str, Any]] = []
    sections: list[tuple[str, type[BaseModel]]] = [
        (name, _section_type(f.annotation))
        for name, f in Scenario.model_fields.items()
        if _section_type(f.annotation) is not None
    ]
    for prefix, model in sections:
        if prefix in ("touchpoints", "personas", "interventions"):
            prefix = f"{prefix}.<name>"
        for key, field in model.model_fields.items():
            if _section_type(field.annotation) is Change:
                continue
            extra = field.json_schema_extra or {}
            limits = {
                k: getattr(m, k)
                for m in field.metadata
                for k in ("ge", "gt", "le", "lt")
                if getattr(m, k, None) is not None
            }
            rows.append(
                {
                    "key": f"{prefix}.{key}",
                    "default": field.default,
                    "min": limits.get("ge", limits.get("gt")),
                    "max": limits.get("le", limits.get("lt")),
                    "unit": extra.get("unit", ""),
                    "meaning": field.description or "",
                    "source": extra.get("source", "assumption"),
                }
            )
    return rows


def json_schema() -> dict[str, Any]:
    """JSON Schema of scenario files (``extends`` included), for editors and CI checks."""
    schema = Scenario.model_json_schema(mode="validation")
    schema["properties"]["extends"] = {"type": "string", "description": "Scenario file this one builds on."}
    schema["properties"].pop("source", None)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "loyaltysim scenario"
    return schema
