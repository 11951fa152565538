"""Drawings of a classroom run: the network as inline SVG for the page, charts and slides with matplotlib.

Colours come from `loyaltysim.runs.figures.STAGE_COLOURS`, so the app, the exports and the report figures agree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from loyaltysim.engine.layout import STATE_NAMES
from loyaltysim.runs.figures import STAGE_COLOURS
from loyaltysim.teach.translations import number, t

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from loyaltysim.teach.classroom import Classroom, Ghost

__all__ = [
    "BAD",
    "CURRENT",
    "GHOST_COLOURS",
    "GOOD",
    "NETWORK_SIZE",
    "PROFIT",
    "charts_figure",
    "colours",
    "customer_html",
    "draw_charts",
    "draw_network",
    "draw_voice",
    "flash_paths",
    "ghost_colour",
    "ghost_label",
    "legend",
    "network_svg",
    "pyramid_html",
    "run_label",
    "servqual_html",
    "slide_figure",
    "spectrum_bar",
]


CURRENT = STAGE_COLOURS["personalization"]
"""Colour of the current run's line (and of revenue), in the charts, the slides and the runs table."""
PROFIT = "#cc79a7"
"""Colour of the current run's profit (Okabe & Ito's reddish purple)."""
GHOST_COLOURS = ("#e69f00", "#56b4e9", "#000000", "#999999", "#882255")
"""Colours of the kept runs, oldest first: none is a colour the current run's lines use (`CURRENT`, `PROFIT`,
`GOOD`, `BAD`), so a dashed line is never mistaken for one of them."""
GOOD = "#009e73"
"""Colour of good word of mouth (bluish green of Okabe & Ito), in the charts and on the network."""
BAD = "#d55e00"
"""Colour of bad word of mouth (vermillion of Okabe & Ito)."""


def colours() -> list[str]:
    """Colour of each stage code, in code order."""
    return [STAGE_COLOURS[k] for k in STATE_NAMES]


def legend(stage: np.ndarray, lang: str) -> list[tuple[str, str, int]]:
    """``(label, colour, count)`` of each stage code, in order."""
    counts = np.bincount(stage.astype(np.int64), minlength=len(STATE_NAMES))
    return [(t(lang, k), c, int(n)) for k, c, n in zip(STATE_NAMES, colours(), counts, strict=True)]


def spectrum_bar(stage: np.ndarray, lang: str) -> str:
    """The CX Spectrum as one bar: a segment per stage code, as wide as its share of the town, with its count."""
    total = max(len(stage), 1)
    parts = "".join(
        f'<span class="seg" data-stage="{k}" title="{name}: {n}" style="flex:{n} 0 0; background:{c}">'
        f"{n if n * 100 >= 4 * total else ''}</span>"
        for k, (name, c, n) in zip(STATE_NAMES, legend(stage, lang), strict=True)
        if n
    )
    return f'<div class="lsim-spectrum-bar" role="img" aria-label="{t(lang, "spectrum")}">{parts}</div>'


def pyramid_html(shares: dict[str, float], lang: str) -> str:
    """The CX pyramid of the latest interactions: need met at the base, easy above, felt good at the top.

    Each level is a bar as wide as its place in the pyramid, filled to its share (`Classroom.pyramid`).
    """
    levels = [("good", 50, "#6baed6"), ("easy", 75, "#9ecae1"), ("met", 100, "#c6dbef")]
    rows = "".join(
        f'<div class="lvl" data-level="{k}" style="width:{w}%"><span class="fill" style="width:'
        f'{0 if shares[k] != shares[k] else round(100 * shares[k])}%; background:{c}"></span>'
        f'<span class="txt">{t(lang, f"pyr.{k}")} {number(lang, 100 * shares[k], 0)} %</span></div>'
        for k, w, c in levels
    )
    return f'<div class="lsim-pyramid-levels">{rows}</div>'


NETWORK_SIZE = 560
"""Width and height of the network's SVG drawing, in its own units."""


def _xy(positions: np.ndarray, size: int) -> list[list[float]]:
    pad = 8.0
    return np.round(pad + positions * (size - 2 * pad), 1).tolist()


def _path(xy: list[list[float]], pairs: np.ndarray) -> str:
    return "".join(f"M{xy[a][0]} {xy[a][1]}L{xy[b][0]} {xy[b][1]}" for a, b in pairs.tolist())


