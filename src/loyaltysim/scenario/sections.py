"""The tables of the market and of how customers behave.

Time, population, market, behaviour, stages, word of mouth, churn, the competitor, NPS answers, economics and network.
Each value is a `param` with its default, range, unit, one-line meaning and the source of the default number. Rates
are stated per month (`MONTH_DAYS` days); a step lasts ``time.step_days`` days. The module is kept whole, though a
little over 400 lines: it is the list of declarations, one table after another, that ``docs/model.md`` tabulates.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import model_validator

from loyaltysim.errors import warn
from loyaltysim.scenario.declare import STAGES, Section, param
from loyaltysim.vocabulary import CUSTOMER_STAGES


def _check_customer_stages(values: list[float], key: str, why: str, numbers: str = "non-negative numbers") -> None:
    """Refuse a model-1 list of six stages with what replaced it, and any list not one per customer stage."""
    n = len(CUSTOMER_STAGES)
    if len(values) == len(STAGES) and len(values) != n:
        raise ValueError(
            f"{key} now lists the {n} customer stages ({', '.join(CUSTOMER_STAGES)}): {why}; got six numbers"
        )
    if len(values) != n or any(x < 0 for x in values):
        raise ValueError(f"{key} must be {n} {numbers}, got {values}")


__all__ = [
    "Behaviour",
    "Churn",
    "Competitor",
    "Economics",
    "Market",
    "Network",
    "Nps",
    "Population",
    "Stages",
    "Time",
    "WordOfMouth",
]


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
        steps = self.horizon_days / self.step_days
        whole = max(1, math.floor(steps + 0.5))
        if abs(steps - whole) > 1e-9 * steps:
            warn(
                f"time.horizon_days: {self.horizon_days:g} days is not a whole number of {self.step_days:g}-day "
                f"steps: running {whole} steps ({whole * self.step_days:g} days)"
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
        [0.3, 0.38, 0.2, 0.12],
        "How starting customers spread over the customer stages desires, preferences, personalization, empathy; "
        "sums to 1.",
        unit="fractions",
        source="assumption (near where the baseline settles within a year: most customers at desires and "
        "preferences, a few with an emotional bond)",
    )
    initial_considering: float = param(
        0.5,
        "Share of the starting prospects already at expectations (considering the firm); the rest are at needs.",
        unit="fraction",
        ge=0,
        le=1,
        source="assumption",
    )
    initial_loyalty: float = param(
        0.7,
        "Mean starting loyalty (0-1), the attitude to the brand, of everyone; a prospect keeps its own when it buys, "
        "and this mean is the neutral attitude of market.attitude_effect.",
        unit="score",
        ge=0,
        le=1,
        source="assumption (with loyalty_spread 0.25 the starting NPS is about -16, a weak telecom)",
    )
    loyalty_spread: float = param(
        0.25, "Half-width of the uniform spread of starting loyalty around its mean.", unit="score", ge=0, le=0.5
    )
    initial_expectation: float = param(
        0.5, "Experience quality (0-1) everyone first expects of every touchpoint.", unit="score", ge=0, le=1
    )

    @model_validator(mode="after")
    def _shares(self) -> Population:
        s = self.initial_stage_shares
        why = "customers buy at desires, and population.initial_considering places the prospects"
        _check_customer_stages(s, "initial_stage_shares", why, "non-negative numbers summing to 1")
        if abs(sum(s) - 1) > 1e-6:
            raise ValueError(f"initial_stage_shares must be {len(s)} non-negative numbers summing to 1, got {s}")
        return self


class Market(Section):
    """Acquisition (Bass, through the pre-purchase stages) and price."""

    marketing: float = param(
        0.0025,
        "Bass innovation p: monthly rate (hazard) at which a prospect at expectations buys from marketing alone.",
        unit="1/month",
        ge=0,
        le=1,
        source="Sultan, Farley & Lehmann (1990) meta-analysis mean p = 0.03/year, /12",
        lever=True,
    )
    imitation: float = param(
        0.032,
        "Bass imitation q: monthly rate added to consideration and purchase per unit of influence (the share of "
        "neighbours who are customers).",
        unit="1/month",
        ge=0,
        le=1,
        source="Sultan, Farley & Lehmann (1990) meta-analysis mean q = 0.38/year, /12",
    )
    consideration: float = param(
        0.1,
        "Monthly hazard that a prospect at needs starts considering the firm (moves to expectations) from marketing "
        "alone; imitation x influence adds to it and the prospect's attitude scales it.",
        unit="1/month",
        ge=0,
        le=10,
        source="assumption (awareness before purchase; seed 000: needs and expectations precede the purchase)",
    )
    attitude_effect: float = param(
        4.0,
        "Log-change of a prospect's consideration and purchase rates per unit of loyalty (attitude to the brand) "
        "above population.initial_loyalty; word of mouth heard moves it.",
        unit="1/score",
        ge=0,
        le=50,
        source="assumption (seed 004: what prospects hear decides whether they buy)",
    )
    discrete_bass: bool = param(
        False,
        "Use the discrete Bass recursion (chance p + q F per month, compounded per step) instead of the hazard "
        "1 - exp(-(p + q F) dt); the Bass validation's special case.",
        unit="",
        source="Bass (1969); the hazard form makes adoption independent of the step length",
    )
    price: float = param(
        1.0, "Price relative to the reference price (1 = today's price).", unit="ratio", gt=0, le=10, lever=True
    )
    price_response: float = param(
        0.5,
        "Log-change of the churn hazard (and minus that of the purchase hazard) per unit of the price's pain (the "
        "excess over willingness to pay, loss-weighted; negative below it, which lowers churn).",
        unit="1/ratio",
        ge=0,
        le=50,
        source="assumption; reference-price models (Kalyanaram & Winer 1995)",
    )
    price_loss_aversion: float = param(
        2.0,
        "How much more a price above willingness to pay weighs than an equal price below it.",
        unit="ratio",
        ge=1,
        le=10,
        source="Kalyanaram & Winer (1995): price increases weigh about twice as much as decreases",
    )
    wtp_spread: float = param(
        0.4,
        "Half-width of the uniform spread of willingness to pay around the reference price.",
        unit="ratio",
        ge=0,
        le=5,
        source="assumption",
    )
    wtp_experience: float = param(
        0.65,
        "Rise of willingness to pay per unit of loyalty above churn.loyalty_reference.",
        unit="ratio",
        ge=0,
        le=10,
        source="calibrated: the survey's share who would pay more after a great experience is seed 003's 59 % "
        "(docs/survey.md)",
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
        0.7,
        "Mean over customers of the felt effort above which an interaction is frustrating.",
        unit="score",
        ge=0,
        le=1,
        source="assumption (CES of about 4.6 on the 1-7 scale)",
    )
    effort_tolerance_spread: float = param(
        0.2,
        "Half-width of the uniform spread of effort tolerance over customers (no shared threshold, no cliff).",
        unit="score",
        ge=0,
        le=1,
        source="assumption (customers differ in patience)",
    )
    loss_aversion: float = param(
        2.25,
        "How much more a shortfall weighs than an equal surplus.",
        unit="ratio",
        ge=1,
        le=10,
        source="Tversky & Kahneman (1992) loss-aversion coefficient 2.25",
    )
    value_curvature: float = param(
        0.88,
        "Diminishing sensitivity: the gap to expectation is felt as |gap| ** value_curvature (1 = linear).",
        unit="exponent",
        gt=0,
        le=1,
        source="Tversky & Kahneman (1992) value-function exponent 0.88",
    )
    value_for_money: float = param(
        0.1,
        "Satisfaction lost per unit of the price's pain (price above willingness to pay, loss-weighted; a price below "
        "it adds satisfaction).",
        unit="score/ratio",
        ge=0,
        le=10,
        source="ACSI: perceived value drives satisfaction (Fornell et al. 1996); assumption for the size",
    )
    recovery_paradox: float = param(
        0.1,
        "Quality added to an interaction whose failure a recovery contact fixed (the service recovery paradox).",
        unit="score",
        ge=0,
        le=1,
        source="assumption; McCollough, Berry & Yadav (2000); de Matos, Henrique & Rossi (2007) meta-analysis: a "
        "paradox on satisfaction, none on loyalty on average",
    )
    neutral_satisfaction: float = param(
        0.62,
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
        0.25,
        "Chance to move one stage up after an interaction that gives what the next stage asks for.",
        unit="probability",
        ge=0,
        le=1,
    )
    slip_prob: float = param(
        0.15,
        "Chance to slip one stage down after a disappointing interaction that misses what the stage asks for.",
        unit="probability",
        ge=0,
        le=1,
    )
    feel_threshold: float = param(
        0.3,
        "Mean over customers of how good an interaction must feel (felt emotion) for the desires stage.",
        unit="score",
        ge=0,
        le=1,
    )
    ease_threshold: float = param(
        0.55,
        "Mean over customers of the ease (1 - felt effort) the preferences stage asks for.",
        unit="score",
        ge=0,
        le=1,
    )
    personalization_threshold: float = param(
        0.45,
        "Mean over customers of the felt personalization the personalization stage asks for.",
        unit="score",
        ge=0,
        le=1,
    )
    empathy_threshold: float = param(
        0.45, "Mean over customers of the felt empathy the empathy stage asks for.", unit="score", ge=0, le=1
    )
    threshold_spread: float = param(
        0.25,
        "Half-width of the uniform spread of each stage threshold over customers (no shared threshold, no cliff).",
        unit="score",
        ge=0,
        le=1,
        source="assumption (customers differ in what they ask for)",
    )
    loyalty_bonus: float = param(
        0.15,
        "Extra satisfaction at the empathy stage (linear from 0 at desires).",
        unit="score",
        ge=0,
        le=1,
        source="assumption; seed 000: at the empathy stage the relationship is emotional",
    )
    at_risk_churn: float = param(
        1.25,
        "Churn hazard multiplier of a customer who slipped below desires (at risk).",
        unit="ratio",
        ge=1,
        le=100,
        source="assumption",
    )
    spend_multipliers: list[float] = param(
        [1.0, 1.05, 1.15, 1.25],
        "Spend at each customer stage (desires, preferences, personalization, empathy) relative to the persona's "
        "spend; customers at risk spend as at desires.",
        unit="ratio",
        source="assumption; seed 003: 59 % will pay more for a great experience; seed 000: purchase at desires",
    )

    @model_validator(mode="after")
    def _multipliers(self) -> Stages:
        _check_customer_stages(
            self.spend_multipliers, "spend_multipliers", "customers buy at desires and pay from there"
        )
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
        0.35,
        "Chance a customer tells after a salient good experience.",
        unit="probability",
        ge=0,
        le=1,
        source="calibrated: 70 % of customers with a good experience tell of one in 90 days (seed 003; docs/survey.md)",
    )
    negative_share: float = param(
        0.47,
        "Chance a customer tells after a salient bad experience.",
        unit="probability",
        ge=0,
        le=1,
        source="calibrated: 61 % of customers with a bad experience tell of one in 90 days (seed 003; docs/survey.md)",
    )
    positive_reach: float = param(
        0.2, "Share of neighbours told about a good experience.", unit="fraction", ge=0, le=1, source="assumption"
    )
    negative_reach: float = param(
        0.6,
        "Share of neighbours told about a bad experience.",
        unit="fraction",
        ge=0,
        le=1,
        source="calibrated: a bad episode reaches about 4x the listeners of a good one (seed 004; docs/survey.md)",
    )
    positive_weight: float = param(
        1.0, "Weight of one good story heard in the net word of mouth heard.", unit="ratio", ge=0, le=100
    )
    negative_weight: float = param(
        1.0, "Weight of one bad story heard in the net word of mouth heard.", unit="ratio", ge=0, le=100
    )
    loyalty_effect: float = param(
        0.3,
        "Loyalty (attitude) change of a customer or prospect per unit of net word of mouth heard.",
        unit="score",
        ge=0,
        le=10,
        source="assumption (seed 004: word of mouth moves loyalty)",
    )
    expectation_effect: float = param(
        0.2,
        "Expectation change of a prospect per unit of net word of mouth heard (customers judge by experience).",
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
    win_back: float = param(
        0.01,
        "Monthly hazard that a former customer comes back into the prospects (at expectations).",
        unit="1/month",
        ge=0,
        le=10,
        source="assumption (win-back of lapsed customers; 0 in the sBG validation)",
    )
    frustration_effect: float = param(
        0.01,
        "Monthly churn hazard added per remembered frustrating experience.",
        unit="1/month",
        ge=0,
        le=10,
        source="assumption; seed 003: 56 % say they leave after a frustrating service "
        "experience (stated intent, far above behaviour)",
    )


class Competitor(Section):
    """The rival offer customers can switch to: its experience, price and how visible it is (seed 003)."""

    visibility: float = param(
        0.06,
        "Monthly rate at which a customer weighs the competitor's offer (its quality over the market's expectation "
        "and its price, against the customer's loyalty): the switching hazard is "
        "this times the logit choice of the rival (0: no switching).",
        unit="1/month",
        ge=0,
        le=10,
        source="calibrated: 61 % of churn is to the better competitor experience (seed 003; docs/survey.md)",
    )
    fulfilment: float = param(0.88, "Chance the competitor meets the need.", unit="probability", ge=0, le=1)
    effort: float = param(0.4, "Mean effort of the competitor's interactions.", unit="score", ge=0, le=1)
    empathy: float = param(0.3, "Empathy of the competitor's interactions.", unit="score", ge=0, le=1)
    personalization: float = param(0.3, "Personalization of the competitor's interactions.", unit="score", ge=0, le=1)
    price: float = param(1.0, "Competitor's price relative to the reference price.", unit="ratio", gt=0, le=10)
    choice_sensitivity: float = param(
        8.0,
        "Logit scale of the switching choice: how sharply value differences decide it.",
        unit="1/score",
        ge=0,
        le=100,
        source="assumption (multinomial logit choice, McFadden 1974)",
    )
    loyalty_weight: float = param(
        1.0,
        "Weight of the customer's loyalty (above churn.loyalty_reference) in the value of staying.",
        unit="ratio",
        ge=0,
        le=10,
        source="assumption",
    )
    price_weight: float = param(
        0.25, "Value lost per unit of relative price in the switching choice.", unit="score/ratio", ge=0, le=10
    )
    norm_share: float = param(
        0.5,
        "Share of the market's norm of experience (what customers anchor their expectations to) the competitor sets.",
        unit="fraction",
        ge=0,
        le=1,
        source="assumption; seed 002: expectations also come from outside the firm",
    )


class Nps(Section):
    """How a customer answers the 0-10 likelihood-to-recommend question of the Net Promoter Score."""

    scale_use_sd: float = param(
        1.5,
        "Spread of a customer's personal scale use: some answer high, some low, for the same loyalty.",
        unit="points",
        ge=0,
        le=5,
        source="assumption; response styles vary between respondents (Baumgartner & Steenkamp 2001)",
    )
    answer_noise_sd: float = param(
        1.0,
        "Spread of one answer around the customer's usual answer (the occasion's mood).",
        unit="points",
        ge=0,
        le=5,
        source="assumption",
    )


class Economics(Section):
    """Margin and the costs of serving and winning customers."""

    gross_margin: float = param(
        0.6, "Share of revenue left after the cost of goods or network.", unit="fraction", ge=0, le=1
    )
    cost_to_serve_per_month: float = param(
        1.0, "Fixed monthly cost of keeping one customer (billing, retention).", unit="currency/month", ge=0, le=1e6
    )
    acquisition_cost: float = param(
        240.0,
        "Cost of winning one new customer.",
        unit="currency",
        ge=0,
        le=1e7,
        source="seed 003: winning a customer costs about 5x keeping one for a year (cost to serve and contacts; "
        "docs/survey.md)",
    )
    currency: str = param(
        "EUR",
        "Currency every amount is in: a label for tables and figures (no conversion).",
        min_length=1,
        max_length=12,
        pattern=r"^[A-Za-z$€£¥][A-Za-z$€£¥ .]*$",
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
