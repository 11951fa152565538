"""The Solara page of the teaching app: lesson, levers, controls, the customer network, charts and concepts.

Every browser gets its own `Classroom`, kept on the server for a while (`loyaltysim.teach.rooms`) so that reloading
the page keeps the run. The page reads
the starting language and lesson from ``LOYALTYSIM_TEACH_LANG`` and ``LOYALTYSIM_TEACH_LESSON`` (set by
`loyaltysim.teach.server.configure`). Served by ``loyaltysim teach``; this module is its ``SOLARA_APP``.
The `Classroom` is mutable, so components also take ``tick``, a counter bumped after every change, which
makes them render again.
"""

from __future__ import annotations

import asyncio
import os
from html import escape

import solara

from loyaltysim.runs.figures import line_colour
from loyaltysim.teach.classroom import MONITORS, Classroom
from loyaltysim.teach.export import gif_bytes, png_bytes
from loyaltysim.teach.figures import charts_figure, ghost_label, legend, network_svg, pyramid_html, spectrum_bar
from loyaltysim.teach.lessons import LESSON_IDS
from loyaltysim.teach.levers import levers
from loyaltysim.teach.rooms import room_for
from loyaltysim.teach.translations import LANGUAGES, lesson_text, number, t

__all__ = ["PLAY_INTERVAL_S", "SPEEDS", "Page"]

SPEEDS = {"slow": 1.0, "normal": 0.4, "fast": 0.1}
"""Pause between steps while playing, in seconds, by the speed a teacher picks."""
PLAY_INTERVAL_S = SPEEDS["normal"]
"""The default pause between steps while playing, in seconds."""

CSS = """
.lsim-legend span.swatch { display:inline-block; width:12px; height:12px; border-radius:6px; margin-right:4px;
  vertical-align:middle; border:1px solid #999; }
.lsim-legend span.item { margin-right:12px; white-space:nowrap; font-size:0.9em; }
.lsim-applied td { padding:0 8px 0 0; font-size:0.85em; }
.lsim-step { font-size:1.2em; font-weight:600; }
.lsim-network-svg { max-width:560px; }
.lsim-lever-row { display:grid; grid-template-columns: minmax(6em, 9.5em) minmax(4em, 1fr) 4.6em; column-gap:6px;
  align-items:center; }
.lsim-lever-row .lsim-lever-value input { font-size:0.9em; }
.lsim-lever-row .lsim-lever-label { font-size:0.9em; line-height:1.2; }
.lsim-lever-row .v-input { margin-top:0; padding-top:0; }
.lsim-monitors { display:flex; flex-wrap:wrap; gap:6px; margin-bottom:6px; }
.lsim-monitors .mon { border:1px solid #ddd; border-radius:6px; padding:2px 8px; min-width:7.5em; }
.lsim-monitors .mon .k { font-size:0.75em; color:#555; display:block; }
.lsim-monitors .mon .v { font-size:1.15em; font-weight:600; }
.lsim-runs table { border-collapse:collapse; font-size:0.85em; }
.lsim-spectrum-bar { display:flex; height:22px; border-radius:4px; overflow:hidden; margin:6px 0 2px 0;
  font-size:0.75em; line-height:22px; text-align:center; color:#111; }
.lsim-spectrum-bar .seg { min-width:2px; }
.lsim-presenter { font-size:125%; }
.lsim-presenter .v-card__title { font-size:1.6rem; }
.lsim-presenter .lsim-monitors .mon .v { font-size:1.6em; }
.lsim-presenter .lsim-monitors .mon .k, .lsim-presenter .lsim-lever-label, .lsim-presenter .lsim-legend span.item,
.lsim-presenter .lsim-pyramid-levels .txt, .lsim-presenter .lsim-runs table { font-size:1.05em; }
.lsim-pyramid-levels .lvl { margin:3px auto; height:24px; background:#eee; position:relative; border-radius:3px; }
.lsim-pyramid-levels .fill { position:absolute; left:0; top:0; bottom:0; border-radius:3px; }
.lsim-pyramid-levels .txt { position:relative; padding-left:6px; font-size:0.8em; line-height:24px; color:#111; }
.lsim-runs td, .lsim-runs th { padding:1px 8px 1px 0; text-align:right; }
.lsim-runs td:first-child, .lsim-runs th:first-child { text-align:left; }
"""

MONITOR_DECIMALS = {"retention": 1, "ces": 2}
"""Decimals of a live number (the others are whole)."""


def _start_lang() -> str:
    lang = os.environ.get("LOYALTYSIM_TEACH_LANG", "es")
    return lang if lang in LANGUAGES else "es"


def _start_lesson() -> str:
    lesson = os.environ.get("LOYALTYSIM_TEACH_LESSON", LESSON_IDS[0])
    return lesson if lesson in LESSON_IDS else LESSON_IDS[0]


