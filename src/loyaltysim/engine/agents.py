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
    LEFT,
    PROSPECT,
    STEP_BITS,
    Level,
)
from loyaltysim.engine.network import to_networkx
from loyaltysim.engine.rng import Purpose, draw, draw3, draw_at

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
        return r.is_customer(self.stage)

    def interact(self) -> list[tuple[int, float]]:
        """Use touchpoints a Poisson number of times, judge each use like the CX pyramid and react (phase 1).

        Returns the (touchpoint, effort) of each interaction, for the model's tally.
        """
        m, i, p, plan = self.model, self.idx, self.model.plan.params, self.model.plan
        keys, levels, t = m.keys, plan.levels[m.steps], m.steps
        self.flags = self.flags & ~STEP_BITS & 0xFF
        if not self.is_customer:
            return []
        self.frustration = r.decay_frustration(self.frustration, p)
        signal = ACTIVE
        persona = plan.persona_table[self.persona]
        done = []
        for v in range(r.visit_count(draw(keys[Purpose.VISIT], i), plan.visit_rate[t], plan.visit_none[t])):
            u_channel, u_need, u_effort = draw3(keys[Purpose.CHANNEL], i, v)
            u_feel, u_stage, u_speak = draw3(keys[Purpose.FEEL], i, v)
            k = r.choose(u_channel, levels[:, Level.CUMULATIVE_SHARE])
            self.stage, self.loyalty, self.expectation, self.frustration, told, effort = r.interaction(
                self.stage,
                self.loyalty,
                self.expectation,
                self.frustration,
                levels[k],
                persona,
                (u_need, u_effort, u_feel, u_stage, u_speak),
                p,
            )
            if told:
                signal = ACTIVE | told
            done.append((k, effort))
        self.flags = self.flags | signal
        return done

    def listen(self) -> None:
        """Count neighbours who are customers and hear their word of mouth (phase 2)."""
        m, i, p = self.model, self.idx, self.model.plan.params
        if self.stage == CHURNED:
            return
        if m.network.complete:
            active, pos, neg = m.signal_counts  # customers and speakers this step, counted once by the model
            self.influence, self.heard = r.mean_field_influence(
                self.flags, float(active), float(pos), float(neg), m.params.population.size, p
            )
            return
        active = positive = negative = 0.0
        neighbours = list(self.cell.neighborhood.agents)
        for other in neighbours:
            f = other.flags
            if f & ACTIVE:
                active += 1.0
            told = r.message(f)
            if told and draw_at(m.keys[Purpose.TELL], i, other.idx) < r.reach(told, p):
                if told == r.POSITIVE:
                    positive += 1.0
                else:
                    negative += 1.0
        self.influence, self.heard = r.wom_influence(active, positive, negative, float(len(neighbours)), p)

    def transition(self) -> None:
        """Adopt (prospects) or take in word of mouth and perhaps churn (customers) (phase 3)."""
        m, i, p = self.model, self.idx, self.model.plan.params
        if self.stage == CHURNED:
            return
        heard = self.heard
        if self.stage == PROSPECT:
            prob = r.adoption_probability(m.plan.marketing[m.steps], self.influence, heard, p)
            if draw(m.keys[Purpose.ADOPT], i) < prob:
                self.stage, self.expectation, self.frustration = r.adopt(heard, p)
                self.flags = self.flags | ADOPTED
            return
        self.loyalty, self.expectation = r.hear(self.loyalty, self.expectation, heard, p)
        hazard = r.churn_hazard(self.base_hazard, self.loyalty, self.frustration, m.plan.price[m.steps], p)
        if r.churns(draw(m.keys[Purpose.CHURN], i), hazard, p.months):
            self.stage = CHURNED
            self.flags = self.flags | LEFT


def populate(model: LoyaltyModel) -> None:
    """Create one `Customer` per person, placed on the node of Mesa's `Network` space with its id."""
    n = model.params.population.size
    if not model.network.complete:
        model.grid = Network(to_networkx(model.network, n), random=model.random, layout=None)
    for idx in range(n):
        agent = Customer(model, idx)
        if not model.network.complete:
            agent.cell = model.grid[idx]
