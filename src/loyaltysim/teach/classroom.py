"""`Classroom`: one student's run of a lesson, with the slider values waiting for the next Reset.

Plain Python (no Solara), so it is tested and exported without a browser; the app holds one per browser session.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from loyaltysim.engine.layout import Diary
from loyaltysim.engine.model import LoyaltyModel
from loyaltysim.runs.metrics import run_metrics
from loyaltysim.teach.lessons import LESSON_IDS, lesson_scenario
from loyaltysim.teach.levers import lever_values, levers

__all__ = ["GHOSTS", "MONITORS", "Classroom", "Ghost", "layout"]

GHOSTS = 5
"""Earlier runs a Reset keeps for comparison (the oldest goes first)."""

MONITORS = ("active", "retention", "nps", "ces", "wom_positive", "wom_negative", "profit")
"""The live numbers the page shows, metrics of `loyaltysim.runs.metrics.METRICS` at the current step."""


@dataclass(frozen=True)
class Ghost:
    """An earlier run kept after a Reset, to compare against.

    Attributes
    ----------
    number : int
        1 for the lesson's first run, 2 for the next, ...
    changes : tuple of (key, before, after)
        The levers moved at the Reset that ended it: its value, then the next run's.
    timeseries : pandas.DataFrame
        Its outputs, one row per step it ran.
    end : dict of str to float
        The `MONITORS` at its last step.
    """

    number: int
    changes: tuple[tuple[str, float, float], ...]
    timeseries: pd.DataFrame
    end: dict[str, float]


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
    """

    def __init__(self, lesson: str = LESSON_IDS[0], seed: int = 1) -> None:
        self.seed = seed
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

        A run that took at least one step is kept (at most `GHOSTS`, the oldest dropped) with the levers the Reset
        changes, so the class can compare "effort 0.45 -> 0.2" with what came before.
        """
        if self.model is not None and self.steps > 0:
            before = self.applied
            changes = tuple((k, before[k], v) for k, v in self.levers.items() if not np.isclose(before[k], v))
            ghost = Ghost(self.number, changes, self.model.timeseries(), self.monitors())
            self.ghosts = [*self.ghosts, ghost][-GHOSTS:]
        scenario = lesson_scenario(self.lesson).with_overrides(self.levers)
        self.model = LoyaltyModel(scenario, rng=self.seed, diary=True)  # the diary feeds `pyramid`
        self.history = [self.model.state.stage.copy()]
        self.number += 1

    def new_town(self) -> None:
        """Another town: the next seed (people, network and draws), the same levers; earlier runs are cleared."""
        self.seed += 1
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
        d = self.model.diary
        uses = float(d[Diary.USES].sum()) if self.steps else 0.0
        if not uses:
            return {"met": np.nan, "easy": np.nan, "good": np.nan, "uses": uses}
        return {
            "met": float(d[Diary.MET].sum()) / uses,
            "easy": float(d[Diary.EASE].sum()) / uses,
            "good": float(d[Diary.FEEL].sum()) / uses,
            "uses": uses,
        }

    def monitors(self) -> dict[str, float]:
        """The `MONITORS` at the current step."""
        now = self.metrics()
        return {m: now[m] for m in MONITORS}

    def step(self) -> bool:
        """Advance one step unless the horizon is reached; return whether it advanced."""
        if self.finished:
            return False
        self.model.step()
        self.history.append(self.model.state.stage.copy())
        return True

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

    def metrics(self) -> dict[str, float]:
        """Every metric of `loyaltysim.runs.metrics.METRICS` but ROI at the current step (the one vocabulary)."""
        return run_metrics(self.model.timeseries(), self.model.params, self.steps)[0]

    def positions(self) -> np.ndarray:
        """Drawing position of every person, ``(n, 2)`` in ``[0, 1]``, fixed for the network of this run."""
        return layout(self.edges(), self.model.params.population.size, self.seed)

    def edges(self) -> np.ndarray:
        """Undirected edges ``(m, 2)`` of the social network, each once."""
        net = self.model.network
        src = np.repeat(np.arange(len(net.indptr) - 1), np.diff(net.indptr))
        keep = src < net.indices
        return np.column_stack([src[keep], net.indices[keep]])


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
