"""`LoyaltyModel`: the CX-Spectrum loyalty model as a Mesa model whose steps run in compiled kernels.

A step has four phases, each one line below: interactions at touchpoints, word of mouth over the network,
transitions (adoption and churn), and the tally of outputs. ``engine="kernel"`` runs each phase as a parallel
numba kernel over structure-of-arrays state; ``engine="reference"`` runs the same rules through readable Mesa
agents (`loyaltysim.engine.agents.Customer`), one customer at a time, for teaching and as the docking partner.
The DataCollector is the one store of the per-step rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import mesa
import numba
import numpy as np

from loyaltysim.engine import kernels, listen, twins
from loyaltysim.engine.agents import populate
from loyaltysim.engine.calls import Kernel
from loyaltysim.engine.layout import COLUMNS, Diary
from loyaltysim.engine.network import SocialNetwork, build_network
from loyaltysim.engine.outputs import step_outputs
from loyaltysim.engine.plan import Plan, make_plan
from loyaltysim.engine.resources import check_memory
from loyaltysim.engine.rng import Purpose, draw_keys, stream_key
from loyaltysim.engine.state import TALLY_CHUNK, n_chunks, new_state
from loyaltysim.engine.threads import prefer_passive_threads, step_threads
from loyaltysim.errors import InputError, ScenarioError
from loyaltysim.scenario import Scenario, load_scenario, scenario_from_dict

__all__ = ["ENGINES", "LoyaltyModel", "resolve_scenario"]

ENGINES = ("kernel", "reference")


def resolve_scenario(
    scenario: Scenario | str | Path | Mapping | None, overrides: Mapping[str, Any] | None = None
) -> Scenario:
    """A `Scenario` from an object, a file path or a nested dict (None: the defaults), with overrides applied."""
    if scenario is None:
        scenario = Scenario()
    elif isinstance(scenario, str | Path):
        return load_scenario(scenario, overrides)
    elif isinstance(scenario, Mapping):
        scenario = scenario_from_dict(scenario)
    elif not isinstance(scenario, Scenario):
        raise InputError(
            "arguments", "scenario", type(scenario).__name__, "a Scenario, a scenario file's path or a nested dict"
        )
    if overrides is not None and not isinstance(overrides, Mapping):
        raise InputError("arguments", "overrides", type(overrides).__name__, "a dict of dotted keys and values")
    return scenario.with_overrides(overrides) if overrides else scenario


class LoyaltyModel(mesa.Model):
    """Customers moving through the CX Spectrum, judging interactions, talking, adopting and churning.

    Parameters
    ----------
    scenario
        A `Scenario`, a scenario file path, a nested dict, or None for the defaults.
    rng
        Seed (int) of the run; Mesa's convention. The same seed gives the same population, network and draws
        in every scenario (common random numbers).
    engine
        ``"kernel"`` (compiled, parallel) or ``"reference"`` (Mesa agents, same rules, same numbers).
    diary
        Keep each step's diary of every customer's experiences (``model.diary``, the `Diary` rows of
        `loyaltysim.engine.layout`) and the stories heard (``model.heard``): what `loyaltysim.survey` asks about.
        Kernel engine only; it changes no result.
    **overrides
        Dotted scenario keys, e.g. ``LoyaltyModel(**{"touchpoints.phone.effort": 0.3})``; this is also how
        ``mesa.batch_run`` varies parameters.

    Attributes
    ----------
    params : Scenario
        The validated scenario (``model.scenario`` is Mesa's own experiment object).
    state : loyaltysim.engine.state.CustomerState
        Per-customer arrays.
    network : SocialNetwork
        The social network as CSR arrays.
    datacollector : mesa.DataCollector
        The one store of the per-step rows: the columns of `loyaltysim.engine.layout.COLUMNS`.
    diary : numpy.ndarray
        ``Diary`` rows x people of the latest step (no columns unless ``diary=True``).
    heard : tuple[int, int]
        Good and bad stories heard by listeners in the latest step, in all (kernel engine on a network).
    touchpoint_uses : numpy.ndarray
        Interactions at each touchpoint (the plan's order, `Plan.touchpoints`) in the latest step; their sum is
        the step's ``interactions`` column.
    """

    def __init__(
        self,
        scenario: Scenario | str | Path | Mapping | None = None,
        *,
        rng: Any = None,
        engine: str = "kernel",
        diary: bool = False,
        **overrides: Any,
    ) -> None:
        if engine not in ENGINES:
            raise InputError("LoyaltyModel", "engine", repr(engine), f"one of {', '.join(ENGINES)}")
        if diary and engine != "kernel":
            raise InputError("LoyaltyModel", "diary", "True", "the kernel engine (engine='kernel')")
        super().__init__(rng=rng)
        self.seed = int(self._seed) % (2**63)
        self.params = resolve_scenario(scenario, overrides)
        check_memory(self.params, engine)  # before anything of the run's size is allocated
        self.plan: Plan = make_plan(self.params)
        self.engine = engine
        s = self.params
        prefer_passive_threads()  # before the first parallel kernel loads OpenMP
        self.network: SocialNetwork = build_network(
            s.network.kind, s.population.size, s.network.mean_degree, self.seed, s.network.rewire, s.network.path
        )
        if not self.network.complete and self.network.indices.size and self.network.degree().max() > listen.MAX_DEGREE:
            raise ScenarioError(
                s.source or "<scenario>", "network", None, f"at most {listen.MAX_DEGREE:,} neighbours per person"
            )
        self.state = new_state(s.population.size, len(self.plan.touchpoints))
        self.diary = np.zeros((len(Diary), s.population.size if diary else 0), np.float32)
        self.heard = (0, 0)
        kernels.init_population(
            self.state,
            self.seed,
            self.plan.persona_cum,
            self.plan.persona_table,
            self.plan.stage_cum,
            self.plan.params,
        )
        self.keys: np.ndarray | None = None  # this step's stream keys, set by step()
        # each kernel's compiled version resolved at its first call (`engine.calls`): no type dispatch per step
        # (and, when numba has one thread, its serial twin: no parallel loops to start)
        self._interact = Kernel(kernels.interact, twins.interact_serial)
        self._settle = Kernel(kernels.settle, twins.settle_serial)
        self._listen_push = Kernel(listen.listen, twins.listen_serial)
        self.scale_key = np.uint64(stream_key(self.seed, -1, Purpose.INIT_SCALE_USE))  # each customer's NPS scale use
        self.trait_key = np.uint64(stream_key(self.seed, -1, Purpose.INIT_TRAITS))  # thresholds, tolerance, WTP
        self.signal_counts = (0, 0, 0)  # customers and stories of this step (reference engine, complete network)
        self._row: dict[str, float] = {}  # this step's outputs, read by the DataCollector's reporters
        self.datacollector = RowCollector(model_reporters={c: _reporter(c) for c in COLUMNS})
        if engine == "reference":
            populate(self)
        self._tally(0)
        self.running = True

    def step(self) -> None:
        """Advance one step: interactions, word of mouth, transitions, tally.

        A small population steps on one thread (`loyaltysim.engine.threads.step_threads`): faster, same results.
        """
        with step_threads(self.params.population.size):
            self._step()

    def _step(self) -> None:
        t = self.steps
        plan, p = self.plan, self.plan.params
        if t > plan.n_steps:  # Mesa has counted the step; the model stays at its horizon
            raise RuntimeError(
                f"step {t} is past the scenario's horizon of {plan.n_steps} steps (time.horizon_days = "
                f"{self.params.time.horizon_days:g}); raise time.horizon_days to run longer"
            )
        self.keys = draw_keys(self.seed, t)
        if self.engine == "kernel":
            self.diary[:] = 0.0
            uses = self._interact(
                self.state,
                self.keys,
                self.trait_key,
                plan.levels[t],
                plan.visit_rate[t],
                plan.visit_none[t],
                plan.price[t],
                plan.persona_table,
                p,
                self.diary,
            )
            self._listen()
            settled = self._settle(  # transition and tally in one pass
                self.state,
                self.keys,
                self.trait_key,
                plan.marketing[t],
                plan.price[t],
                len(plan.personas),
                self.scale_key,
                plan.visit_share[t],
                p,
            )
            lost, tallied = settled[0], settled[1:]
        else:
            uses = self._chunked(self.agents.map("interact"))
            if self.network.complete:
                self.signal_counts = listen.count_signals(self.state)  # the mean field, once per step
            self.agents.do("listen")
            lost = self._chunk_sums(self.agents.map("transition"))
            tallied = None
        self._tally(t, *uses, lost, tallied=tallied)
        self.running = t < plan.n_steps

    def _listen(self) -> None:
        if self.network.complete:
            a, pos, neg = listen.count_signals(self.state)
            listen.listen_mean_field(self.state, float(a), float(pos), float(neg), self.plan.params)
        else:
            self.heard = self._listen_push(
                self.state,
                self.network.indptr,
                self.network.indices,
                self.keys,
                self.plan.params,
                numba.get_num_threads(),
            )

    def _chunked(self, interactions: list[list[tuple[int, float, bool]]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Interactions by touchpoint, summed effort and recovery contacts per tally chunk, as `kernels.interact`.

        From each agent's (touchpoint, effort, recovery contact) list in id order: the same sums in the same order.
        """
        chunks = n_chunks(len(interactions))
        uses = np.zeros((chunks, len(self.plan.touchpoints)), np.int64)
        recoveries = np.zeros_like(uses)
        effort = np.zeros(chunks)
        for i, done in enumerate(interactions):
            c = i // TALLY_CHUNK
            for k, e, contact in done:
                uses[c, k] += 1
                recoveries[c, k] += contact
                effort[c] += e
        return uses, effort, recoveries

    @staticmethod
    def _chunk_sums(values: list[float]) -> np.ndarray:
        """Per-chunk sums in id order, as the kernels add them."""
        sums = np.zeros(n_chunks(len(values)))
        for i, x in enumerate(values):
            sums[i // TALLY_CHUNK] += x
        return sums

    def _tally(
        self,
        t: int,
        uses: np.ndarray | None = None,
        effort_sums: np.ndarray | None = None,
        recoveries: np.ndarray | None = None,
        lost: np.ndarray | None = None,
        tallied: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        """The step's outputs row from its per-chunk counts (``tallied``, from `kernels.settle`, or counted now)."""
        if uses is None:
            uses = np.zeros((1, len(self.plan.touchpoints)), np.int64)
            effort_sums, recoveries, lost = np.zeros(1), np.zeros_like(uses), np.zeros(1)
        if tallied is None:
            keys = draw_keys(self.seed, t) if self.keys is None else self.keys
            weights = self.plan.visit_share[max(t, 1)]
            tallied = kernels.tally(
                self.state, len(self.plan.personas), keys, self.scale_key, weights, self.plan.params
            )
        counts, sums = tallied
        self.touchpoint_uses = uses.sum(axis=0)
        self._row = step_outputs(self.plan, t, counts, sums, uses, effort_sums, recoveries, lost)
        self.datacollector.collect(self)

    @property
    def last(self) -> dict[str, float]:
        """Outputs of the latest step."""
        return self._row

    def run(self, steps: int | None = None) -> None:
        """Run ``steps`` more steps, or to the scenario's horizon."""
        end = self.plan.n_steps if steps is None else min(self.plan.n_steps, self.steps + steps)
        while self.steps < end:
            self.step()

    def timeseries(self):
        """Outputs so far as a pandas DataFrame, one row per step."""
        return self.datacollector.get_model_vars_dataframe()


class RowCollector(mesa.DataCollector):
    """Mesa's DataCollector, one model reporter per output column, that stores the step's row as it is.

    Mesa deep-copies every reported value in case it is a mutable object that later steps change; a row's values
    are plain numbers, so the copies (about a tenth of a small run's time, `benchmarks/run.py`'s ``small_runs``)
    are left out. Everything else (`get_model_vars_dataframe`, the reporters) is Mesa's.
    """

    def collect(self, model: LoyaltyModel) -> None:
        """Append the model's latest outputs row, one value per reporter's column."""
        if hasattr(self, "_collection_steps"):
            self._collection_steps.append(model.time)
        row = model._row
        for column, values in self.model_vars.items():
            values.append(row[column])


def _reporter(column: str):
    return lambda model: model._row[column]
