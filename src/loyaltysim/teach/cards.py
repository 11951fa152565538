"""The page's cards: the network, one person, live numbers and charts, the pyramid, SERVQUAL, concepts, exports.

Charts are ECharts options drawn in the browser (``vue/charts.vue``, from `loyaltysim.teach.charts`) and the network
is an SVG (``vue/network.vue``, from `loyaltysim.teach.figures`): the server renders no image while a class plays.
The live cards take ``tick``, the reactive counter bumped after every change of the `Classroom`, and read it, so a
step renders them (and the step counter) and nothing else of the page; `Exports` renders only when the run changes.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

import solara

from loyaltysim.teach.assets import ECHARTS_VERSION
from loyaltysim.teach.charts import CHARTS, DECIMALS, options_json
from loyaltysim.teach.classroom import MONITORS, Classroom
from loyaltysim.teach.export import export_bytes
from loyaltysim.teach.figures import (
    CURRENT,
    colours,
    customer_html,
    flash_paths,
    ghost_colour,
    ghost_label,
    legend,
    network_svg,
    pyramid_html,
    run_label,
    servqual_html,
    spectrum_bar,
)
from loyaltysim.teach.translations import number, t

__all__ = ["Charts", "Concepts", "Exports", "Inspector", "Network", "Pyramid", "Servqual", "paragraphs"]


def paragraphs(items: list[tuple[str, str]], css_class: str) -> None:
    """Bold heading and text per paragraph, as plain HTML (solara.Markdown would load mermaid from the CDN)."""
    html = "".join(
        f"<p><b>{escape(head)}.</b> {body if body.startswith('<i>') else escape(body)}</p>" for head, body in items
    )
    solara.HTML(tag="div", unsafe_innerHTML=html, classes=[css_class])


@solara.component_vue("vue/network.vue")
def NetworkView(  # noqa: N802 (Solara components are capitalised)
    base: str,
    stages: str,
    palette: list,
    good: str,
    bad: str,
    selected: int | None,
    step: int,
    event_pick: Callable[[int], None],
) -> None:
    """The network's SVG ``base``, repainted in the browser at every step.

    With each person's stage code (one digit a person, colours from ``palette``), the contacts that carried good and
    bad word of mouth (SVG paths) and the ``selected`` person's ring, at ``step`` (written on the element once
    painted, as ``data-step``); a click on a dot calls ``event_pick`` with that person's id.
    """


@solara.component_vue("vue/charts.vue")
def ChartsView(options: str, order: list, lang: str, version: str, height: int) -> None:  # noqa: N802
    """The charts' ECharts ``options`` (JSON, by name, drawn in ``order``), numbers in ``lang``, ``height`` px each.

    JSON text rather than a dict: the widget compares and sends one string a step, not a deep structure.
    """


@solara.component
def Network(room: Classroom, lang: str, tick: solara.Reactive[int], on_pick: Callable[[int], None]) -> None:  # noqa: N802
    """The customer network coloured by stage, this week's word of mouth on its contacts, a legend and the spectrum."""
    now_tick = tick.value  # reading it subscribes this card to the room's changes
    stage = room.history[-1]
    base = solara.use_memo(  # the picture of the town; later steps only repaint it (`NetworkView`)
        lambda: network_svg(room.positions(), room.edges(), room.history[0], lang),
        dependencies=[room.seed, room.lesson, lang],
    )
    good, bad = solara.use_memo(lambda: flash_paths(room.positions(), room.flashes()), dependencies=[now_tick])
    items = "".join(
        f'<span class="item"><span class="swatch" style="background:{c}"></span>{name}: {n}</span>'
        for name, c, n in legend(stage, lang)
    )
    with solara.Card(t(lang, "network"), subtitle=t(lang, "network_note"), classes=["lsim-network-card"]):
        NetworkView(
            base=base,
            stages="".join(map(str, stage.tolist())),  # one digit per person: a short string to compare and send
            palette=colours(),
            good=good,
            bad=bad,
            selected=room.selected,
            step=room.steps,
            event_pick=on_pick,
        )
        note = f'<div class="lsim-flash-note">{escape(t(lang, "flash_note"))}</div>'
        spectrum = f'<div class="lsim-spectrum">{spectrum_bar(stage, lang)}</div>'
        solara.HTML(tag="div", unsafe_innerHTML=f'{note}{spectrum}<div class="lsim-legend">{items}</div>')


@solara.component
def Inspector(room: Classroom, lang: str, tick: solara.Reactive[int], on_pick: Callable[[int | None], None]) -> None:  # noqa: N802
    """The person clicked on the network: their stage week by week, loyalty, expectation and their week."""
    _ = tick.value  # reading it subscribes this card to the room's changes
    with solara.Card(t(lang, "insp.title"), classes=["lsim-inspector"]):
        if room.selected is None:
            solara.Text(t(lang, "insp.hint"), style={"font-size": "0.85em", "color": "#555"})
            return
        solara.HTML(tag="div", unsafe_innerHTML=customer_html(room.customer(room.selected), lang))
        solara.Button(t(lang, "insp.close"), on_click=lambda: on_pick(None), text=True, classes=["lsim-btn-unpick"])


def _value(lang: str, metric: str, value: float) -> str:
    """A live number as the page writes it, with its sign (NPS) and unit (%, currency)."""
    text = number(lang, value, DECIMALS.get(metric, 0), sign=metric == "nps")
    return text + {"retention": " %", "profit": f" {t(lang, 'currency')}"}.get(metric, "")