def flash_paths(
    positions: np.ndarray, flashes: tuple[np.ndarray, np.ndarray], size: int = NETWORK_SIZE
) -> tuple[str, str]:
    """SVG path data of the contacts that carried good and bad word of mouth (`Classroom.flashes`)."""
    xy = _xy(positions, size)
    return _path(xy, flashes[0]), _path(xy, flashes[1])


def servqual_html(gap: dict[str, float], lang: str) -> str:
    """The SERVQUAL gap (`Classroom.servqual`): expected and perceived quality as bars on one 0-1 scale; the gap."""
    rows = "".join(
        f'<div class="sq" data-sq="{k}"><span class="k">{t(lang, f"sq.{k}")}</span><span class="bar">'
        f'<span class="fill" style="width:{0 if gap[k] != gap[k] else round(100 * gap[k])}%; background:{c}"></span>'
        f'</span><span class="v">{number(lang, gap[k], 2)}</span></div>'
        for k, c in (("expected", "#bdbdbd"), ("perceived", CURRENT))
    )
    sign = "" if gap["gap"] != gap["gap"] else ("neg" if gap["gap"] < 0 else "pos")
    value = number(lang, gap["gap"], 2, sign=True)
    colour = f' style="color:{BAD if sign == "neg" else GOOD}"' if sign else ""  # the word of mouth's colours
    return f'{rows}<div class="sq-gap {sign}" data-sq="gap">{t(lang, "sq.gap")}: <b{colour}>{value}</b></div>'


def network_svg(
    positions: np.ndarray, edges: np.ndarray, stage: np.ndarray, lang: str, size: int = NETWORK_SIZE
) -> str:
    """The network as an SVG element: grey contact lines, one circle per person coloured by stage.

    Each circle carries its person's id and stage code (``data-id``, ``data-stage``); the page sends the id of a
    clicked circle to the server. The picture also holds, empty, the two paths of this week's word of mouth (green
    and red) and the ring around the person followed, which the page fills at every step (``vue/network.vue``, from
    `flash_paths` and `Classroom.selected`) together with the circles' colours.
    """
    r = 4.2
    xy = _xy(positions, size)
    cols = colours()
    dots = "".join(
        f'<circle cx="{x}" cy="{y}" r="{r}" fill="{cols[s]}" data-stage="{s}" data-id="{i}"/>'
        for i, ((x, y), s) in enumerate(zip(xy, stage.tolist(), strict=True))
    )
    told = "".join(
        f'<path class="lsim-flash" data-wom="{kind}" d="" stroke="{colour}" stroke-width="2.2" fill="none" '
        'opacity="0.9"/>'
        for kind, colour in (("good", GOOD), ("bad", BAD))
    )
    ring = (
        f'<circle class="lsim-selected" cx="-99" cy="-99" r="{2.2 * r}" fill="none" stroke="#000" '
        'stroke-width="1.6" pointer-events="none"/>'
    )
    label = t(lang, "network")
    return (
        f'<svg class="lsim-network-svg" viewBox="0 0 {size} {size}" width="100%" role="img" '
        f'aria-label="{label}" xmlns="http://www.w3.org/2000/svg">'
        f'<path d="{_path(xy, edges)}" stroke="#bdbdbd" stroke-width="0.6" fill="none" opacity="0.7"/>{told}'
        f'<g stroke="#ffffff" stroke-width="0.8" style="cursor:pointer">{dots}</g>{ring}</svg>'
    )


