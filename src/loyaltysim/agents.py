"""The readable per-customer path: Mesa agents that follow the rules one customer at a time.

Each `Customer` sits on a node of Mesa's `Network` space and keeps its state in the model's arrays (so the
model's tally and the kernels see the same numbers). Its three methods are the three behavioural phases of a
step, written out with the same rule functions the kernels use, which is what the docking tests check.
Use it to read or teach the model, and on small populations; the kernel engine is about a thousand times faster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa.discrete_space import CellAgent, Network

from loyaltysim import rules as r
from loyaltysim.network import to_networkx
from loyaltysim.rng import Purpose, draw, draw3, draw_at

if TYPE_CHECKING:
    from loyaltysim.model import LoyaltyModel

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
    expectation = _state_property("expectation", float)
    frustration = _state_property("frustration", float)
    base_hazard = _state_property("base_hazard", float)
    influence = _state_property("influence", float)
    heard = _state_property("heard", float)

    def __init__(self, model: LoyaltyModel, idx: int) -> None:
        super().__init__(model)
        self.idx = idx

    @property
    def is_customer(self) -> bool:
        """A customer now, at any stage."""
        return r.PROSPECT < self.stage < r.CHURNED

    def interact(self) -> list[tuple[int, float]]:
        """Use touchpoints a Poisson number of times, judge each use like the CX pyramid and react (phase 1).

        Returns the (touchpoint, effort) of each interaction, for the model's tally.
        """
        m, i, p = self.model, self.idx, self.model.plan.params
        keys, levels, plan = m.keys, m.plan.levels[m.steps], m.plan
        self.flags = self.flags & ~r.STEP_BITS & 0xFF
        if not self.is_customer:
            return []
        self.frustration = self.frustration * p.frustration_decay
        signal = r.ACTIVE
        effort_sens, emotion_sens = m.plan.persona_tab[self.persona]
        done = []
        for v in range(r.visit_count(draw(keys[Purpose.VISIT], i), plan.visit_rate[m.steps], plan.visit_none[m.steps])):
            u_channel, u_need, u_effort = draw3(keys[Purpose.CHANNEL], i, v)
            u_feel, u_stage, u_speak = draw3(keys[Purpose.FEEL], i, v)
            k = r.choose_touchpoint(u_channel, levels[:, 0])
            fulfilment, effort_level, empathy, personalization = levels[k, 1:5]
            need_met = u_need < fulfilment
            effort = r.realized_effort(effort_level, u_effort, p.effort_noise)
            feel = r.realized_feel(empathy, personalization, u_feel, p)
            quality, ease, felt, frustrating = r.perceive(need_met, effort, feel, effort_sens, emotion_sens, p)
            expectation = self.expectation
            value = r.disconfirmation(quality, expectation, p.loss_aversion)
            self.loyalty = r.adapt(self.loyalty, r.satisfaction(value, self.stage, p), p.loyalty_learning)
            self.expectation = r.adapt(expectation, r.expectation_target(quality, p), p.expectation_learning)
            if frustrating:
                self.frustration = self.frustration + 1.0
            meets = r.meets_stage(self.stage, need_met, quality - expectation, felt, ease, personalization, empathy, p)
            self.stage = r.next_stage(self.stage, meets, value, u_stage, p)
            told = r.speak(value, emotion_sens, u_speak, p)
            if told:
                signal = r.ACTIVE | told
            done.append((k, effort))
        self.flags = self.flags | signal
        return done

    def listen(self) -> None:
        """Count neighbours who are customers and hear their word of mouth (phase 2)."""
        m, i, p = self.model, self.idx, self.model.plan.params
        if self.stage == r.CHURNED:
            return
        if m.network.complete:
            self._listen_mean_field()
            return
        active = positive = negative = 0.0
        neighbours = list(self.cell.neighborhood.agents)
        for other in neighbours:
            f = other.flags
            if f & r.ACTIVE:
                active += 1.0
                if f & r.SPOKE_POSITIVE and draw_at(m.keys[Purpose.TELL], i, other.idx) < p.positive_reach:
                    positive += 1.0
                elif f & r.SPOKE_NEGATIVE and draw_at(m.keys[Purpose.TELL], i, other.idx) < p.negative_reach:
                    negative += 1.0
        self.influence, self.heard = r.wom_influence(active, positive, negative, float(len(neighbours)), p)

    def _listen_mean_field(self) -> None:
        m, p = self.model, self.model.plan.params
        active, pos, neg = m.signal_counts  # customers and speakers this step, counted once by the model
        f = self.flags
        own_active = 1.0 if f & r.ACTIVE else 0.0
        own_pos = 1.0 if f & r.ACTIVE and f & r.SPOKE_POSITIVE else 0.0
        own_neg = 1.0 if f & r.ACTIVE and f & r.SPOKE_NEGATIVE and not f & r.SPOKE_POSITIVE else 0.0
        self.influence, self.heard = r.wom_influence(
            float(active) - own_active,
            p.positive_reach * (float(pos) - own_pos),
            p.negative_reach * (float(neg) - own_neg),
            float(m.params.population.size - 1),
            p,
        )

    def transition(self) -> None:
        """Adopt (prospects) or take in word of mouth and perhaps churn (customers) (phase 3)."""
        m, i, p = self.model, self.idx, self.model.plan.params
        if self.stage == r.CHURNED:
            return
        heard = self.heard
        if self.stage == r.PROSPECT:
            prob = r.adoption_probability(m.plan.marketing[m.steps], self.influence, heard, p)
            if draw(m.keys[Purpose.ADOPT], i) < prob:
                self.stage = 1
                self.flags = self.flags | r.ADOPTED
                self.expectation = r.expectation_after_hearing(p.initial_expectation, heard, p)
                self.frustration = 0.0
            return
        self.loyalty = r.loyalty_after_hearing(self.loyalty, heard, p)
        self.expectation = r.expectation_after_hearing(self.expectation, heard, p)
        hazard = r.churn_hazard(self.base_hazard, self.loyalty, self.frustration, m.plan.price[m.steps], p)
        if hazard > 0.0 and draw(m.keys[Purpose.CHURN], i) < r.hazard_probability(hazard, p.months):
            self.stage = r.CHURNED
            self.flags = self.flags | r.LEFT


def populate(model: LoyaltyModel) -> None:
    """Create one `Customer` per person, placed on the node of Mesa's `Network` space with its id."""
    n = model.params.population.size
    if not model.network.complete:
        model.grid = Network(to_networkx(model.network, n), random=model.random, layout=None)
    for idx in range(n):
        agent = Customer(model, idx)
        if not model.network.complete:
            agent.cell = model.grid[idx]
