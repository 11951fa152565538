"""The Solara page of the teaching app: lesson, levers, controls, the customer network, charts and concepts.

Every browser gets its own `Classroom`, kept on the server for a while (`loyaltysim.teach.rooms`) so that reloading
the page keeps the run. The page reads
the starting language and lesson from ``LOYALTYSIM_TEACH_LANG`` and ``LOYALTYSIM_TEACH_LESSON`` (set by
`loyaltysim.teach.server.configure`). Served by ``loyaltysim teach``; this module is its ``SOLARA_APP``.
The `Classroom` is mutable, so components also take ``tick``, a counter bumped after every change, which
makes them render again, or ``setup``, bumped only when the lesson, levers or run change: the lesson and levers cards
are not rendered again at a step, and their handlers are made once per session (`_handlers`). Charts and the network
are drawn in the browser (`loyaltysim.teach.cards`), so a step costs the server little more than the model's step.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from html import escape

import solara

from loyaltysim.teach.cards import Charts, Concepts, Exports, Inspector, Network, Pyramid, Servqual, paragraphs
from loyaltysim.teach.classroom import Classroom
from loyaltysim.teach.guide import guide
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
.lsim-page .v-card__title { word-break:normal; overflow-wrap:anywhere; hyphens:auto; }
.lsim-presenter .lsim-monitors .mon .v { font-size:1.6em; }
.lsim-presenter .lsim-monitors .mon .k, .lsim-presenter .lsim-lever-label, .lsim-presenter .lsim-legend span.item,
.lsim-presenter .lsim-pyramid-levels .txt, .lsim-presenter .lsim-runs table { font-size:1.05em; }
.lsim-pyramid-levels .lvl { margin:3px auto; height:24px; background:#eee; position:relative; border-radius:3px; }
.lsim-pyramid-levels .fill { position:absolute; left:0; top:0; bottom:0; border-radius:3px; }
.lsim-pyramid-levels .txt { position:relative; padding-left:6px; font-size:0.8em; line-height:24px; color:#111; }
.lsim-runs td, .lsim-runs th { padding:1px 8px 1px 0; text-align:right; }
.lsim-person .k { font-size:0.75em; color:#555; margin-top:4px; }
.lsim-person table td { padding:0 10px 0 0; font-size:0.85em; }
.lsim-person .line { font-size:0.85em; }
.lsim-person .swatch { display:inline-block; width:10px; height:10px; border-radius:5px; margin-right:3px; }
.lsim-person-strip { display:flex; height:14px; border:1px solid #ccc; }
.lsim-person-strip .wk { flex:1 1 0; min-width:1px; }
.lsim-servqual .sq { display:grid; grid-template-columns: 6.5em 1fr 3em; align-items:center; column-gap:6px;
  font-size:0.85em; margin:3px 0; }
.lsim-servqual .bar { height:14px; background:#eee; border-radius:3px; position:relative; }
.lsim-servqual .bar .fill { position:absolute; left:0; top:0; bottom:0; border-radius:3px; }
.lsim-servqual .sq-gap { font-size:0.9em; margin-top:4px; }
.lsim-flash-note { font-size:0.8em; color:#555; }
.lsim-echarts { display:grid; grid-template-columns:repeat(3, minmax(0, 1fr)); gap:4px; }
.lsim-runs td:first-child, .lsim-runs th:first-child { text-align:left; }
"""
"""The page's style."""


def _start_lang() -> str:
    lang = os.environ.get("LOYALTYSIM_TEACH_LANG", "es")
    return lang if lang in LANGUAGES else "es"


def _start_lesson() -> str:
    lesson = os.environ.get("LOYALTYSIM_TEACH_LESSON", LESSON_IDS[0])
    return lesson if lesson in LESSON_IDS else LESSON_IDS[0]


def _typed(text: str) -> float | None:
    """A typed lever value, written with a decimal comma or point; None if it is not a number."""
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        return None
    return value if value == value else None  # NaN is not a value