def customer_html(info: dict, lang: str) -> str:
    """One person's card (`Classroom.customer`): stage now and week by week, loyalty, expectation, their week."""
    strip = "".join(
        f'<span class="wk" title="{t(lang, "week")} {w}: {t(lang, k)}" style="background:{STAGE_COLOURS[k]}"></span>'
        for w, k in enumerate(info["stages"])
    )
    expects = float(np.mean(list(info["expectation"].values())))
    rows = [
        (t(lang, "insp.loyalty"), number(lang, info["loyalty"], 2)),
        (t(lang, "insp.expects"), number(lang, expects, 2)),
        (t(lang, "insp.frustration"), number(lang, info["frustration"], 2)),
        (t(lang, "insp.uses"), number(lang, info["uses"], 0)),
        (t(lang, "insp.met"), number(lang, info["met"], 0)),
        (t(lang, "insp.ease"), number(lang, info["ease"], 2)),
        (t(lang, "insp.feel"), number(lang, info["feel"], 2)),
    ]
    table = "".join(f"<tr><td>{k}</td><td class='v'>{v}</td></tr>" for k, v in rows[:3])
    week = "".join(f"<tr><td>{k}</td><td class='v'>{v}</td></tr>" for k, v in rows[3:])
    lines = [
        t(lang, "insp.memorable", good=number(lang, info["good"]), bad=number(lang, info["bad"])),
        t(lang, "insp.told", good=info["told_good"], bad=info["told_bad"]),
        t(lang, "insp.heard", good=info["heard_good"], bad=info["heard_bad"]),
        t(lang, "insp.neighbours", n=info["neighbours"], c=info["customer_neighbours"]),
    ]
    now = info["stages"][-1]
    return (
        f'<div class="lsim-person" data-id="{info["id"]}"><b>{t(lang, "insp.person", i=info["id"])}</b> · '
        f'{t(lang, "insp.now")}: <span class="lsim-person-stage" data-stage="{now}">'
        f'<span class="swatch" style="background:{STAGE_COLOURS[now]}"></span>{t(lang, now)}</span>'
        f'<div class="k">{t(lang, "insp.history")}</div><div class="lsim-person-strip">{strip}</div>'
        f"<table>{table}</table><div class='k'>{t(lang, 'insp.week')}</div><table>{week}</table>"
        + "".join(f'<div class="line">{x}</div>' for x in lines)
        + "</div>"
    )


def draw_network(
    ax: Axes, positions: np.ndarray, edges: np.ndarray, stage: np.ndarray, lang: str, legend_on: bool = True
) -> Axes:
    """Draw the network on ``ax`` (for slides), with a legend naming the stages."""
    from matplotlib.collections import LineCollection
    from matplotlib.patches import Patch

    ax.add_collection(LineCollection(positions[edges], colors="#bdbdbd", linewidths=0.4, zorder=1))
    cols = np.array(colours())
    ax.scatter(positions[:, 0], 1 - positions[:, 1], s=14, c=cols[stage], edgecolors="white", linewidths=0.3, zorder=2)
    ax.set(xlim=(-0.02, 1.02), ylim=(-0.02, 1.02), aspect="equal", xticks=[], yticks=[], title=t(lang, "network"))
    # the SVG's y axis points down: flip the lines too, so both drawings agree
    ax.collections[0].set_segments([[(x, 1 - y) for x, y in seg] for seg in positions[edges]])
    if legend_on:
        handles = [Patch(color=c, label=f"{name} ({n})") for name, c, n in legend(stage, lang)]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False)
    return ax


def ghost_colour(i: int) -> str:
    """Colour of the ``i``-th kept run (oldest first), from `GHOST_COLOURS`."""
    return GHOST_COLOURS[i % len(GHOST_COLOURS)]


def run_label(run: int, changes: tuple[tuple[str, float, float], ...], lang: str) -> str:
    """``run 2: Need met 0.65 → 0.95`` (the levers the run changed from the lesson's), or ``run 1: lesson's levers``."""
    moved = "; ".join(
        f"{t(lang, f'lever.{k}')} {number(lang, preset, None)} → {number(lang, value, None)}"
        for k, preset, value in changes
    )
    return f"{t(lang, 'run')} {run}: {moved or t(lang, 'preset_levers')}"


def ghost_label(ghost: Ghost, lang: str) -> str:
    """The label of a kept run (`run_label`)."""
    return run_label(ghost.number, ghost.changes, lang)


def draw_ghosts(axes: list[Axes], ghosts: list[Ghost], lang: str) -> None:
    """Earlier runs as faded dashed lines on the active, money and NPS charts (labelled on the active chart)."""
    _, ax_active, ax_money, ax_nps = axes[:4]
    for i, ghost in enumerate(ghosts):
        g = ghost.timeseries
        style = {"color": ghost_colour(i), "lw": 1.2, "ls": "--", "alpha": 0.55}
        ax_active.plot(g["step"], g["active"], label=ghost_label(ghost, lang), **style)
        ax_money.plot(g["step"][1:], g["profit"][1:], **style)
        ax_nps.plot(g["step"], g["nps"], **style)


def draw_voice(axes: list[Axes], ts: pd.DataFrame, lang: str) -> list[Axes]:
    """Word of mouth told each week (good and bad) and the week's CES: what customers say and how hard it was."""
    ax_wom, ax_ces = axes
    weeks = ts["step"].to_numpy()
    ax_wom.plot(weeks[1:], ts["wom_positive"][1:], color=GOOD, lw=2, label=t(lang, "wom_good"))
    ax_wom.plot(weeks[1:], ts["wom_negative"][1:], color=BAD, lw=2, label=t(lang, "wom_bad"))
    ax_wom.set(title=t(lang, "chart_wom"), ylabel=t(lang, "tellings"))
    ax_wom.set_ylim(bottom=0)
    ax_wom.legend(fontsize="small", loc="upper left")
    ax_ces.plot(weeks[1:], ts["ces"][1:], color=CURRENT, lw=2)
    ax_ces.set(title=t(lang, "chart_ces"), ylabel=t(lang, "ces_scale"), ylim=(1, 7))
    return axes


