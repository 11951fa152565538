"""The readable per-customer path: Mesa agents that follow the rules one customer at a time.

Each `Customer` sits on a node of Mesa's `Network` space and keeps its state in the model's arrays (so the
model's tally and the kernels see the same numbers). Its three methods are the three behavioural phases of a
step: they read the customer's state, call the rules of `loyaltysim.engine.rules` (the very functions the kernels
call) and store what they return, which is what the docking tests check. Use it to read or teach the model, and on
small populations; the kernel engine is about a thousand times faster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa.discrete_space import CellAgent, Network

from loyaltysim.engine import rules as r
from loyaltysim.engine.layout import (
    ACTIVE,
    ADOPTED,
    CHURNED,
    COHORT,
    EXPECTATIONS,
    LEFT,
    NEEDS,
    SPOKE_NEGATIVE,
    SPOKE_POSITIVE,
    STEP_BITS,
    WON_BACK,
    Level,
)
from loyaltysim.engine.network import to_networkx
from loyaltysim.engine.rng import Purpose, draw, draw3, draw6, draw_at

if TYPE_CHECKING:
    from loyaltysim.engine.model import LoyaltyModel

__all__ = ["Customer", "populate"]


def _state_property(name: str, kind: type):
    def get(self: Customer):
        return kind(getattr(self.model.state, name)[self.idx])

    def set_(self: Customer, value) -> None:
        getattr(self.model.state, name)[self.idx] = value

    return property(get, set_, doc=f"This person's {name.replace('_', ' ')} (stored in the model's arrays).")


class Customer(CellAgent):
    """One person in the market: a prospect, a customer at a CX Spectrum stage, or a former customer."""

    stage = _state_property("stage", int)
    persona = _state_property("persona", int)
    flags = _state_property("flags", int)
    loyalty = _state_property("loyalty", float)
    frustration = _state_property("frustration", float)
    exposure = _state_property("exposure", float)
    base_hazard = _state_property("base_hazard", float)
    influence = _state_property("influence", float)
    heard = _state_property("heard", float)
    told_positive = _state_property("told_positive", int)
    told_negative = _state_property("told_negative", int)

    def __init__(self, model: LoyaltyModel, idx: int) -> None:
        super().__init__(model)
        self.idx = idx

    @property
    def expectation(self):
        """What this person expects of each touchpoint (a view of the model's array: writes go through)."""
        return self.model.state.expectation[self.idx]

    @property
    def is_customer(self) -> bool:
        """A customer now, at any stage."""
        return r.is_customer(self.stage)

    def traits(self) -> tuple[float, float, float, float, float]:
        """The customer's stage thresholds and effort tolerance (`rules.customer_traits`), drawn from its own key."""
        return r.customer_traits(draw6(self.model.trait_key, self.idx), self.model.plan.params)

    def willingness_to_pay(self) -> float:
        """The price (relative to the reference) this person would pay now (`rules.willingness_to_pay`)."""
        u = draw6(self.model.trait_key, self.idx)[5]
        return r.willingness_to_pay(u, self.loyalty, self.model.plan.params)

    def interact(self) -> list[tuple[int, float, bool]]:
        """Use touchpoints a Poisson number of times, judge each use like the CX pyramid and react (phase 1).

        Returns the (touchpoint, effort, recovery contact) of each interaction, for the model's tally.
        """
        m, i, p, plan = self.model, self.idx, self.model.plan.params, self.model.plan
        keys, levels, t = m.keys, plan.levels[m.steps], m.steps
        self.flags = self.flags & ~STEP_BITS & 0xFF
        self.told_positive = self.told_negative = 0
        if not self.is_customer:
            return []
        visits = r.visit_count(draw(keys[Purpose.VISIT], i), plan.visit_rate[t], plan.visit_none[t])
        done = []
        new = good = bad = 0
        if visits:
            traits = self.traits()
            pain = r.price_pain(plan.price[t], self.willingness_to_pay(), p)
            persona = plan.persona_table[self.persona]
            expectation = self.expectation
            for v in range(visits):
                u_channel, u_need, u_effort = draw3(keys[Purpose.CHANNEL], i, v)
                u_empathy, u_personal, u_stage = draw3(keys[Purpose.FEEL], i, v)
                u_speak, u_recover, _ = draw3(keys[Purpose.RECOVER], i, v)
                k = r.choose(u_channel, levels[:, Level.CUMULATIVE_SHARE])
                self.stage, self.loyalty, expectation[k], frustrating, told, effort, contact, *_ = r.interaction(
                    self.stage,
                    self.loyalty,
                    float(expectation[k]),
                    levels[k],
                    persona,
                    traits,
                    pain,
                    (u_need, u_effort, u_empathy, u_personal, u_stage, u_speak, u_recover),
                    p,
                )
                new += frustrating
                good += told == r.POSITIVE
                bad += told == r.NEGATIVE
                done.append((k, effort, contact))
        self.frustration, self.exposure = r.frustration_memory(self.frustration, new, p)
        self.told_positive, self.told_negative = min(good, 255), min(bad, 255)
        self.flags = self.flags | ACTIVE | (SPOKE_POSITIVE if good else 0) | (SPOKE_NEGATIVE if bad else 0)
        return done

    def listen(self) -> None:
        """Count neighbours who are customers and hear the stories they tell (phase 2)."""
        m, i, p = self.model, self.idx, self.model.plan.params
        if self.stage == CHURNED:
            return
        if m.network.complete:
            active, pos, neg = m.signal_counts  # customers and stories this step, counted once by the model
            me = bool(self.flags & ACTIVE)
            self.influence, self.heard = r.mean_field_influence(
                me,
                float(self.told_positive) if me else 0.0,
                float(self.told_negative) if me else 0.0,
                float(active),
                float(pos),
                float(neg),
                m.params.population.size,
                p,
            )
            return
        active = positive = negative = 0.0
        neighbours = list(self.cell.neighborhood.agents)
        for other in neighbours:
            if not other.flags & ACTIVE:
                continue
            active += 1.0
            good, bad = other.told_positive, other.told_negative
            if good:
                u = draw_at(m.keys[Purpose.TELL], i, other.idx)
                positive += r.heard_count(u, good, p.word_of_mouth_positive_reach)
            if bad:
                u = draw_at(m.keys[Purpose.TELL_NEGATIVE], i, other.idx)
                negative += r.heard_count(u, bad, p.word_of_mouth_negative_reach)
        self.influence, self.heard = r.wom_influence(active, positive, negative, float(len(neighbours)), p)

    def transition(self) -> float:
        """Come back (former customers), consider and buy (prospects), or hear and perhaps churn (phase 3).

        Returns the competitor's share of the hazard if this customer churned (else 0), for the model's tally.
        """
        m, i, p = self.model, self.idx, self.model.plan.params
        t = m.steps
        if self.stage == CHURNED:
            come_back = r.hazard_probability(p.churn_win_back, p.months)
            if come_back > 0.0 and draw(m.keys[Purpose.WIN_BACK], i) < come_back:
                self.stage = EXPECTATIONS
                self.flags = self.flags | WON_BACK
            return 0.0
        heard = self.heard
        if heard != 0.0:
            self.loyalty = r.hear_loyalty(self.loyalty, heard, p)
        if r.is_prospect(self.stage):
            if self.stage == EXPECTATIONS and heard != 0.0:  # considering the firm: forming expectations of it
                expectation = self.expectation
                for k in range(expectation.shape[0]):
                    expectation[k] = r.hear_as_prospect(float(expectation[k]), heard, p)
            u = draw(m.keys[Purpose.ADOPT], i)
            share = 1.0
            if self.stage == NEEDS:
                if u >= r.consideration_probability(self.influence, self.loyalty, p):
                    return 0.0
                self.stage = EXPECTATIONS  # and may buy in the rest of the step, on a draw of its own
                share = 0.5
                u = draw_at(m.keys[Purpose.ADOPT], i, 0)
            pain = r.price_pain(m.plan.price[t], self.willingness_to_pay(), p)
            if u < r.adoption_probability(m.plan.marketing[t], self.influence, self.loyalty, pain, share, p):
                self.stage, self.frustration = r.adopt()
                self.flags = self.flags | ADOPTED
            return 0.0
        price = m.plan.price[t]
        leaves, share = r.churn_decision(
            draw(m.keys[Purpose.CHURN], i),
            self.base_hazard,
            self.loyalty,
            self.exposure,
            r.price_pain(price, self.willingness_to_pay(), p),
            r.is_at_risk(self.stage),
            price,
            p,
        )
        if not leaves:
            return 0.0
        self.stage = CHURNED
        self.flags = (self.flags | LEFT) & ~COHORT & 0xFF
        return share


def populate(model: LoyaltyModel) -> None:
    """Create one `Customer` per person, placed on the node of Mesa's `Network` space with its id."""
    n = model.params.population.size
    if not model.network.complete:
        model.grid = Network(to_networkx(model.network, n), random=model.random, layout=None)
    for idx in range(n):
        agent = Customer(model, idx)
        if not model.network.complete:
            agent.cell = model.grid[idx]