@solara.component
def LessonCard(room: Classroom, lang: str, setup: solara.Reactive[int], on_lesson) -> None:  # noqa: N802 (Solara components are capitalised)
    """Lesson picker, with the lesson's explanation, what to try, the question for the class and the teacher's guide."""
    _ = setup.value  # reading it subscribes this card to changes of the lesson
    titles = {lesson_text(lang, k)["title"]: k for k in LESSON_IDS}
    text = lesson_text(lang, room.lesson)
    with solara.Card(classes=["lsim-lesson"]):
        solara.Select(
            t(lang, "lesson"), values=list(titles), value=text["title"], on_value=lambda title: on_lesson(titles[title])
        )
        paragraphs(
            [
                (t(lang, "explanation"), text["explanation"]),
                (t(lang, "try"), text["try"]),
                (t(lang, "question"), f"<i>{escape(text['question'])}</i>"),
            ],
            "lsim-lesson-text",
        )
        notes = guide(lang, room.lesson)
        with solara.Details(summary=t(lang, "guide")), solara.Div(classes=["lsim-guide"]):
            paragraphs([(t(lang, f"guide.{k}"), notes[k]) for k in ("time", "answers", "prompts")], "lsim-guide-text")


@solara.component
def Levers(room: Classroom, lang: str, setup: solara.Reactive[int], on_change) -> None:  # noqa: N802 (Solara components are capitalised)
    """One slider per lever, from the parameter declarations; values apply at the next Reset."""
    _ = setup.value  # reading it subscribes this card to changes of the levers and the run
    mistyped = solara.use_reactive({})  # lever key -> text typed that is not a number, shown with an error

    def typed(key: str, text: str) -> None:
        value = _typed(text)
        mistyped.set({k: v for k, v in mistyped.value.items() if k != key} | ({} if value is not None else {key: text}))
        if value is not None:
            on_change(key, value)

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
                    wrong = mistyped.value.get(lever.key)
                    solara.InputText(  # the value, readable without dragging; typing sets it (clamped)
                        "",
                        value=number(lang, room.levers[lever.key], None) if wrong is None else wrong,
                        on_value=lambda text, key=lever.key: typed(key, text),
                        continuous_update=False,
                        error=t(lang, "not_a_number") if wrong is not None else False,
                        classes=["lsim-lever-value"],
                    )
                unit = t(lang, f"unit.{lever.unit}")
                solara.Text(f"{help_text} [{unit}]", style={"font-size": "0.8em", "color": "#666"})
        if room.pending:
            solara.Warning(t(lang, "pending"), dense=True, classes=["lsim-pending"])
        rows = "".join(
            f'<tr data-key="{k}"><td>{t(lang, f"lever.{k}")}</td><td class="v">{number(lang, v, None)}</td></tr>'
            for k, v in room.applied.items()
        )
        solara.HTML(
            tag="div", unsafe_innerHTML=f"<b>{t(lang, 'in_run')}</b><table>{rows}</table>", classes=["lsim-applied"]
        )


@solara.component
def StepCounter(room: Classroom, lang: str, tick: solara.Reactive[int]) -> None:  # noqa: N802
    """The step and week of the run, and a note at the end of the year: the controls' only part that changes a step."""
    _ = tick.value  # reading it subscribes the counter to every change of the room
    solara.Text(t(lang, "step_counter", step=room.steps, total=room.horizon), classes=["lsim-step"])
    if room.finished:
        solara.Info(t(lang, "finished"), dense=True)


@solara.component
def Controls(  # noqa: N802 (Solara components are capitalised)
    room: Classroom,
    lang: str,
    tick: solara.Reactive[int],
    setup: solara.Reactive[int],
    ended: solara.Reactive[bool],
    playing: solara.Reactive[bool],
    speed: solara.Reactive[str],
    handlers: dict[str, Callable],
) -> None:
    """Step, Play, Pause, Reset (which keeps the run as a ghost), Clear; speed; a new town; the exports.

    Rendered again when the run, its end or playing changes, not at every step (`StepCounter` is).
    """
    _ = setup.value  # reading it subscribes the buttons to changes of the run (Clear needs kept runs)
    done = ended.value
    with solara.Card(classes=["lsim-controls"]):
        StepCounter(room, lang, tick)
        with solara.Row(style={"flex-wrap": "wrap", "row-gap": "6px"}):
            solara.Button(
                t(lang, "btn_step"),
                on_click=handlers["step"],
                disabled=done or playing.value,
                classes=["lsim-btn-step"],
                color="primary",
            )
            solara.Button(
                t(lang, "btn_play"),
                on_click=handlers["play"],
                disabled=done or playing.value,
                classes=["lsim-btn-play"],
            )
            solara.Button(
                t(lang, "btn_pause"),
                on_click=handlers["pause"],
                disabled=not playing.value,
                classes=["lsim-btn-pause"],
            )
            solara.Button(
                t(lang, "btn_reset"), on_click=handlers["reset"], classes=["lsim-btn-reset"], color="secondary"
            )
            solara.Button(
                t(lang, "btn_clear"),
                on_click=handlers["clear"],
                disabled=not room.ghosts,
                classes=["lsim-btn-clear"],
                text=True,
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
                t(lang, "btn_town"),
                on_click=handlers["town"],
                disabled=playing.value,
                classes=["lsim-btn-town"],
                text=True,
            )
        Exports(room, lang, setup.value)


