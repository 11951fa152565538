"""`Classroom`: one student's run of a lesson, with the slider values waiting for the next Reset.

Plain Python (no Solara), so it is tested and exported without a browser; the app holds one per browser session.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from loyaltysim.engine.layout import AT_RISK, STATE_NAMES, TOP_STAGE, Diary
from loyaltysim.engine.listen import tellings
from loyaltysim.engine.model import LoyaltyModel
from loyaltysim.runs.metrics import run_metrics
from loyaltysim.teach.lessons import LESSON_IDS, lesson_scenario
from loyaltysim.teach.levers import lever_values, levers

__all__ = ["GHOSTS", "MONITORS", "Classroom", "Ghost", "layout"]

GHOSTS = 5
"""Earlier runs a Reset keeps for comparison (the oldest goes first)."""

MONITORS = ("active", "churned", "retention", "nps", "ces", "wom_positive", "wom_negative", "profit")
"""The live numbers the page shows, metrics of `loyaltysim.runs.metrics.METRICS` at the current step."""


@dataclass(frozen=True)
class Ghost:
    """An earlier run kept after a Reset, to compare against.

    Attributes
    ----------
    number : int
        1 for the lesson's first run, 2 for the next, ...
    changes : tuple of (key, preset, value)
        The levers it ran with that differ from the lesson's preset: the preset value, then its own
        (`Classroom.lever_changes`), so "Need met 0.65 → 0.95" reads as what this run changed.
    timeseries : pandas.DataFrame
        Its outputs, one row per step it ran.
    end : dict of str to float
        The `MONITORS` at its last step.
    drawn : dict
        What the charts made of it, kept there: a kept run never changes (`loyaltysim.teach.charts`).
    """

    number: int
    changes: tuple[tuple[str, float, float], ...]
    timeseries: pd.DataFrame
    end: dict[str, float]
    drawn: dict = field(default_factory=dict, repr=False, compare=False)


class Classroom:
    """A lesson's model, its history of stages, and the lever values for the next Reset.

    Parameters
    ----------
    lesson
        One of `loyaltysim.teach.lessons.LESSON_IDS`.
    seed
        Seed of every run; kept across resets so that a lever change is compared on the same town (`new_town`
        moves to the next).

    Attributes
    ----------
    levers : dict of str to float
        Slider values; they take effect at the next `reset`.
    model : LoyaltyModel
        The current run.
    history : list of numpy.ndarray
        Stage code (`loyaltysim.engine.layout`) of every person after each step, step 0 first.
    ghosts : list of Ghost
        Earlier runs of this lesson kept by Reset (at most `GHOSTS`), oldest first.
    number : int
        The current run's number in this lesson (1, 2, ...).
    told : tuple of numpy.ndarray
        Good and bad stories that went along each edge of the network's rows in the latest step (`flashes`).
    selected : int or None
        The person being inspected (`customer`), kept across resets of the same town.
    lock : threading.RLock
        Held while the run changes (`step`, `reset`); a reader in another thread (an export) holds it to see one step.
    """

    def __init__(self, lesson: str = LESSON_IDS[0], seed: int = 1) -> None:
        self.seed = seed
        self.selected: int | None = None
        self.lock = threading.RLock()
        self._ts: pd.DataFrame | None = None  # `timeseries`, made once per step (cleared by `step` and `reset`)
        self._positions: np.ndarray | None = None  # `positions`, made once per run (cleared by `reset`)
        self._entry_rows: np.ndarray | None = None  # `_rows`, made once per run (cleared by `reset`)
        self.load(lesson)

    def load(self, lesson: str) -> None:
        """Switch to ``lesson``: its preset lever values, and a fresh run (earlier runs are cleared)."""
        self.lesson = lesson
        self.levers = lever_values(lesson_scenario(lesson))
        self.ghosts: list[Ghost] = []
        self.number = 0
        self.model = None
        self.reset()

    def set_lever(self, key: str, value: float) -> None:
        """Move a slider; the change applies at the next `reset`."""
        lever = next((lv for lv in levers() if lv.key == key), None)
        if lever is None:
            raise KeyError(f"unknown lever {key!r}")
        self.levers[key] = min(lever.max, max(lever.min, float(value)))

    def reset(self) -> None:
        """Start the lesson's run again with the current lever values, keeping the run so far as a ghost.

        A run that took at least one step is kept (at most `GHOSTS`, the oldest dropped) with the levers it ran with
        that differ from the lesson's preset, so the class compares "effort 0.45 -> 0.2" with what came before.
        """
        with self.lock:
            if self.model is not None and self.steps > 0:
                ghost = Ghost(self.number, self.lever_changes(), self.timeseries(), self.monitors())
                self.ghosts = [*self.ghosts, ghost][-GHOSTS:]
            scenario = lesson_scenario(self.lesson).with_overrides(self.levers)
            self.model = LoyaltyModel(scenario, rng=self.seed, diary=True)  # the diary feeds `pyramid`
            self._ts = self._positions = self._entry_rows = None
            self.history = [self.model.state.stage.copy()]
            self.told = self._told()
            self.number += 1
            if self.selected is not None and self.selected >= len(self.history[0]):
                self.selected = None  # a lesson with a smaller town

    def lever_changes(self) -> tuple[tuple[str, float, float], ...]:
        """The current run's levers that differ from the lesson's preset: ``(key, preset, value)`` in lever order."""
        preset, now = lever_values(lesson_scenario(self.lesson)), self.applied
        return tuple((k, preset[k], now[k]) for k in now if not np.isclose(preset[k], now[k]))

    def new_town(self) -> None:
        """Another town: the next seed (people, network and draws), the same levers; earlier runs are cleared."""
        self.seed += 1
        self.selected = None
        self.ghosts = []
        self.number = 0
        self.model = None
        self.reset()

    def clear_ghosts(self) -> None:
        """Forget the earlier runs."""
        self.ghosts = []

    def pyramid(self) -> dict[str, float]:
        """The CX pyramid of the latest step's interactions: the three questions every interaction answers.

        ``met``: share of interactions whose need was met (a recovery included); ``easy``: mean felt ease;
        ``good``: mean felt emotion (each 0 to 1, from the model's diary of the step); ``uses``: interactions. NaN
        before the first step or without interactions.
        """
        uses, (met, easy, good) = self._per_interaction(Diary.MET, Diary.EASE, Diary.FEEL)
        return {"met": met, "easy": easy, "good": good, "uses": uses}

    def _per_interaction(self, *rows: Diary) -> tuple[float, tuple[float, ...]]:
        """Interactions of the latest step, and the mean over them of each diary row (NaN without interactions)."""
        d = self.model.diary
        uses = float(d[Diary.USES].sum()) if self.steps else 0.0
        return uses, tuple(float(d[row].sum()) / uses if uses else np.nan for row in rows)

    def servqual(self) -> dict[str, float]:
        """The SERVQUAL gap of the latest step's interactions, from the model's diary.

        What customers expected of the touchpoint before each interaction (``expected``), the quality they perceived
        (``perceived``, 0 to 1) and ``gap`` = perceived - expected (negative: below expectations, the gap that costs
        loyalty). NaN before the first step or without interactions.
        """
        _, (expected, perceived) = self._per_interaction(Diary.EXPECTED, Diary.QUALITY)
        return {"expected": expected, "perceived": perceived, "gap": perceived - expected}

    def monitors(self) -> dict[str, float]:
        """The `MONITORS` at the current step."""
        now = self.metrics()
        return {m: now[m] for m in MONITORS}

    def step(self) -> bool:
        """Advance one step unless the horizon is reached; return whether it advanced."""
        with self.lock:
            if self.finished:
                return False
            self.model.step()
            self._ts = None
            self.history.append(self.model.state.stage.copy())
            self.told = self._told()
            return True

    def _told(self) -> tuple[np.ndarray, np.ndarray]:
        net, m = self.model.network, self.model
        good, bad = np.zeros(net.indices.size, np.int32), np.zeros(net.indices.size, np.int32)
        if self.steps and not net.complete:
            tellings(m.state, net.indptr, net.indices, m.keys, m.plan.params, good, bad)
        return good, bad

    def flashes(self) -> tuple[np.ndarray, np.ndarray]:
        """The contacts that carried good and bad word of mouth in the latest step, each ``(m, 2)`` (undirected).

        A contact is listed when a story went along it in either direction (`loyaltysim.engine.listen.tellings`):
        exactly the stories the step's listeners heard.
        """
        net, speaker = self.model.network, self._rows()
        out = []
        for counts in self.told:
            went = counts > 0
            pairs = np.sort(np.column_stack([speaker[went], net.indices[went]]), axis=1)
            out.append(np.unique(pairs, axis=0) if len(pairs) else pairs.reshape(0, 2))
        return out[0], out[1]

    def customer(self, i: int) -> dict:
        """What one person has been through, for the page's inspector (``i``: their id, as on the network).

        Their stage after every step so far (``stages``, names), persona, loyalty, what they expect of each
        touchpoint, remembered frustration; the latest step's interactions (``uses``, need ``met``, ``frustrating``,
        memorable ``bad`` and ``good``, mean felt ``ease`` and ``feel``, 0 to 1); the stories they told and heard in
        it; and their neighbours, with how many are customers.
        """
        if not 0 <= i < len(self.history[0]):
            raise KeyError(f"no person {i}: ids run from 0 to {len(self.history[0]) - 1}")
        m, st, net = self.model, self.model.state, self.model.network
        d = m.diary[:, i] if self.steps else np.zeros(len(Diary))
        uses = float(d[Diary.USES])
        neighbours = net.indices[net.indptr[i] : net.indptr[i + 1]]
        around = self.history[-1][neighbours]  # the neighbours' stage codes now
        into = net.indices == i
        return {
            "id": i,
            "stages": [STATE_NAMES[h[i]] for h in self.history],
            "persona": m.plan.personas[int(st.persona[i])],
            "loyalty": float(st.loyalty[i]),
            "expectation": dict(zip(m.plan.touchpoints, st.expectation[i].astype(float).tolist(), strict=True)),
            "frustration": float(st.frustration[i]),
            "uses": uses,
            **{k: float(d[row]) for k, row in (("met", Diary.MET), ("frustrating", Diary.FRUSTRATING))},
            **{k: float(d[row]) for k, row in (("bad", Diary.BAD), ("good", Diary.GOOD))},
            "ease": float(d[Diary.EASE]) / uses if uses else np.nan,
            "feel": float(d[Diary.FEEL]) / uses if uses else np.nan,
            "told_good": int(st.told_positive[i]) if self.steps else 0,
            "told_bad": int(st.told_negative[i]) if self.steps else 0,
            "heard_good": int(self.told[0][into].sum()),
            "heard_bad": int(self.told[1][into].sum()),
            "neighbours": len(neighbours),
            "customer_neighbours": int(((around >= AT_RISK) & (around <= TOP_STAGE)).sum()),
        }

    def run(self, steps: int) -> None:
        """Advance up to ``steps`` steps."""
        for _ in range(steps):
            if not self.step():
                break

    @property
    def steps(self) -> int:
        """Steps taken in this run."""
        return len(self.history) - 1

    @property
    def horizon(self) -> int:
        """Steps in the lesson's year."""
        return self.model.params.n_steps

    @property
    def finished(self) -> bool:
        """Whether the run reached its horizon."""
        return self.steps >= self.horizon

    @property
    def applied(self) -> dict[str, float]:
        """Lever values of the current run."""
        return lever_values(self.model.params)

    @property
    def pending(self) -> bool:
        """Whether some slider differs from the current run (a Reset would change it)."""
        return any(not np.isclose(self.levers[k], v) for k, v in self.applied.items())

    def timeseries(self) -> pd.DataFrame:
        """The current run's outputs, one row per step taken (made once per step: the page reads them often)."""
        if self._ts is None:
            self._ts = self.model.timeseries()
        return self._ts

    def metrics(self) -> dict[str, float]:
        """Every metric of `loyaltysim.runs.metrics.METRICS` but ROI at the current step (the one vocabulary)."""
        return run_metrics(self.timeseries(), self.model.params, self.steps)[0]

    def positions(self) -> np.ndarray:
        """Drawing position of every person, ``(n, 2)`` in ``[0, 1]``, fixed for the network of this run."""
        if self._positions is None:  # once per run: the page asks at every step
            self._positions = layout(self.edges(), self.model.params.population.size, self.seed)
        return self._positions

    def edges(self) -> np.ndarray:
        """Undirected edges ``(m, 2)`` of the social network, each once."""
        indices, src = self.model.network.indices, self._rows()
        keep = src < indices
        return np.column_stack([src[keep], indices[keep]])

    def _rows(self) -> np.ndarray:
        """The row (the speaker) of every entry of the network's ``indices``, made once per run."""
        if self._entry_rows is None:
            indptr = self.model.network.indptr
            self._entry_rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
        return self._entry_rows


@lru_cache(maxsize=16)
def _layout(edges: bytes, n: int, seed: int) -> np.ndarray:
    import networkx as nx

    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(np.frombuffer(edges, dtype=np.int64).reshape(-1, 2).tolist())
    pos = nx.spring_layout(g, seed=seed, iterations=60)
    xy = np.array([pos[i] for i in range(n)])
    xy -= xy.min(axis=0)
    return xy / np.maximum(xy.max(axis=0), 1e-12)


def layout(edges: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Spring layout of ``n`` people joined by ``edges`` (cached: lessons share the town, so switching is instant)."""
    return _layout(np.ascontiguousarray(edges, dtype=np.int64).tobytes(), n, seed)