def _paragraphs(items: list[tuple[str, str]], css_class: str) -> None:
    """Bold heading and text per paragraph, as plain HTML (solara.Markdown would load mermaid from the CDN)."""
    html = "".join(
        f"<p><b>{escape(head)}.</b> {body if body.startswith('<i>') else escape(body)}</p>" for head, body in items
    )
    solara.HTML(tag="div", unsafe_innerHTML=html, classes=[css_class])


def _fmt(value: float) -> str:
    return f"{value:.4g}"


@solara.component
def LessonCard(room: Classroom, lang: str, tick: int, on_lesson) -> None:  # noqa: N802 (Solara components are capitalised)
    """Lesson picker, with the lesson's explanation, what to try and the question for the class."""
    titles = {lesson_text(lang, k)["title"]: k for k in LESSON_IDS}
    text = lesson_text(lang, room.lesson)
    with solara.Card(classes=["lsim-lesson"]):
        solara.Select(
            t(lang, "lesson"), values=list(titles), value=text["title"], on_value=lambda title: on_lesson(titles[title])
        )
        _paragraphs(
            [
                (t(lang, "explanation"), text["explanation"]),
                (t(lang, "try"), text["try"]),
                (t(lang, "question"), f"<i>{escape(text['question'])}</i>"),
            ],
            "lsim-lesson-text",
        )


@solara.component
def Levers(room: Classroom, lang: str, tick: int, on_change) -> None:  # noqa: N802 (Solara components are capitalised)
    """One slider per lever, from the parameter declarations; values apply at the next Reset."""
    with solara.Card(t(lang, "levers"), subtitle=t(lang, "levers_hint"), classes=["lsim-levers"]):
        for lever in levers():
            name = lever.key.rsplit(".", 1)[-1]
            help_text = t(lang, f"help.{lever.key}") or lever.meaning
            with solara.Div(classes=["lsim-lever", f"lsim-lever-{name}"]):
                with solara.Div(classes=["lsim-lever-row"]):
                    solara.Text(t(lang, f"lever.{lever.key}"), classes=["lsim-lever-label"])
                    solara.SliderFloat(
                        "",
                        value=room.levers[lever.key],
                        min=lever.min,
                        max=lever.max,
                        step=lever.step,
                        on_value=lambda v, key=lever.key: on_change(key, v),
                    )
                    solara.InputFloat(  # the value, readable without dragging; typing sets it (clamped)
                        "",
                        value=round(room.levers[lever.key], 6),
                        on_value=lambda v, key=lever.key: on_change(key, v) if v is not None else None,
                        continuous_update=False,
                        classes=["lsim-lever-value"],
                    )
                unit = t(lang, f"unit.{lever.unit}")
                solara.Text(f"{help_text} [{unit}]", style={"font-size": "0.8em", "color": "#666"})
        if room.pending:
            solara.Warning(t(lang, "pending"), dense=True, classes=["lsim-pending"])
        rows = "".join(
            f'<tr data-key="{k}"><td>{t(lang, f"lever.{k}")}</td><td class="v">{_fmt(v)}</td></tr>'
            for k, v in room.applied.items()
        )
        solara.HTML(
            tag="div", unsafe_innerHTML=f"<b>{t(lang, 'in_run')}</b><table>{rows}</table>", classes=["lsim-applied"]
        )