def _handlers(session: str, room: Classroom, tick, setup, ended, playing) -> dict[str, Callable]:
    """The page's actions on ``room``; each bumps ``tick`` (and ``setup`` unless it only steps) so the page renders.

    ``ended`` follows whether the run reached its horizon (it changes at one step of the year, not every step).
    """

    def changed(steps_only: bool = False) -> None:
        room_for(session, lambda: room)  # still in use: kept for another KEEP_SECONDS
        if not steps_only:
            setup.set(setup.value + 1)
        ended.set(room.finished)
        tick.set(tick.value + 1)

    def stopped(action: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            playing.set(False)
            action()
            changed()

        return run

    def step() -> None:
        room.step()
        changed(steps_only=True)

    def pick(person: int | None) -> None:
        room.selected = person
        changed(steps_only=True)

    def lever(key: str, value: float) -> None:
        room.set_lever(key, value)
        changed()

    def clear() -> None:
        room.clear_ghosts()
        changed()

    return {
        "step": step,
        "reset": stopped(room.reset),
        "lesson": lambda lesson: stopped(lambda: room.load(lesson))(),
        "town": stopped(room.new_town),
        "clear": clear,
        "pick": pick,
        "lever": lever,
        "play": lambda: playing.set(True),
        "pause": lambda: playing.set(False),
    }


@solara.component
def Page() -> None:  # noqa: N802 (Solara components are capitalised)
    """The whole page; each browser session renders its own, with its own `Classroom`."""
    session = solara.get_session_id()  # a reload finds this browser's run again (`loyaltysim.teach.rooms`)
    kept = solara.use_memo(lambda: room_for(session, lambda: Classroom(_start_lesson())), dependencies=[session])
    room = kept.room
    start = solara.use_memo(lambda: kept.settings.get("lang", _start_lang()), dependencies=[session])
    lang = solara.use_reactive(start)  # a constant start: use_reactive follows its argument when that changes
    kept.settings["lang"] = lang.value
    tick = solara.use_reactive(0)  # bumped after every change of the room
    setup = solara.use_reactive(0)  # bumped after a change of the lesson, levers or run (not by a step)
    ended = solara.use_reactive(room.finished)  # whether the run reached its horizon
    playing = solara.use_reactive(False)
    speed = solara.use_reactive("normal")
    presenter = solara.use_reactive(bool(kept.settings.get("presenter", False)))
    kept.settings["presenter"] = presenter.value
    # made once per session, so the cards that do not change at a step get the same handlers and are not rendered
    handlers = solara.use_memo(lambda: _handlers(session, room, tick, setup, ended, playing), dependencies=[session])

    async def play() -> None:
        while playing.value and not room.finished:
            await asyncio.sleep(SPEEDS[speed.value])
            if playing.value:
                handlers["step"]()
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
                LessonCard(room, lang.value, setup, handlers["lesson"])
                Controls(room, lang.value, tick, setup, ended, playing, speed, handlers)
                Levers(room, lang.value, setup, handlers["lever"])
            with solara.Column():
                with solara.Columns([1, 1]):
                    Network(room, lang.value, tick, handlers["pick"])
                    with solara.Column():
                        Inspector(room, lang.value, tick, handlers["pick"])
                        Pyramid(room, lang.value, tick)
                        Servqual(room, lang.value, tick)
                        Concepts(lang.value)
                Charts(room, lang.value, tick)