def draw_charts(
    axes: list[Axes], ts: pd.DataFrame, lang: str, horizon: int | None = None, ghosts: list[Ghost] | None = None
) -> list[Axes]:
    """Four charts on ``axes``: people by stage, active customers, revenue and profit, NPS; earlier runs faded.

    With six axes, also the word of mouth told and the CES of each week (`draw_voice`).
    """
    weeks = ts["step"].to_numpy()
    xmax = max(horizon or 0, int(weeks[-1]), *(int(g.timeseries["step"].iloc[-1]) for g in ghosts or ()), 1)
    ax_stage, ax_active, ax_money, ax_nps = axes[:4]
    keys = list(STATE_NAMES)
    ax_stage.stackplot(weeks, *(ts[k] for k in keys), colors=colours(), labels=[t(lang, k) for k in keys])
    ax_stage.set(title=t(lang, "chart_stages"), ylabel=t(lang, "people"))
    if ghosts:
        draw_ghosts(axes, ghosts, lang)
    ax_active.plot(weeks, ts["active"], color=CURRENT, lw=2, label=t(lang, "run_now"))
    ax_active.set(title=t(lang, "chart_active"), ylabel=t(lang, "customers"))
    ax_active.set_ylim(bottom=0)
    if ghosts:
        ax_active.legend(fontsize="x-small", loc="lower left")
    ax_money.plot(weeks[1:], ts["revenue"][1:], color=CURRENT, lw=2, label=t(lang, "revenue"))
    ax_money.plot(weeks[1:], ts["profit"][1:], color=PROFIT, lw=2, label=t(lang, "profit"))
    ax_money.axhline(0, color="#999999", lw=0.6)
    ax_money.set(title=t(lang, "chart_money"), ylabel=t(lang, "currency"))
    ax_money.legend(fontsize="small", loc="lower left")
    ax_nps.plot(weeks, ts["nps"], color=CURRENT, lw=2)
    ax_nps.axhline(0, color="#999999", lw=0.6)
    ax_nps.set(title=t(lang, "chart_nps"), ylabel=t(lang, "points"), ylim=(-100, 100))
    if len(axes) == 6:
        draw_voice(axes[4:], ts, lang)
    for ax in axes:
        ax.set_xlim(0, xmax)
        ax.set_xlabel(t(lang, "week"))
        ax.grid(alpha=0.25)
    return axes


def charts_figure(ts: pd.DataFrame, lang: str, horizon: int | None = None, ghosts: list[Ghost] | None = None) -> Figure:
    """The six charts as one matplotlib figure (no pyplot), for a notebook.

    The page drew this on the server before its charts moved to the browser; `benchmarks/teach_load.py` times it as
    the reference. Top: people by stage, active customers, word of mouth; bottom: money, NPS, CES.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 6), layout="constrained")
    axes = fig.subplots(2, 3).ravel().tolist()
    draw_charts([axes[i] for i in (0, 1, 3, 4, 2, 5)], ts, lang, horizon, ghosts)
    return fig


def slide_figure(room: Classroom, lang: str, step: int | None = None) -> Figure:
    """A 16:9 slide of a run at ``step`` (default: the latest): the network beside the four charts."""
    from matplotlib.figure import Figure

    from loyaltysim.teach.translations import lesson_text

    step = room.steps if step is None else step
    fig = Figure(figsize=(16, 9), dpi=80, layout="constrained")
    grid = fig.add_gridspec(2, 3, width_ratios=[1.35, 1, 1])
    draw_network(fig.add_subplot(grid[:, 0]), room.positions(), room.edges(), room.history[step], lang)
    axes = [fig.add_subplot(grid[i, j]) for i in range(2) for j in (1, 2)]
    ts = room.timeseries().iloc[: step + 1]
    draw_charts(axes, ts, lang, room.horizon)
    title = lesson_text(lang, room.lesson)["title"]
    fig.suptitle(f"{t(lang, 'title')}: {title} · {t(lang, 'step_counter', step=step, total=room.horizon)}", fontsize=15)
    return fig
