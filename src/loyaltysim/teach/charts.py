"""The page's six live charts as ECharts options: plain data the browser draws, so the server only steps the model.

Each option is a JSON-ready dict (`chart_options`); ``vue/charts.vue`` draws them with ECharts and formats their
numbers in the page's language. Earlier runs kept by Reset (`loyaltysim.teach.classroom.Ghost`) appear as faded
dashed lines in every chart but the stages, labelled as `loyaltysim.teach.figures.ghost_label` labels them.
Colours come from `loyaltysim.runs.figures`, so the page, the exports and the report figures agree.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from loyaltysim.engine.layout import STATE_NAMES
from loyaltysim.runs.figures import STAGE_COLOURS
from loyaltysim.teach.figures import BAD, CURRENT, GOOD, PROFIT, ghost_colour, ghost_label
from loyaltysim.teach.translations import t

if TYPE_CHECKING:
    import pandas as pd

    from loyaltysim.teach.classroom import Classroom, Ghost

__all__ = ["CHARTS", "DECIMALS", "chart_options", "options_json"]

CHARTS = ("stages", "active", "wom", "money", "nps", "ces")
"""The charts in page order (two rows of three): what the class watches, then money, NPS and effort."""


DECIMALS = {"retention": 1, "ces": 2}
"""Decimals a number is shown and sent with, on the page's live numbers and charts (the others are counts, points
or money: whole)."""


def _points(ts: pd.DataFrame, column: str, first: int = 0) -> list[float | None]:
    """The value of every week from 0 (a row per step), rounded for the wire; None before ``first`` and for NaN."""
    values = ts[column].to_numpy()
    places = DECIMALS.get(column, 0)
    return [
        None if k < first or math.isnan(v) else (round(float(v), places) if places else round(float(v)))
        for k, v in enumerate(values)
    ]


def _line(name: str, data: list, colour: str, width: float = 2.0, dashed: bool = False) -> dict[str, Any]:
    style = {"color": colour, "width": width, "type": "dashed" if dashed else "solid", "opacity": 0.55 if dashed else 1}
    return {
        "type": "line",
        "name": name,
        "data": data,
        "showSymbol": False,
        "lineStyle": style,
        "itemStyle": {"color": colour},
        "z": 1 if dashed else 2,
    }


def _ghost_lines(ghosts: list[Ghost], lang: str, columns: dict[str, str], first: int) -> list[dict[str, Any]]:
    """One dashed line per kept run and column (named by the run, and by the column when there are several)."""
    out = []
    for i, ghost in enumerate(ghosts):
        label = ghost_label(ghost, lang)
        for column, suffix in columns.items():
            name = f"{label} ({suffix})" if len(columns) > 1 else label
            out.append(_line(name, _ghost_points(ghost, column, first), ghost_colour(i), 1.2, dashed=True))
    return out


def _ghost_points(ghost: Ghost, column: str, first: int) -> list[float | None]:
    """`_points` of a kept run, made once (the charts are redrawn at every step, the kept runs never change)."""
    key = ("points", column, first)
    if key not in ghost.drawn:
        ghost.drawn[key] = _points(ghost.timeseries, column, first)
    return ghost.drawn[key]


def _frame(
    title: str, y_name: str, lang: str, horizon: int, series: list, legend: list[str] | None = None, **y_axis: Any
) -> dict[str, Any]:
    """A chart of ``series`` over the weeks; ``legend`` names the series the legend shows (None: no legend)."""
    shown = {"bottom": 0, "type": "scroll", "textStyle": {"fontSize": 10}, "itemHeight": 8, "data": legend}
    return {
        "animation": False,
        "title": {"text": title, "left": "center", "textStyle": {"fontSize": 13}},
        "tooltip": {"trigger": "axis"},
        "legend": shown if legend else {"show": False},
        "grid": {"left": 52, "right": 14, "top": 46, "bottom": 62 if legend else 40},
        "xAxis": {
            "type": "category",
            "data": list(range(horizon + 1)),
            "boundaryGap": False,
            "name": t(lang, "week"),
            "nameLocation": "middle",
            "nameGap": 22,
            "minInterval": 1,
        },
        "yAxis": {"type": "value", "name": y_name, "nameTextStyle": {"align": "left"}, "minInterval": 1, **y_axis},
        "series": series,
    }


def chart_options(
    ts: pd.DataFrame, lang: str, horizon: int, ghosts: list[Ghost] | None = None
) -> dict[str, dict[str, Any]]:
    """The ECharts option of each of `CHARTS`, from a run's outputs ``ts`` (one row per step taken) and kept runs.

    People by stage (stacked, the current run; the network's legend names the colours), active customers, word of
    mouth told each week (good and bad), revenue and profit per week, NPS, and the week's CES; the x axis always spans
    the lesson's ``horizon`` weeks. Legends: the kept runs on the active customers' chart (the runs table names their
    colours too), the lines of the word of mouth and money charts.
    """
    ghosts = ghosts or []
    stages = [
        {
            **_line(t(lang, k), _points(ts, k), STAGE_COLOURS[k], 0.5),
            "stack": "people",
            "areaStyle": {"color": STAGE_COLOURS[k], "opacity": 0.95},
        }
        for k in STATE_NAMES
    ]
    good, bad, revenue, profit = (t(lang, k) for k in ("wom_good", "wom_bad", "revenue", "profit"))

    def compared(column: str, name: str, colour: str, first: int = 0) -> list[dict[str, Any]]:
        """The kept runs' dashed lines of ``column``, then the current run's."""
        return [*_ghost_lines(ghosts, lang, {column: ""}, first), _line(name, _points(ts, column, first), colour)]

    now = t(lang, "run_now")
    kept = [ghost_label(g, lang) for g in ghosts]
    return {
        "stages": _frame(t(lang, "chart_stages"), t(lang, "people"), lang, horizon, stages),  # legend: the network's
        "active": _frame(
            t(lang, "chart_active"),
            t(lang, "customers"),
            lang,
            horizon,
            compared("active", now, CURRENT),
            [*kept, now] if kept else None,
            min=0,
        ),
        "wom": _frame(
            t(lang, "chart_wom"),
            t(lang, "tellings"),
            lang,
            horizon,
            [
                *_ghost_lines(ghosts, lang, {"wom_positive": good, "wom_negative": bad}, 1),
                _line(good, _points(ts, "wom_positive", 1), GOOD),
                _line(bad, _points(ts, "wom_negative", 1), BAD),
            ],
            [good, bad],
            min=0,
        ),
        "money": _frame(
            t(lang, "chart_money"),
            t(lang, "currency"),
            lang,
            horizon,
            [*compared("profit", profit, PROFIT, 1), _line(revenue, _points(ts, "revenue", 1), CURRENT)],
            [revenue, profit],
        ),
        "nps": _frame(
            t(lang, "chart_nps"),
            t(lang, "points"),
            lang,
            horizon,
            compared("nps", "NPS", CURRENT),
            min=-100,
            max=100,
        ),
        "ces": _frame(
            t(lang, "chart_ces"),
            t(lang, "ces_scale"),
            lang,
            horizon,
            compared("ces", "CES", CURRENT, 1),
            min=1,
            max=7,
        ),
    }


def options_json(room: Classroom, lang: str) -> str:
    """The room's `chart_options` as the compact JSON the page sends to the browser at every step."""
    return json.dumps(chart_options(room.timeseries(), lang, room.horizon, room.ghosts), separators=(",", ":"))