@solara.component
def Controls(  # noqa: N802 (Solara components are capitalised)
    room: Classroom,
    lang: str,
    tick: int,
    playing: solara.Reactive[bool],
    speed: solara.Reactive[str],
    on_step,
    on_reset,
    on_clear,
    on_town,
) -> None:
    """Step, Play, Pause, Reset (which keeps the run as a ghost), Clear; speed; a new town; the exports."""
    with solara.Card(classes=["lsim-controls"]):
        solara.Text(t(lang, "step_counter", step=room.steps, total=room.horizon), classes=["lsim-step"])
        with solara.Row(style={"flex-wrap": "wrap", "row-gap": "6px"}):
            solara.Button(
                t(lang, "btn_step"),
                on_click=on_step,
                disabled=room.finished or playing.value,
                classes=["lsim-btn-step"],
                color="primary",
            )
            solara.Button(
                t(lang, "btn_play"),
                on_click=lambda: playing.set(True),
                disabled=room.finished or playing.value,
                classes=["lsim-btn-play"],
            )
            solara.Button(
                t(lang, "btn_pause"),
                on_click=lambda: playing.set(False),
                disabled=not playing.value,
                classes=["lsim-btn-pause"],
            )
            solara.Button(t(lang, "btn_reset"), on_click=on_reset, classes=["lsim-btn-reset"], color="secondary")
            solara.Button(
                t(lang, "btn_clear"), on_click=on_clear, disabled=not room.ghosts, classes=["lsim-btn-clear"], text=True
            )
        with solara.Row(style={"flex-wrap": "wrap", "align-items": "center", "row-gap": "6px"}):
            solara.ToggleButtonsSingle(
                value=speed.value,
                on_value=speed.set,
                classes=["lsim-speed"],
                children=[solara.Button(t(lang, f"speed.{k}"), value=k, text=True) for k in SPEEDS],
            )
            solara.Text(t(lang, "town", n=room.seed), classes=["lsim-town"])
            solara.Button(
                t(lang, "btn_town"), on_click=on_town, disabled=playing.value, classes=["lsim-btn-town"], text=True
            )
        if room.finished:
            solara.Info(t(lang, "finished"), dense=True)
        solara.Text(t(lang, "export"), style={"font-weight": "600"})
        with solara.Row(style={"flex-wrap": "wrap", "row-gap": "6px"}):
            stem = f"loyaltysim-{room.lesson}-step{room.steps}"
            solara.FileDownload(
                lambda: png_bytes(room, lang), filename=f"{stem}.png", label=t(lang, "btn_png"), mime_type="image/png"
            )
            solara.FileDownload(
                lambda: gif_bytes(room, lang, every=max(1, room.steps // 40)),
                filename=f"{stem}.gif",
                label=t(lang, "btn_gif"),
                mime_type="image/gif",
            )
            solara.FileDownload(
                lambda: room.model.timeseries().to_csv(index=False).encode(),
                filename=f"{stem}.csv",
                label=t(lang, "btn_csv"),
                mime_type="text/csv",
            )


@solara.component
def Network(room: Classroom, lang: str, tick: int) -> None:  # noqa: N802 (Solara components are capitalised)
    """The customer network coloured by stage, with a legend naming the stages and their counts."""
    stage = room.history[-1]
    svg = solara.use_memo(lambda: network_svg(room.positions(), room.edges(), stage, lang), dependencies=[tick, lang])
    items = "".join(
        f'<span class="item"><span class="swatch" style="background:{c}"></span>{name}: {n}</span>'
        for name, c, n in legend(stage, lang)
    )
    with solara.Card(t(lang, "network"), subtitle=t(lang, "network_note"), classes=["lsim-network-card"]):
        solara.HTML(tag="div", unsafe_innerHTML=svg, classes=["lsim-network"])
        solara.HTML(tag="div", unsafe_innerHTML=spectrum_bar(stage, lang), classes=["lsim-spectrum"])
        solara.HTML(tag="div", unsafe_innerHTML=items, classes=["lsim-legend"])


def _monitor(lang: str, metric: str, value: float) -> str:
    text = number(lang, value, MONITOR_DECIMALS.get(metric, 0), sign=metric == "nps")
    unit = {"retention": " %", "profit": f" {t(lang, 'currency')}"}.get(metric, "")
    return (
        f'<span class="mon" data-monitor="{metric}"><span class="k">{escape(t(lang, f"mon.{metric}"))}</span>'
        f'<span class="v">{text}{escape(unit)}</span></span>'
    )


def _runs_table(room: Classroom, lang: str, now: dict[str, float]) -> str:
    """Each kept run's end values beside the current run's (``now``), as an HTML table."""
    head = "".join(f"<th>{escape(t(lang, f'mon.{m}'))}</th>" for m in MONITORS)
    rows = [(ghost_label(g, lang), g.end, line_colour(i)) for i, g in enumerate(room.ghosts)]
    rows.append((f"{t(lang, 'run_now')} ({t(lang, 'run')} {room.number})", now, "#4292c6"))
    body = "".join(
        f'<tr data-run="{i}"><td><span style="color:{colour}">&#9632;</span> {escape(label)}</td>'
        + "".join(f"<td>{number(lang, end[m], MONITOR_DECIMALS.get(m, 0))}</td>" for m in MONITORS)
        + "</tr>"
        for i, (label, end, colour) in enumerate(rows)
    )
    return f"<b>{escape(t(lang, 'runs_title'))}</b><table><tr><th></th>{head}</tr>{body}</table>"


@solara.component
def Charts(room: Classroom, lang: str, tick: int) -> None:  # noqa: N802 (Solara components are capitalised)
    """The live numbers, then customers per stage, active customers, revenue and profit, NPS, with earlier runs."""
    fig = solara.use_memo(
        lambda: charts_figure(room.model.timeseries(), lang, room.horizon, room.ghosts), dependencies=[tick, lang]
    )
    now = room.monitors()  # read like every other result: loyaltysim.runs.metrics
    with solara.Card(t(lang, "charts"), classes=["lsim-charts"]):
        html = "".join(_monitor(lang, m, v) for m, v in now.items())
        solara.HTML(tag="div", unsafe_innerHTML=html, classes=["lsim-monitors"])
        solara.FigureMatplotlib(fig, dependencies=[tick, lang], format="png")
        if room.ghosts:
            solara.HTML(tag="div", unsafe_innerHTML=_runs_table(room, lang, now), classes=["lsim-runs"])


@solara.component
def Pyramid(room: Classroom, lang: str, tick: int) -> None:  # noqa: N802 (Solara components are capitalised)
    """The CX pyramid of the latest step's interactions, live."""
    with solara.Card(t(lang, "pyr_title"), subtitle=t(lang, "pyr_note"), classes=["lsim-pyramid"]):
        solara.HTML(tag="div", unsafe_innerHTML=pyramid_html(room.pyramid(), lang))


@solara.component
def Concepts(lang: str) -> None:  # noqa: N802 (Solara components are capitalised)
    """The six CX Spectrum stages and the CX pyramid, in a few lines."""
    with solara.Card(t(lang, "concepts"), classes=["lsim-concepts"]):
        _paragraphs(
            [(t(lang, "stages_title"), t(lang, "stages_text")), (t(lang, "pyramid_title"), t(lang, "pyramid_text"))],
            "lsim-concepts-text",
        )


@solara.component
def Page() -> None:  # noqa: N802 (Solara components are capitalised)
    """The whole page; each browser session renders its own, with its own `Classroom`."""
    session = solara.get_session_id()  # a reload finds this browser's run again (`loyaltysim.teach.rooms`)
    kept = solara.use_memo(lambda: room_for(session, lambda: Classroom(_start_lesson())), dependencies=[session])
    room = kept.room
    start = solara.use_memo(lambda: kept.settings.get("lang", _start_lang()), dependencies=[session])
    lang = solara.use_reactive(start)  # a constant start: use_reactive follows its argument when that changes
    kept.settings["lang"] = lang.value
    tick = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    speed = solara.use_reactive("normal")
    presenter = solara.use_reactive(bool(kept.settings.get("presenter", False)))
    kept.settings["presenter"] = presenter.value

    def changed() -> None:
        room_for(session, lambda: room)  # still in use: kept for another KEEP_SECONDS
        tick.set(tick.value + 1)

    def on_step() -> None:
        room.step()
        changed()

    def on_reset() -> None:
        playing.set(False)
        room.reset()
        changed()

    def on_lesson(lesson: str) -> None:
        playing.set(False)
        room.load(lesson)
        changed()

    def on_town() -> None:
        playing.set(False)
        room.new_town()
        changed()

    def on_clear() -> None:
        room.clear_ghosts()
        changed()

    def on_lever(key: str, value: float) -> None:
        room.set_lever(key, value)
        changed()

    async def play() -> None:
        while playing.value and not room.finished:
            await asyncio.sleep(SPEEDS[speed.value])
            if playing.value:
                on_step()
        playing.set(False)

    solara.lab.use_task(play, dependencies=[playing.value], prefer_threaded=False)

    solara.Style(CSS)
    solara.Title(t(lang.value, "title"))
    with solara.AppBar():
        solara.AppBarTitle(t(lang.value, "title"))
        solara.Button(
            t(lang.value, "presenter"),
            on_click=lambda: presenter.set(not presenter.value),
            text=not presenter.value,
            color="white" if presenter.value else None,
            style={"color": "#1565c0"} if presenter.value else {"color": "white"},
            classes=["lsim-btn-presenter"],
        )
        with solara.Row(classes=["lsim-lang"]):
            for code in LANGUAGES:
                active = code == lang.value
                solara.Button(
                    code.upper(),
                    on_click=lambda code=code: lang.set(code),
                    text=not active,
                    color="white" if active else None,
                    classes=[f"lsim-lang-{code}"],
                    style={"color": "#1565c0"} if active else {"color": "white"},
                )
    with solara.Column(classes=["lsim-page", *(["lsim-presenter"] if presenter.value else [])]):
        solara.Text(t(lang.value, "subtitle", n=room.model.params.population.size), classes=["lsim-subtitle"])
        with solara.Columns([4, 8]):
            with solara.Column():
                LessonCard(room, lang.value, tick.value, on_lesson)
                Controls(room, lang.value, tick.value, playing, speed, on_step, on_reset, on_clear, on_town)
                Levers(room, lang.value, tick.value, on_lever)
            with solara.Column():
                with solara.Columns([1, 1]):
                    Network(room, lang.value, tick.value)
                    with solara.Column():
                        Pyramid(room, lang.value, tick.value)
                        Concepts(lang.value)
                Charts(room, lang.value, tick.value)
