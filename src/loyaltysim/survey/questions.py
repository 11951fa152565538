"""The survey's questions: each statistic of the seeds defined once, measured from one replication's `Panel`.

Every `Question` names its seed, the stated figure, how close the simulation must come to count as reproducing it,
and whether it is *emergent* (measured from what customers did and felt) or *input* (read back, wholly or in part,
from a parameter set to that value). Its ``measure`` function's docstring is the definition; ``docs/survey.md``
explains each with its window and why it is an honest measurement. Shares are in percent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from loyaltysim.engine.layout import CUSTOMER_STAGES, STATE_NAMES
from loyaltysim.engine.rules import DETRACTOR_MAX, PROMOTER_MIN
from loyaltysim.survey.panel import Panel

__all__ = ["QUESTIONS", "Question", "customers", "driver_shares"]

Tag = Literal["emergent", "input", "not expressible"]


@dataclass(frozen=True)
class Question:
    """One statistic of the survey.

    ``unit`` is ``"%"`` (a share, compared in percentage points), ``"x"`` (a ratio) or ``"score"``; ``low`` and
    ``high`` bound a simulated figure that reproduces the seed (NaN: nothing stated to reproduce).
    """

    key: str
    label: str
    seed: str
    stated: float
    unit: str
    low: float
    high: float
    tag: Tag
    measure: Callable[[Panel], float]
    note: str = ""

    @property
    def definition(self) -> str:
        """What is measured (the measure's docstring)."""
        doc = self.measure.__doc__ or ""
        return " ".join(doc.split("\n\n", 1)[-1].split())

    def verdict(self, value: float) -> str:
        """Within the seed's tolerance, off by how much, not expressible, or '-' where nothing is stated."""
        if self.tag == "not expressible":
            return "not expressible"
        if np.isnan(self.stated):
            return "-"
        if np.isnan(value):
            return "not measured"
        if self.low <= value <= self.high:
            if self.unit == "%":
                return f"within {self.high - self.stated:g} pts"
            return f"within {self.low:g}-{self.high:g}{self.unit}"
        off = value - self.stated
        return f"off by {off:+.1f} pts" if self.unit == "%" else f"off by {off:+.2f}{self.unit}"


def _share(hit: np.ndarray, among: np.ndarray) -> float:
    n = int(among.sum())
    return 100.0 * float((hit & among).sum()) / n if n else float("nan")


def customers(panel: Panel) -> np.ndarray:
    """Customers at the survey (any customer stage, at risk included)."""
    return panel.answers >= 0


def frustrated_left(panel: Panel) -> float:
    """Leaving after a frustration (seed 003's 56 %).

    Of the customers who had a frustrating interaction (need unmet and not recovered, or felt effort above
    their own tolerance) in the window before the look-back window, the share who stopped being customers within
    one window of their first such interaction there (its own step included).
    """
    return _share(panel.left_after, panel.first_frustration >= 0)


def competitor_left(panel: Panel) -> float:
    """Leaving for the competitor's better experience (seed 003's 61 %).

    Of the customers who left during the look-back window, the share who left because the competitor offered a
    better experience: each churner counts by the competitor's share of its churn hazard at the time it left.
    """
    left = panel.rows["churned_step"]
    return 100.0 * panel.rows["lost_to_competitor"] / left if left else float("nan")


def shared_bad(panel: Panel) -> float:
    """Telling of bad experiences (seed 003's 61 %).

    Of the customers with a memorable bad experience (felt at or below the negative salience) in the look-back
    window, the share who told someone about a bad experience in it.
    """
    return _share(panel.sums["told_bad"] > 0, panel.sums["bad"] > 0)


def shared_good(panel: Panel) -> float:
    """Telling of good experiences (seed 003's 70 %).

    Of the customers with a memorable good experience in the look-back window, the share who told someone about a
    good experience in it.
    """
    return _share(panel.sums["told_good"] > 0, panel.sums["good"] > 0)


def retold(panel: Panel) -> float:
    """How much more a bad experience is retold than a good one (seed 004's 4x).

    People who heard of a bad experience per memorable bad experience, over people who heard of a good one per
    memorable good experience, in the look-back window (each story counted once per listener it reached; not
    measured on the complete network, whose word of mouth is a mean field).
    """
    if panel.complete_network:
        return float("nan")
    bad, good = panel.sums["bad"].sum(), panel.sums["good"].sum()
    if not bad or not good or not panel.heard_good:
        return float("nan")
    return (panel.heard_bad / bad) / (panel.heard_good / good)


def pay_more(panel: Panel) -> float:
    """Willing to pay more after a great experience (seed 003's 59 %).

    Of the customers at the survey who had a memorable good experience in the look-back window, the share whose
    willingness to pay is above the price they pay now.
    """
    return _share(panel.willingness > panel.price, customers(panel) & (panel.sums["good"] > 0))


def personalised(panel: Panel) -> float:
    """Recommending and buying more after personalisation (seed 000's 80 %).

    Of the customers at the survey who were customers at the start of the look-back window and had an
    interaction felt as tailored in it, the share who are promoters (answer 9-10) and whose spend rose (they moved
    to a stage of higher spend).
    """
    among = customers(panel) & (panel.sums["tailored"] > 0) & ~np.isnan(panel.spend_start)
    rose = panel.spend_now > np.nan_to_num(panel.spend_start, nan=np.inf)
    return _share((panel.answers >= PROMOTER_MIN) & rose, among)


def experience_as_product(panel: Panel) -> float:
    """The experience as important as the products (seed 003's 83 %).

    Not expressible: the model has no product or service quality apart from the experience, so customers cannot
    weigh one against the other.
    """
    return float("nan")


def driver_shares(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Shapley shares of R-squared.

    Shapley decomposition of the R-squared of the least-squares fit of ``y`` on the columns of ``x``: each
    column's share of the explained variance (Lindeman, Merenda & Gold 1980), summing to 1.
    """
    k = x.shape[1]

    def r2(cols: tuple[int, ...]) -> float:
        if not cols:
            return 0.0
        a = np.column_stack([np.ones(len(y)), x[:, cols]])
        coef, *_ = np.linalg.lstsq(a, y, rcond=None)
        resid = y - a @ coef
        return 1.0 - resid.var() / y.var()

    from itertools import combinations
    from math import comb

    shares = np.zeros(k)
    for j in range(k):
        others = [c for c in range(k) if c != j]
        for size in range(k):
            for subset in combinations(others, size):
                weight = 1.0 / (k * comb(k - 1, size))
                shares[j] += weight * (r2(tuple(sorted((*subset, j)))) - r2(subset))
    total = shares.sum()
    return shares / total if total > 0 else np.full(k, np.nan)


def effort_share(panel: Panel) -> float:
    """Low effort's share of loyalty, against emotion's (seed 004's 14 / 86 %).

    Of the variance in loyalty explained by the felt ease and the felt emotion of customers' interactions, the
    share due to ease (emotion has the rest): each customer's means over the look-back window, a Shapley (LMG)
    decomposition of the R-squared of loyalty on the share of needs met, ease and emotion (the need met is the
    pyramid's base, held as a control so that a touchpoint that fails often is not counted as effort), over the
    customers at the survey who had interactions in the window.
    """
    among = customers(panel) & (panel.sums["uses"] > 0)
    if among.sum() < 10:
        return float("nan")
    uses = panel.sums["uses"][among]
    x = np.column_stack([panel.sums[name][among] / uses for name in ("met", "ease", "feel")])
    y = panel.loyalty[among]
    if y.var() == 0:
        return float("nan")
    _, ease, feel = driver_shares(y, x)
    return 100.0 * float(ease / (ease + feel)) if ease + feel > 0 else float("nan")


def acquisition_ratio(panel: Panel) -> float:
    """Winning a customer against keeping one (seed 003's 5x).

    Cost of winning one new customer (acquisition cost over new customers) over the cost of keeping one for a
    year (cost to serve plus the cost of its interactions and recovery contacts, per customer-year), from the money
    flows of the look-back window.
    """
    rows = panel.rows
    if not rows["new_customers"] or not panel.customer_months:
        return float("nan")
    keep = 12.0 * (rows["retention_cost"] + rows["service_cost"]) / panel.customer_months
    return (rows["acquisition_cost"] / rows["new_customers"]) / keep if keep else float("nan")


def nps(panel: Panel) -> float:
    """Net Promoter Score of the customers' answers at the survey: % answering 9-10 minus % answering 0-6."""
    a = panel.answers[customers(panel)]
    return 100.0 * (np.mean(a >= PROMOTER_MIN) - np.mean(a <= DETRACTOR_MAX)) if a.size else float("nan")


def promoters(panel: Panel) -> float:
    """Share of customers answering 9 or 10 to the NPS question at the survey."""
    a = panel.answers[customers(panel)]
    return 100.0 * float(np.mean(a >= PROMOTER_MIN)) if a.size else float("nan")


def detractors(panel: Panel) -> float:
    """Share of customers answering 0 to 6 to the NPS question at the survey."""
    a = panel.answers[customers(panel)]
    return 100.0 * float(np.mean(a <= DETRACTOR_MAX)) if a.size else float("nan")


def ces_felt(panel: Panel) -> float:
    """Customer Effort Score as the customers felt it.

    Customer Effort Score of the look-back window: 1 + 6 x the mean effort customers felt in their interactions
    (1 = very easy, 7 = very hard). The model's ``ces`` column uses the effort delivered instead.
    """
    uses = panel.sums["uses"].sum()
    return 1.0 + 6.0 * (1.0 - panel.sums["ease"].sum() / uses) if uses else float("nan")


def _stage_share(name: str) -> Callable[[Panel], float]:
    code = STATE_NAMES.index(name)

    def share(panel: Panel) -> float:
        return _share(panel.stage == code, customers(panel))

    share.__doc__ = f"Share of customers at the survey who are at the {name.replace('_', ' ')} stage."
    return share


_NAN = float("nan")
QUESTIONS: tuple[Question, ...] = (
    Question(
        "frustrated_left",
        "stop doing business after a frustrating experience",
        "003",
        56,
        "%",
        51,
        61,
        "emergent",
        frustrated_left,
    ),
    Question(
        "competitor_left",
        "left because a competitor offered a better experience",
        "003",
        61,
        "%",
        56,
        66,
        "emergent",
        competitor_left,
    ),
    Question("shared_bad", "share bad experiences with others", "003", 61, "%", 56, 66, "emergent", shared_bad),
    Question("shared_good", "share good experiences with others", "003", 70, "%", 65, 75, "emergent", shared_good),
    Question(
        "retold",
        "bad experiences retold more than good ones",
        "004",
        4,
        "x",
        3.5,
        4.5,
        "input",
        retold,
        "mostly read back: about (negative_share x negative_reach) / (positive_share x positive_reach)",
    ),
    Question("pay_more", "would pay more for a great experience", "003", 59, "%", 54, 64, "emergent", pay_more),
    Question(
        "personalised",
        "recommend and buy more from firms that personalise",
        "000",
        80,
        "%",
        75,
        85,
        "emergent",
        personalised,
    ),
    Question(
        "experience_as_product",
        "experience as important as products and services",
        "003",
        83,
        "%",
        78,
        88,
        "not expressible",
        experience_as_product,
    ),
    Question(
        "effort_share",
        "share of loyalty due to low effort (emotion: the rest)",
        "004",
        14,
        "%",
        9,
        19,
        "emergent",
        effort_share,
    ),
    Question(
        "acquisition_ratio",
        "winning a customer costs more than keeping one",
        "003",
        5,
        "x",
        4,
        6,
        "input",
        acquisition_ratio,
        "economics.acquisition_cost is a parameter; the cost of keeping one is measured",
    ),
    Question("nps", "NPS", "", _NAN, "score", _NAN, _NAN, "emergent", nps),
    Question("promoters", "promoters (9-10)", "", _NAN, "%", _NAN, _NAN, "emergent", promoters),
    Question("detractors", "detractors (0-6)", "", _NAN, "%", _NAN, _NAN, "emergent", detractors),
    Question("ces_felt", "CES as felt (1-7)", "", _NAN, "score", _NAN, _NAN, "emergent", ces_felt),
    *(
        Question(
            f"stage_{name}",
            f"customers at {name.replace('_', ' ')}",
            "",
            _NAN,
            "%",
            _NAN,
            _NAN,
            "emergent",
            _stage_share(name),
        )
        for name in ("at_risk", *CUSTOMER_STAGES)
    ),
)
"""Every statistic of the survey, in the order of its table."""
