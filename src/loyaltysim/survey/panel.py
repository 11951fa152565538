"""What a survey at one month can ask: one replication's diary of every customer, kept over the survey's windows.

`observe` runs a scenario with the model's diary on (`LoyaltyModel(diary=True)`) and, after every step, adds what
each customer did and felt to the `Panel` of each survey month: the look-back window (the ``window`` steps up to and
including the survey's step) and, for the frustration question, the window before it and its follow-up. At the
survey's step it records the answers to the NPS question, willingness to pay, stage and loyalty. The statistics are
computed from a panel by `loyaltysim.survey.questions`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from loyaltysim.engine import kernels
from loyaltysim.engine.layout import LEFT, Diary
from loyaltysim.engine.model import LoyaltyModel
from loyaltysim.engine.rng import draw_keys
from loyaltysim.runs.metrics import step_to_month

__all__ = ["Panel", "observe"]

_ROW_SUMS = (
    "churned_step",
    "lost_to_competitor",
    "new_customers",
    "acquisition_cost",
    "retention_cost",
    "service_cost",
)


@dataclass
class Panel:
    """One replication's record of every person for a survey at ``step``.

    Look-back window: steps ``start + 1`` .. ``step``; frustration window: ``start - window + 1`` .. ``start``, each
    frustrated customer followed up for ``window`` steps.
    """

    month: float
    step: int
    window: int
    step_months: float
    n: int
    first_frustration: np.ndarray = field(init=False)  # step of the first frustrating interaction in its window
    left_after: np.ndarray = field(init=False)  # left within `window` steps of it (that step included)
    sums: dict[str, np.ndarray] = field(init=False)  # per person over the look-back window
    spend_start: np.ndarray = field(init=False)  # spend multiplier at the window's start (NaN: not a customer)
    rows: dict[str, float] = field(init=False)  # totals of output columns over the look-back window
    customer_months: float = 0.0  # active customers x months over the look-back window
    heard_good: int = 0
    heard_bad: int = 0
    answers: np.ndarray | None = None  # at the survey: 0-10, -1 for non-customers
    willingness: np.ndarray | None = None
    price: float = float("nan")
    stage: np.ndarray | None = None
    loyalty: np.ndarray | None = None
    spend_now: np.ndarray | None = None
    complete_network: bool = False

    def __post_init__(self) -> None:
        self.first_frustration = np.full(self.n, -1, np.int32)
        self.left_after = np.zeros(self.n, bool)
        names = ("uses", "met", "frustrating", "bad", "good", "tailored", "ease", "feel", "told_bad", "told_good")
        self.sums = {name: np.zeros(self.n, np.float64) for name in names}
        self.spend_start = np.full(self.n, np.nan)
        self.rows = dict.fromkeys(_ROW_SUMS, 0.0)

    @property
    def start(self) -> int:
        """The step before the look-back window."""
        return self.step - self.window

    def record(self, model: LoyaltyModel, t: int) -> None:
        """Add step ``t`` (just run; 0 is the initial state) to the panel."""
        st, diary = model.state, model.diary
        if t == self.start:
            spend = model.plan.spend_multipliers[st.stage]
            self.spend_start = np.where(spend > 0, spend, np.nan)
        if t < 1 or t > self.step:
            return
        if self.start - self.window < t <= self.start:
            new = (diary[Diary.FRUSTRATING] > 0) & (self.first_frustration < 0)
            self.first_frustration[new] = t
        followed = self.first_frustration >= 0
        left = (st.flags & LEFT) != 0
        self.left_after |= left & followed & (t - self.first_frustration < self.window)
        if t <= self.start:
            return
        s = self.sums
        for name, row in (
            ("uses", Diary.USES),
            ("met", Diary.MET),
            ("frustrating", Diary.FRUSTRATING),
            ("bad", Diary.BAD),
            ("good", Diary.GOOD),
            ("tailored", Diary.TAILORED),
            ("ease", Diary.EASE),
            ("feel", Diary.FEEL),
        ):
            s[name] += diary[row]
        s["told_bad"] += st.told_negative
        s["told_good"] += st.told_positive
        self.heard_good += int(model.heard[0])
        self.heard_bad += int(model.heard[1])
        row = model.last
        for name in _ROW_SUMS:
            self.rows[name] += row[name]
        self.customer_months += row["active"] * self.step_months
        if t == self.step:
            keys = model.keys if model.keys is not None else draw_keys(model.seed, t)
            self.answers = kernels.answers(st, keys, model.scale_key, model.plan.params)
            self.willingness = kernels.willingness(st, model.trait_key, model.plan.params)
            self.price = float(model.plan.price[t])
            self.stage = st.stage.copy()
            self.loyalty = st.loyalty.astype(np.float64)
            self.spend_now = model.plan.spend_multipliers[st.stage]
            self.complete_network = model.network.complete


def observe(scenario, seed: int, months_steps: list[tuple[float, int]], window: int) -> list[Panel]:
    """Run ``scenario`` (a validated `Scenario`) with ``seed`` to the last survey step and fill one panel a month."""
    model = LoyaltyModel(scenario, rng=seed, diary=True)
    step_months = step_to_month(1, scenario.time.step_days)
    panels = [Panel(m, s, window, step_months, scenario.population.size) for m, s in months_steps]
    for panel in panels:
        panel.record(model, 0)
    last = max(s for _, s in months_steps)
    while model.steps < last:
        model.step()
        for panel in panels:
            panel.record(model, model.steps)
    return panels