def _monitor(lang: str, metric: str, value: float) -> str:
    return (
        f'<span class="mon" data-monitor="{metric}"><span class="k">{escape(t(lang, f"mon.{metric}"))}</span>'
        f'<span class="v">{escape(_value(lang, metric, value))}</span></span>'
    )


def _runs_table(room: Classroom, lang: str, now: dict[str, float]) -> str:
    """Each kept run's values at its last week beside the current run's (``now``), as an HTML table."""
    head = "".join(f"<th>{escape(t(lang, f'mon.{m}'))}</th>" for m in MONITORS)
    rows = [(ghost_label(g, lang), len(g.timeseries) - 1, g.end, ghost_colour(i)) for i, g in enumerate(room.ghosts)]
    label = run_label(room.number, room.lever_changes(), lang)
    rows.append((f"{t(lang, 'run_now')}: {label}", room.steps, now, CURRENT))
    body = "".join(
        f'<tr data-run="{i}"><td><span style="color:{colour}">&#9632;</span> {escape(text)}</td>'
        f'<td class="wk">{week}</td>'
        + "".join(f"<td>{escape(_value(lang, m, end[m]))}</td>" for m in MONITORS)
        + "</tr>"
        for i, (text, week, end, colour) in enumerate(rows)
    )
    return (
        f"<b>{escape(t(lang, 'runs_title'))}</b><table><tr><th></th><th>{escape(t(lang, 'week_col'))}</th>{head}</tr>"
        f"{body}</table>"
    )


@solara.component
def Charts(room: Classroom, lang: str, tick: solara.Reactive[int]) -> None:  # noqa: N802 (Solara components are capitalised)
    """The live numbers, then the six charts drawn in the browser, with earlier runs; the runs' end values."""
    now_tick = tick.value  # reading it subscribes this card to the room's changes
    options = solara.use_memo(
        lambda: options_json(room, lang),
        dependencies=[now_tick, lang],
    )
    now = room.monitors()  # read like every other result: loyaltysim.runs.metrics
    with solara.Card(t(lang, "charts"), classes=["lsim-charts"]):
        html = "".join(_monitor(lang, m, v) for m, v in now.items())
        solara.HTML(tag="div", unsafe_innerHTML=html, classes=["lsim-monitors"])
        ChartsView(options=options, order=list(CHARTS), lang=lang, version=ECHARTS_VERSION, height=230)
        if room.ghosts:
            solara.HTML(tag="div", unsafe_innerHTML=_runs_table(room, lang, now), classes=["lsim-runs"])


@solara.component
def Servqual(room: Classroom, lang: str, tick: solara.Reactive[int]) -> None:  # noqa: N802
    """The SERVQUAL gap of the latest step's interactions: expected against perceived quality, live."""
    _ = tick.value  # reading it subscribes this card to the room's changes
    with solara.Card(t(lang, "sq.title"), subtitle=t(lang, "sq.note"), classes=["lsim-servqual"]):
        solara.HTML(tag="div", unsafe_innerHTML=servqual_html(room.servqual(), lang))


@solara.component
def Pyramid(room: Classroom, lang: str, tick: solara.Reactive[int]) -> None:  # noqa: N802 (Solara components are capitalised)
    """The CX pyramid of the latest step's interactions, live."""
    _ = tick.value  # reading it subscribes this card to the room's changes
    with solara.Card(t(lang, "pyr_title"), subtitle=t(lang, "pyr_note"), classes=["lsim-pyramid"]):
        solara.HTML(tag="div", unsafe_innerHTML=pyramid_html(room.pyramid(), lang))


@solara.component
def Concepts(lang: str) -> None:  # noqa: N802 (Solara components are capitalised)
    """The six CX Spectrum stages and the CX pyramid, in a few lines."""
    with solara.Card(t(lang, "concepts"), classes=["lsim-concepts"]):
        paragraphs(
            [(t(lang, "stages_title"), t(lang, "stages_text")), (t(lang, "pyramid_title"), t(lang, "pyramid_text"))],
            "lsim-concepts-text",
        )


def _csv(room: Classroom) -> bytes:
    """The run's outputs as CSV, read under the room's lock (the download runs in a thread while the class plays)."""
    with room.lock:
        frame = room.timeseries()
    return frame.to_csv(index=False).encode()


@solara.component
def Exports(room: Classroom, lang: str, setup: int) -> None:  # noqa: N802 (Solara components are capitalised)
    """PNG slide, GIF animation and CSV of the run so far, made when clicked (at the step then).

    Solara's download waits in a thread (its button spins meanwhile); slides are drawn in a worker process.
    """
    makers = solara.use_memo(
        lambda: (
            lambda: export_bytes(room, "png", lang),  # drawn in a worker process: the class keeps its pace
            lambda: export_bytes(room, "gif", lang, every=max(1, room.steps // 40)),
            lambda: _csv(room),
        ),
        dependencies=[setup, lang],
    )
    solara.Text(t(lang, "export"), style={"font-weight": "600"})
    with solara.Row(style={"flex-wrap": "wrap", "row-gap": "6px"}):
        stem = f"loyaltysim-{room.lesson}-run{room.number}"
        for make, ext, label, mime in zip(
            makers,
            ("png", "gif", "csv"),
            ("btn_png", "btn_gif", "btn_csv"),
            ("image/png", "image/gif", "text/csv"),
            strict=True,
        ):
            solara.FileDownload(make, filename=f"{stem}.{ext}", label=t(lang, label), mime_type=mime)
