"""The teaching app: lessons, levers, translations, exports, the CLI, and the page in a real headless Chromium."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from loyaltysim.cli import app
from loyaltysim.scenario import parameter_table
from loyaltysim.teach import LESSON_IDS, Classroom, lesson_scenario, levers
from loyaltysim.teach.export import gif_bytes, png_bytes
from loyaltysim.teach.translations import LANGUAGES, LESSONS, UI

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
EFFORT = "touchpoints.service.effort"
STATE_ORDER = ("needs", "expectations", "at_risk", "desires", "preferences", "personalization", "empathy", "churned")


# ---------------------------------------------------------------------------------------------------------------
# Lessons, levers, texts (no browser)


@pytest.mark.parametrize("lesson", LESSON_IDS)
def test_every_lesson_loads_and_runs_a_few_steps(lesson):
    room = Classroom(lesson)
    room.run(4)
    assert room.steps == 4 and len(room.history) == 5
    n = room.model.params.population.size
    assert 300 <= n <= 500
    for stage in room.history:
        assert stage.shape == (n,) and stage.min() >= 0 and stage.max() <= 7
    row = room.model.last
    assert row["prospects"] + row["active"] + row["churned"] == n
    assert np.array_equal(room.history[-1], room.model.state.stage)
    assert set(LESSONS["es"][lesson]) == set(LESSONS["en"][lesson]) == {"title", "explanation", "try", "question"}


def test_at_least_five_guided_lessons_each_a_different_preset():
    presets = {
        tuple(sorted(lesson_scenario(k).model_dump(exclude={"name", "description"}).items().__repr__()))
        for k in LESSON_IDS
    }
    assert len(LESSON_IDS) >= 5 and len(presets) == len(LESSON_IDS)


def _end(lesson, seed=1, **levers_):
    room = Classroom(lesson, seed=seed)
    for key, value in levers_.items():
        room.set_lever(key, value)
    room.reset()
    room.run(room.horizon)
    ts = room.model.timeseries()
    return ts.iloc[-1], float(ts["profit"].sum())


def test_lessons_teach_what_they_say():
    # the pyramid: solving the need lifts NPS far more than more empathy on a broken base
    base, _ = _end("pyramid")
    solved, _ = _end("pyramid", **{"touchpoints.service.fulfilment": 0.95})
    kinder, _ = _end("pyramid", **{"touchpoints.service.empathy": 1.0})
    assert solved["nps"] - base["nps"] > 2 * (kinder["nps"] - base["nps"]) and solved["nps"] > base["nps"] + 30
    assert solved["active"] > base["active"] + 20  # town 1: 82 to 123 customers
    # effort against delight: less effort keeps customers that delight alone loses
    base, _ = _end("effort_vs_delight")
    easy, _ = _end("effort_vs_delight", **{EFFORT: 0.25})
    assert easy["active"] > 1.05 * base["active"] and easy["churned"] < base["churned"]  # model 2: +8 to +16 of ~105
    # personalization and empathy move customers to the top stages
    base, _ = _end("personalization_empathy")
    tailored, _ = _end("personalization_empathy", **{"touchpoints.service.personalization": 0.7})
    assert tailored["personalization"] > base["personalization"] + 30  # town 1: 11 to 78
    both, _ = _end(
        "personalization_empathy", **{"touchpoints.service.personalization": 0.7, "touchpoints.service.empathy": 0.8}
    )
    assert both["empathy"] > base["empathy"] + 20
    # retention economics: heavy marketing buys customers but less profit than good service
    bought, bought_profit = _end("retention_economics")
    kept, kept_profit = _end(
        "retention_economics", **{"market.marketing": 0.003, EFFORT: 0.3, "touchpoints.service.fulfilment": 0.95}
    )
    assert bought["active"] > kept["active"] and kept_profit > bought_profit and bought["churned"] > kept["churned"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_later_lessons_teach_what_they_say_in_every_town(seed):
    """Bad news, retention economics, the journey and the SERVQUAL gap: each "try this", the same town (CRN)."""
    # bad news: more failures, more bad stories and fewer customers; removing failures turns word of mouth around
    base, _ = _end("bad_news", seed)
    worse, _ = _end("bad_news", seed, **{"touchpoints.service.fulfilment": 0.7})
    fixed, _ = _end("bad_news", seed, **{"touchpoints.service.fulfilment": 0.97})
    assert worse["active"] < base["active"] - 8 and worse["nps"] < base["nps"] - 15  # seen: -13 to -21, -23 to -38
    assert fixed["active"] > base["active"] + 15 and fixed["nps"] > 0  # seen: +18 to +29 customers, NPS +12 to +19
    # retention economics: service beats bought growth on profit, with fewer customers lost
    bought, bought_profit = _end("retention_economics", seed)
    kept, kept_profit = _end(
        "retention_economics", seed, **{"market.marketing": 0.003, EFFORT: 0.3, "touchpoints.service.fulfilment": 0.95}
    )
    assert kept_profit > bought_profit + 500 and kept["churned"] < bought["churned"] - 15  # seen: +1,279 to +2,179
    # the journey: fixing the weak phone line (0.8 of 3.2 visits a month) lifts customers and NPS
    base, _ = _end("journey", seed)
    fixed, _ = _end("journey", seed, **{"touchpoints.service.fulfilment": 0.93, EFFORT: 0.3})
    assert fixed["active"] > base["active"] + 8 and fixed["nps"] > base["nps"] + 10  # seen: +12 to +18, +14 to +24
    # the SERVQUAL gap: near zero for the ordinary service; a better one opens it, then expectations catch up
    gaps = {}
    for name, levers_ in (("ordinary", {}), ("better", {"touchpoints.service.empathy": 0.9, EFFORT: 0.2})):
        room = Classroom("servqual", seed=seed)
        for key, value in levers_.items():
            room.set_lever(key, value)
        room.reset()
        weeks = [room.servqual() for _ in range(room.horizon) if room.step()]
        gaps[name] = {k: (np.mean([w[k] for w in weeks[:8]]), np.mean([w[k] for w in weeks[-12:]])) for k in weeks[0]}
    assert abs(np.mean(gaps["ordinary"]["gap"])) < 0.05  # seen: +0.02 to +0.03
    early, late = gaps["better"]["gap"]
    assert early > 0.1 and late < early - 0.05  # seen: 0.15 in the first 8 weeks, 0.05 to 0.08 in the last 12
    assert gaps["better"]["expected"][1] > gaps["better"]["expected"][0] + 0.05  # expectations learnt: 0.54 to 0.63


def test_levers_come_from_the_parameter_declarations():
    rows = {row["key"]: row for row in parameter_table()}
    keys = [lv.key for lv in levers()]
    assert {
        EFFORT,
        "touchpoints.service.empathy",
        "touchpoints.service.personalization",
        "touchpoints.service.fulfilment",
        "word_of_mouth.loyalty_effect",
        "market.marketing",
    } == set(keys)
    for lever in levers():
        declared = re.sub(r"^touchpoints\.[^.]+\.", "touchpoints.<name>.", lever.key)
        row = rows[declared]
        assert lever.meaning == row["meaning"] and lever.unit == row["unit"] and lever.min == row["min"]
        assert lever.min < lever.max <= row["max"] and lever.min <= lever.default <= lever.max
        assert 50 <= (lever.max - lever.min) / lever.step <= 200


def test_both_languages_have_every_text():
    assert set(UI["es"]) == set(UI["en"])
    assert set(LESSONS["es"]) == set(LESSONS["en"]) == set(LESSON_IDS)
    for lever in levers():
        for lang in LANGUAGES:
            assert UI[lang][f"lever.{lever.key}"]
        assert UI["es"][f"help.{lever.key}"]  # English help is the declaration itself
    assert UI["es"]["title"] != UI["en"]["title"]
    from loyaltysim.teach.guide import GUIDE

    assert set(GUIDE["es"]) == set(GUIDE["en"]) == set(LESSON_IDS)  # a teacher's guide for every lesson
    for lesson in LESSON_IDS:
        for lang in LANGUAGES:
            assert set(GUIDE[lang][lesson]) == {"time", "answers", "prompts"} and all(GUIDE[lang][lesson].values())
        assert GUIDE["es"][lesson]["answers"] != GUIDE["en"][lesson]["answers"]
    titles = [LESSONS[lang][k]["title"] for lang in LANGUAGES for k in LESSON_IDS]
    assert [x.split(".")[0] for x in titles] == [str(i + 1) for i in range(len(LESSON_IDS))] * 2  # numbered in order


def test_slider_change_applies_at_reset_and_is_clamped():
    room = Classroom("pyramid")
    room.run(2)
    before = room.applied[EFFORT]
    room.set_lever(EFFORT, 0.9)
    assert room.pending and room.applied[EFFORT] == before and room.steps == 2
    room.reset()
    assert not room.pending and room.applied[EFFORT] == 0.9 and room.steps == 0
    assert room.model.params.touchpoints["service"].effort == 0.9
    room.set_lever(EFFORT, 7.0)
    assert room.levers[EFFORT] == 1.0
    with pytest.raises(KeyError):
        room.set_lever("market.price", 2.0)


def test_reset_keeps_earlier_runs_as_ghosts_labelled_with_what_changed():
    from loyaltysim.teach.classroom import GHOSTS, MONITORS
    from loyaltysim.teach.figures import charts_figure, ghost_label, run_label

    room = Classroom("pyramid")
    room.reset()  # a run of no steps is not worth keeping
    assert room.ghosts == [] and room.number == 2
    room.run(3)
    end = room.monitors()
    room.set_lever(EFFORT, 0.2)
    room.reset()
    (ghost,) = room.ghosts
    assert ghost.number == 2 and ghost.changes == () and len(ghost.timeseries) == 4  # it ran the lesson's preset
    assert ghost.end == end and set(end) == set(MONITORS)
    assert ghost_label(ghost, "en") == "Run 2: the lesson's levers"
    assert room.lever_changes() == ((EFFORT, 0.45, 0.2),)  # what the current run changed from the preset
    assert run_label(room.number, room.lever_changes(), "en") == "Run 3: Customer effort 0.45 → 0.2"
    assert run_label(room.number, room.lever_changes(), "es") == "Simulación 3: Esfuerzo del cliente 0,45 → 0,2"
    room.run(5)
    fig = charts_figure(room.model.timeseries(), "en", room.horizon, room.ghosts)
    active = fig.axes[1]
    assert len(active.get_lines()) == 2 and active.get_legend() is not None  # the ghost, dashed, and the run
    assert active.get_lines()[0].get_linestyle() == "--"
    for _ in range(GHOSTS + 2):
        room.run(1)
        room.reset()
    assert len(room.ghosts) == GHOSTS and room.ghosts[-1].number == room.number - 1  # the oldest dropped
    assert ghost_label(room.ghosts[-1], "en").endswith("Customer effort 0.45 → 0.2")  # each run its own levers
    room.clear_ghosts()
    assert room.ghosts == []
    room.run(1)
    room.load("effort_vs_delight")
    assert room.ghosts == [] and room.number == 1  # another lesson, another comparison


def test_new_town_word_of_mouth_and_effort_charts_and_the_spectrum_bar():
    from loyaltysim.teach.figures import charts_figure, spectrum_bar

    room = Classroom("pyramid")
    room.run(4)
    room.reset()
    first = room.edges()
    room.new_town()
    assert room.seed == 2 and room.ghosts == [] and room.steps == 0 and room.number == 1
    assert not np.array_equal(room.edges(), first)  # another town: another network
    room.run(6)
    fig = charts_figure(room.model.timeseries(), "en", room.horizon)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == [
        "People by stage", "Active customers", "Word of mouth per week", "Money per week", "NPS",
        "Effort (CES) per week",
    ]  # fmt: skip
    told = fig.axes[2].get_lines()[0].get_ydata()
    assert list(told) == room.model.timeseries()["wom_positive"][1:].tolist()
    bar = spectrum_bar(room.history[-1], "en")
    counts = np.bincount(room.history[-1], minlength=8)
    assert bar.count('class="seg"') == int((counts > 0).sum())
    assert all(f"flex:{n} 0 0" in bar for n in counts if n)


def test_rooms_are_kept_per_browser_for_a_while_and_then_given_back(monkeypatch):
    from loyaltysim.teach import rooms

    monkeypatch.setattr(rooms, "_rooms", {})
    monkeypatch.setattr(rooms, "_sweeper", object())  # no background sweeper: this test's clock is made up
    made = []

    def make():
        made.append(Classroom("pyramid"))
        return made[-1]

    a = rooms.room_for("a", make, now=0.0)
    a.room.run(3)
    assert rooms.room_for("a", make, now=10.0).room is a.room and len(made) == 1  # a reload finds the run
    b = rooms.room_for("b", make, now=20.0)
    assert b.room is not a.room and rooms.kept() == 2
    rooms.room_for("b", make, now=20.0 + rooms.KEEP_SECONDS - 1)
    assert rooms.kept() == 1  # "a" unused for longer than KEEP_SECONDS: dropped
    assert rooms.room_for("a", make, now=20.0 + rooms.KEEP_SECONDS).room.steps == 0  # a fresh room
    monkeypatch.setattr(rooms, "MAX_ROOMS", 2)
    rooms.room_for("c", make, now=20.0 + rooms.KEEP_SECONDS + 1)
    assert rooms.kept() == 2 and "b" not in rooms._rooms  # the least recently used goes first
    rooms.forget("c")
    assert rooms.kept() == 1
    assert rooms._drop_expired(30.0 + 3 * rooms.KEEP_SECONDS) == 1 and rooms.kept() == 0  # what the sweeper does
    rooms.give_back_memory()  # then: garbage collected, heap trimmed (no error where there is no glibc)
    monkeypatch.setenv("LOYALTYSIM_TEACH_KEEP_SECONDS", "5")
    assert rooms._keep() == 5


def test_rooms_keep_time_comes_from_the_environment_and_a_bad_value_is_one_line(monkeypatch):
    from loyaltysim.errors import InputError
    from loyaltysim.teach.server import configure
    from loyaltysim.teach.settings import keep_seconds

    assert keep_seconds({}) == 1800 and keep_seconds({"LOYALTYSIM_TEACH_KEEP_SECONDS": "90"}) == 90
    for bad in ("abc", "0", "-5", "inf", "nan"):
        with pytest.raises(InputError, match=r"LOYALTYSIM_TEACH_KEEP_SECONDS = '.*': a number of seconds above 0"):
            keep_seconds({"LOYALTYSIM_TEACH_KEEP_SECONDS": bad})
    monkeypatch.setenv("LOYALTYSIM_TEACH_KEEP_SECONDS", "soon")
    problem = configure("en", "pyramid")
    assert problem == "environment: LOYALTYSIM_TEACH_KEEP_SECONDS = 'soon': a number of seconds above 0"
    from loyaltysim.teach.settings import KERNEL_CULL, kernel_cull

    assert kernel_cull({}) == KERNEL_CULL and kernel_cull({"SOLARA_KERNEL_CULL_TIMEOUT": "90"}) == "90"
    assert kernel_cull({"SOLARA_KERNEL_CULL_TIMEOUT": "5m"}) == "5m"
    for bad in ("abc", "0s", "-1m", "m", ""):
        with pytest.raises(InputError, match=r"SOLARA_KERNEL_CULL_TIMEOUT = '.*': a time above 0"):
            kernel_cull({"SOLARA_KERNEL_CULL_TIMEOUT": bad})
    monkeypatch.setenv("LOYALTYSIM_TEACH_KEEP_SECONDS", "60")
    monkeypatch.setenv("SOLARA_KERNEL_CULL_TIMEOUT", "tomorrow")
    assert configure("en", "pyramid").startswith("environment: SOLARA_KERNEL_CULL_TIMEOUT = 'tomorrow'")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_word_of_mouth_flashes_are_exactly_the_stories_the_listeners_heard(seed):
    """`tellings` recomputes each edge's stories from the step's keys: they add up to what listeners heard."""
    from loyaltysim.engine.layout import CHURNED
    from loyaltysim.engine.listen import tellings

    room = Classroom("bad_news", seed=seed)
    net, heard_any = room.model.network, 0
    assert [len(x) for x in room.flashes()] == [0, 0]  # before the first step nobody spoke
    for _ in range(8):
        before = room.history[-1]
        room.step()
        good, bad = room.told
        live = before[net.indices] != CHURNED  # churned listeners are reached but ignore it (`listen._hear`)
        assert (int(good[live].sum()), int(bad[live].sum())) == room.model.heard
        again = np.full(len(good), -1, np.int32), np.full(len(bad), -1, np.int32)
        tellings(room.model.state, net.indptr, net.indices, room.model.keys, room.model.plan.params, *again)
        assert np.array_equal(again[0], good) and np.array_equal(again[1], bad)  # writes every edge, reads only
        speaker = np.repeat(np.arange(len(net.indptr) - 1), np.diff(net.indptr))
        assert not good[room.model.state.told_positive[speaker] == 0].any()  # only speakers' contacts carry stories
        flash_good, flash_bad = room.flashes()
        pairs = {tuple(sorted(x)) for x in np.column_stack([speaker, net.indices])[good > 0].tolist()}
        assert {tuple(x) for x in flash_good.tolist()} == pairs  # undirected, each contact once
        assert (flash_good[:, 0] < flash_good[:, 1]).all() and len(flash_bad) == len(np.unique(flash_bad, axis=0))
        heard_any += len(flash_good) + len(flash_bad)
    assert heard_any > 0


def test_a_customer_can_be_followed_through_the_run():
    from loyaltysim.engine.layout import STATE_NAMES
    from loyaltysim.teach.figures import customer_html

    room = Classroom("pyramid")
    room.run(5)
    net = room.model.network
    for i in (0, 17, 399):
        info = room.customer(i)
        assert info["stages"] == [STATE_NAMES[h[i]] for h in room.history] and len(info["stages"]) == 6
        assert info["neighbours"] == net.indptr[i + 1] - net.indptr[i] >= info["customer_neighbours"]
        assert info["heard_good"] == int(room.told[0][net.indices == i].sum())
        assert 0 <= info["loyalty"] <= 1 and 0 <= info["met"] <= info["uses"]
        assert info["told_good"] == int(room.model.state.told_positive[i])
        for lang in LANGUAGES:
            html = customer_html(info, lang)
            assert html.count('class="wk"') == 6 and f'data-id="{i}"' in html
    assert "Persona n.º 17" in customer_html(room.customer(17), "es")
    with pytest.raises(KeyError, match="no person 400: ids run from 0 to 399"):
        room.customer(400)
    room.selected = 17
    room.reset()
    assert room.selected == 17  # followed across a Reset of the same town
    room.new_town()
    assert room.selected is None


def test_charts_are_plain_data_for_the_browser_with_earlier_runs_dashed():
    import json

    from loyaltysim.teach.charts import CHARTS, chart_options
    from loyaltysim.teach.figures import ghost_label

    room = Classroom("pyramid")
    room.run(6)
    room.set_lever(EFFORT, 0.2)
    room.reset()
    room.run(3)
    ts = room.timeseries()
    for lang in LANGUAGES:
        options = chart_options(ts, lang, room.horizon, room.ghosts)
        assert list(options) == list(CHARTS)
        json.dumps(options, allow_nan=False)  # plain JSON: no NaN, no numpy types
        for name, option in options.items():
            assert option["xAxis"]["data"] == list(range(53)) and option["animation"] is False
            assert option["title"]["text"] == UI[lang][f"chart_{name}"]
            for series in option["series"]:
                assert len(series["data"]) == room.steps + 1 or series["lineStyle"]["type"] == "dashed"
        dashed = [x for x in options["active"]["series"] if x["lineStyle"]["type"] == "dashed"]
        assert [x["name"] for x in dashed] == [ghost_label(room.ghosts[0], lang)]
        assert dashed[0]["data"] == [round(v) for v in room.ghosts[0].timeseries["active"]]
        assert options["active"]["legend"]["data"][-1] == UI[lang]["run_now"]
        stages = options["stages"]["series"]
        assert [x["name"] for x in stages] == [UI[lang][k] for k in STATE_ORDER] and all(x["stack"] for x in stages)
        assert sum(x["data"][-1] for x in stages) == 400  # the stacked areas add up to the town
        ces = next(x for x in options["ces"]["series"] if x["name"] == "CES")
        assert ces["data"][0] is None and ces["data"][3] == round(ts["ces"].iloc[3], 2)  # no interactions at week 0
    english = chart_options(ts, "en", room.horizon, room.ghosts)
    assert "Run 1: the lesson's levers" in english["active"]["legend"]["data"]


def test_the_offline_assets_include_the_charts_library():
    from loyaltysim.teach.assets import ECHARTS_VERSION, required_packages

    assert f"echarts@{ECHARTS_VERSION}" in required_packages()
    vue = (ROOT / "src" / "loyaltysim" / "teach" / "vue" / "charts.vue").read_text(encoding="utf-8")
    assert "echarts@${this.version}/dist/echarts.min.js" in vue and "Intl.NumberFormat" in vue


def test_the_servqual_gap_compares_what_customers_expected_with_what_they_got():
    from loyaltysim.engine.layout import Diary
    from loyaltysim.teach.figures import servqual_html

    room = Classroom("pyramid")
    assert np.isnan(room.servqual()["gap"])  # nothing happened yet
    room.run(4)
    gap, d = room.servqual(), room.model.diary
    assert gap["perceived"] == pytest.approx(d[Diary.QUALITY].sum() / d[Diary.USES].sum())
    assert gap["gap"] == pytest.approx(gap["perceived"] - gap["expected"]) and 0 < gap["expected"] < 1
    assert 'data-sq="gap"' in servqual_html(gap, "en") and "Brecha" in servqual_html(gap, "es")
    gaps = {}
    for met in (0.65, 0.95):  # the lesson's "try this": the same town, the need met more often
        for seed in (1, 2, 3):
            other = Classroom("pyramid", seed=seed)
            other.set_lever("touchpoints.service.fulfilment", met)
            other.reset()
            other.run(4)
            gaps.setdefault(met, []).append(other.servqual()["gap"])
    assert all(b > a + 0.05 for a, b in zip(gaps[0.65], gaps[0.95], strict=True)), gaps


def test_the_pyramid_of_the_last_week_answers_its_three_questions():
    from loyaltysim.engine.layout import Diary
    from loyaltysim.teach.figures import pyramid_html

    room = Classroom("pyramid")
    assert np.isnan(room.pyramid()["met"])  # nothing happened yet
    room.run(4)
    shares, d = room.pyramid(), room.model.diary
    assert shares["uses"] == d[Diary.USES].sum() > 0
    assert shares["met"] == pytest.approx(d[Diary.MET].sum() / d[Diary.USES].sum())
    assert 0 <= shares["easy"] <= 1 and 0 <= shares["good"] <= 1
    html = pyramid_html(shares, "es")
    assert html.count('class="lvl"') == 3 and "¿Resolví mi necesidad?" in html
    base = shares["met"]
    room.set_lever("touchpoints.service.fulfilment", 0.95)
    room.reset()
    room.run(4)
    assert room.pyramid()["met"] > base + 0.1  # the lesson's lever moves the base


def test_numbers_are_written_as_each_language_writes_them():
    from loyaltysim.teach.translations import number

    assert number("en", 1234.567, 1) == "1,234.6" and number("es", 1234.567, 1) == "1.234,6"
    assert number("es", 0.45, None) == "0,45" and number("en", -3.2, 0, sign=True) == "-3"
    assert number("es", float("nan")) == "–"


def test_switching_lesson_loads_its_preset_and_restarts():
    room = Classroom("pyramid")
    room.set_lever(EFFORT, 0.1)
    room.run(3)
    room.load("effort_vs_delight")
    assert room.steps == 0 and room.levers[EFFORT] == room.applied[EFFORT] == 0.7


def test_exports_for_slides():
    from io import BytesIO

    from PIL import Image

    room = Classroom("bad_news")
    room.run(3)
    png = png_bytes(room, "en")
    assert png.startswith(b"\x89PNG") and Image.open(BytesIO(png)).size == (1280, 720)
    gif = Image.open(BytesIO(gif_bytes(room, "es")))
    assert gif.format == "GIF" and gif.n_frames == 4


# ---------------------------------------------------------------------------------------------------------------
# Command line


def test_slides_are_drawn_in_a_worker_process_with_the_same_bytes():
    from loyaltysim.teach.export import Snapshot, export_bytes, worker_pid

    assert worker_pid() != os.getpid()  # the exports' worker is another process
    room = Classroom("bad_news")
    room.run(6)
    assert export_bytes(room, "png", "es") == png_bytes(room, "es") == png_bytes(Snapshot.of(room), "es")
    assert export_bytes(room, "gif", "en", every=3) == gif_bytes(room, "en", every=3)
    with pytest.raises(ValueError, match="export kind must be 'png' or 'gif', got 'pdf'"):
        export_bytes(room, "pdf")


def test_the_export_worker_leaves_with_the_server():
    """A server stopped by a signal cannot shut its worker down: the worker notices and exits by itself."""
    import signal

    code = "import time\nfrom loyaltysim.teach.export import worker_pid\n"
    code += "print(worker_pid(), flush=True)\ntime.sleep(60)"
    server = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    worker = int(server.stdout.readline())
    server.send_signal(signal.SIGKILL)
    server.wait()
    for _ in range(100):
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(worker, signal.SIGKILL)
        pytest.fail("the export worker outlived its server")


def test_cli_export_and_errors(tmp_path, monkeypatch):
    runner = CliRunner()
    out = tmp_path / "slide.gif"
    result = runner.invoke(app, ["teach", "--lesson", "bad_news", "--steps", "3", "--export", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"GIF8") and "3 steps" in result.output
    result = runner.invoke(app, ["teach", "--lang", "fr"])
    assert result.exit_code == 2 and "--lang 'fr': allowed: es, en" in result.output
    result = runner.invoke(app, ["teach", "--export", str(tmp_path / "x.bmp"), "--steps", "0"])
    assert result.exit_code == 2 and "must be .png or .gif" in result.output


def test_teach_names_missing_assets_and_how_to_install(tmp_path):
    env = {**os.environ, "LOYALTYSIM_TEACH_ASSETS": str(tmp_path / "empty")}
    proc = subprocess.run(
        [sys.executable, "-m", "loyaltysim.cli", "teach", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "offline front-end assets missing" in lines[0] and "@widgetti/solara-vuetify-app@" in lines[0]
    assert "-m loyaltysim.teach.assets" in lines[0]


# ---------------------------------------------------------------------------------------------------------------
# The page, end to end, in Debian's Chromium driven by Playwright


@pytest.fixture(scope="module")
def server():
    from loyaltysim.teach.server import missing_message, running

    problem = missing_message()
    if problem or not Path(CHROMIUM).exists():
        pytest.fail(problem or f"{CHROMIUM} not found; run scripts/setup-test-extras.sh")
    try:
        with running("en") as (url, _):
            yield url
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


class Page:
    """A page of the app in its own browser context, recording console errors and failed loads."""

    def __init__(self, browser, url, width: int = 1500, height: int = 1100):
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", lambda m: self.problems.append(f"console: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url}"))
        self.page.on(
            "response", lambda r: self.problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None
        )
        self.page.goto(url)
        self.page.wait_for_selector(".lsim-network svg circle[data-id]", state="attached", timeout=90_000)
        self.page.wait_for_selector(".lsim-chart[data-drawn] canvas", state="attached", timeout=60_000)

    def counter(self) -> str:
        return self.page.locator(".lsim-step").inner_text()

    def wait_text(self, selector: str, pattern: str, timeout: float = 30_000) -> None:
        self.page.wait_for_function(
            "([sel, pat]) => { const e = document.querySelector(sel); return e && new RegExp(pat).test(e.innerText); }",
            arg=[selector, pattern],
            timeout=timeout,
        )

    def step(self, expected: int) -> None:
        self.page.locator(".lsim-btn-step").click()
        self.wait_text(".lsim-step", rf"^Step {expected} of 52")

    def applied(self, key: str) -> str:
        return self.page.locator(f'.lsim-applied tr[data-key="{key}"] td.v').inner_text()

    def close(self):
        self.context.close()

    def __enter__(self) -> Page:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def test_page_shows_network_and_charts_and_steps_without_errors(server, browser):
    with Page(browser, server) as p:
        page = p.page
        assert page.locator(".lsim-network svg circle[data-id]").count() == 400
        assert page.locator(".lsim-legend").inner_text().count(":") == 8
        assert "Needs" in page.locator(".lsim-legend").inner_text()
        charts = page.locator(".lsim-chart")
        assert charts.count() == 6 and page.locator(".lsim-chart canvas").count() >= 6  # drawn in the browser
        assert page.locator(".lsim-charts img").count() == 0  # no image rendered on the server
        assert charts.first.bounding_box()["width"] > 200
        assert page.locator(".lsim-lever").count() == 6
        assert p.counter().startswith("Step 0 of 52")
        drawn = "() => [...document.querySelectorAll('.lsim-chart')].map(e => Number(e.dataset.drawn))"
        before = page.evaluate(drawn)
        p.step(1)
        p.step(2)
        page.wait_for_function(f"b => ({drawn})().every((n, i) => n > b[i])", arg=before)  # every chart redrawn
        assert (
            "Pyramid" in page.locator(".lsim-lesson").inner_text()
            or "pyramid" in page.locator(".lsim-lesson").inner_text()
        )
        page.wait_for_timeout(500)
        assert p.problems == []


def test_word_of_mouth_flashes_on_the_network_and_a_clicked_customer_is_inspected(server, browser):
    with Page(browser, server) as p:
        page = p.page
        flashes = (
            "() => ['good', 'bad'].map(k => (document.querySelector(`path[data-wom=${k}]`).getAttribute('d')"
            " || '').split('M').length - 1)"
        )
        assert page.evaluate(flashes) == [0, 0]  # nobody has spoken before the first week
        seen = []
        for k in range(1, 6):
            p.step(k)
            page.wait_for_selector(f'.lsim-network[data-step="{k}"]', state="attached")  # step k painted
            seen.append(page.evaluate(flashes))
        assert sum(g + b for g, b in seen) > 0 and len({tuple(x) for x in seen}) > 1  # contacts light up, and change
        assert page.locator(".lsim-flash-note").inner_text().startswith("Green and red lines")
        assert "Click a dot" in page.locator(".lsim-inspector").inner_text()
        dot = page.locator('.lsim-network circle[data-id="17"]')
        dot.click(force=True)
        page.locator(".lsim-person").wait_for(state="visible", timeout=30_000)
        card = page.locator(".lsim-inspector").inner_text()
        assert "Person no. 17" in card and "Loyalty" in card and "Heard:" in card and "Contacts:" in card
        assert page.locator(".lsim-person-strip .wk").count() == 6  # its stage at weeks 0 to 5
        ring = page.locator(".lsim-selected")
        assert (ring.get_attribute("cx"), ring.get_attribute("cy")) == (
            dot.get_attribute("cx"),
            dot.get_attribute("cy"),
        )
        p.step(6)
        page.wait_for_function("() => document.querySelectorAll('.lsim-person-strip .wk').length === 7")  # followed
        shown = page.locator(".lsim-person-stage").get_attribute("data-stage")
        assert page.locator(".lsim-person-stage").inner_text().strip()  # the stage, named
        assert shown in {"needs", "expectations", "at_risk", "desires", "preferences", "personalization", "empathy",
                         "churned"}  # fmt: skip
        page.locator(".lsim-btn-unpick").click()
        page.locator(".lsim-person").wait_for(state="detached", timeout=30_000)
        page.wait_for_function("() => document.querySelector('.lsim-selected').getAttribute('cx') === '-99'")
        assert p.problems == []


def test_slider_change_takes_effect_after_reset(server, browser):
    with Page(browser, server) as p:
        page = p.page
        p.step(1)
        assert p.applied(EFFORT) == "0.45"
        page.locator(".lsim-lever-effort [role=slider]").focus()
        page.keyboard.press("End")
        page.locator(".lsim-pending").wait_for(state="visible", timeout=30_000)
        assert p.applied(EFFORT) == "0.45" and p.counter().startswith("Step 1 of 52")
        page.locator(".lsim-btn-reset").click()
        p.wait_text(f'.lsim-applied tr[data-key="{EFFORT}"] td.v', r"^1$")
        p.wait_text(".lsim-step", r"^Step 0 of 52")
        page.locator(".lsim-pending").wait_for(state="detached", timeout=30_000)
        assert p.problems == []


def test_values_are_readable_and_typed_and_reset_keeps_a_ghost_run(server, browser):
    with Page(browser, server) as p:
        page = p.page
        value = page.locator(".lsim-lever-effort .lsim-lever-value input")
        assert value.input_value() == "0.45"  # readable without dragging
        monitors = page.locator(".lsim-monitors").inner_text()
        assert "CES" in monitors and "Retention" in monitors and "Good word of mouth" in monitors
        p.step(1)
        p.step(2)
        value.fill("0.2")
        value.press("Enter")
        page.locator(".lsim-pending").wait_for(state="visible", timeout=30_000)
        page.locator(".lsim-btn-reset").click()
        p.wait_text(f'.lsim-applied tr[data-key="{EFFORT}"] td.v', r"^0.2$")
        page.locator(".lsim-runs").wait_for(state="visible", timeout=30_000)
        runs = page.locator(".lsim-runs").inner_text()
        assert "Run 1: the lesson's levers" in runs and "Current run: Run 2: Customer effort 0.45 → 0.2" in runs
        assert "Week" in runs and "Churned (now)" in runs
        page.locator(".lsim-btn-clear").click()
        page.locator(".lsim-runs").wait_for(state="detached", timeout=30_000)
        value.fill("abc")  # not a number: said on the field, the lever unchanged
        value.press("Enter")
        p.wait_text(".lsim-lever-effort", "Not a number: type, e.g., 0.45")
        assert page.locator(".lsim-pending").count() == 0 and p.applied(EFFORT) == "0.2"
        value.fill("7")  # typed beyond the slider's top: clamped
        value.press("Enter")
        page.wait_for_function(
            "() => Number(document.querySelector('.lsim-lever-effort .lsim-lever-value input').value) === 1",
            timeout=30_000,
        )
        assert "Not a number" not in page.locator(".lsim-lever-effort").inner_text()  # a number clears the error
        assert page.locator(".lsim-lever-effort [role=slider]").get_attribute("aria-valuenow") == "1"
        assert p.problems == []


def test_speed_new_town_and_csv_export(server, browser):
    with Page(browser, server) as p:
        page = p.page
        assert page.locator(".lsim-speed button").count() == 3
        assert page.locator(".lsim-pyramid .lvl").count() == 3
        p.step(1)
        with page.expect_download() as download:
            page.get_by_text("CSV data").click()
        csv = Path(download.value.path()).read_text()
        assert csv.splitlines()[0].startswith("step,day,prospects") and len(csv.splitlines()) == 3  # steps 0 and 1
        assert page.locator(".lsim-town").inner_text() == "Town 1"
        page.locator(".lsim-btn-town").click()
        p.wait_text(".lsim-town", r"^Town 2$")
        p.wait_text(".lsim-step", r"^Step 0 of 52")
        assert page.locator(".lsim-spectrum-bar .seg").count() >= 2
        assert p.problems == []


def test_reloading_the_page_keeps_the_run_and_the_language(server, browser):
    with Page(browser, server) as p:
        page = p.page
        p.step(1)
        p.step(2)
        page.locator(".lsim-lang-es").click()
        p.wait_text(".lsim-step", r"^Paso 2 de 52")
        page.reload()
        page.wait_for_selector(".lsim-network svg circle[data-id]", state="attached", timeout=90_000)
        p.wait_text(".lsim-step", r"^Paso 2 de 52")
        # the old page's chart images (blob: URLs) still loading when it was left are cancelled, not failed
        assert [x for x in p.problems if not x.startswith("failed: blob:")] == []


def test_the_spanish_page_shows_no_english_text(server, browser):
    with Page(browser, server) as p:
        page = p.page
        page.locator(".lsim-lang-es").click()
        p.wait_text(".lsim-step", r"^Paso 0 de 52")
        page.locator(".lsim-btn-step").click()
        p.wait_text(".lsim-step", r"^Paso 1 de 52")
        page.locator(".lsim-lever-effort .lsim-lever-value input").fill("0.2")
        page.locator(".lsim-lever-effort .lsim-lever-value input").press("Enter")
        page.locator(".lsim-btn-reset").click()
        page.locator(".lsim-runs").wait_for(state="visible", timeout=30_000)
        p.wait_text(f'.lsim-applied tr[data-key="{EFFORT}"] td.v', r"^0,2$")  # values written with a comma
        assert page.locator(".lsim-lever-empathy .lsim-lever-value input").input_value() == "0,7"
        page.locator('.lsim-network circle[data-id="3"]').click(force=True)  # the customer card too
        page.locator(".lsim-person").wait_for(state="visible", timeout=30_000)
        page.get_by_text("Guía para el docente").click()  # and the teacher's guide
        p.wait_text(".lsim-lesson", "Para el debate")
        shown = page.locator("body").inner_text()
        english = {v for k, v in UI["en"].items() if v != UI["es"][k] and len(v) > 3 and "{" not in v}
        english |= {"score", "probability", "month", "Run ", "Step ", "Customers", "customers"}
        found = sorted(w for w in english if w in shown)
        assert found == [], found
        retention = page.locator('.lsim-monitors [data-monitor="retention"] .v').inner_text()
        assert re.fullmatch(r"\d+,\d %", retention), retention  # a decimal comma
        assert p.problems == []


def test_projector_mode_makes_the_page_readable_from_the_back_and_survives_a_reload(server, browser):
    with Page(browser, server, 1280, 720) as p:
        page = p.page
        size = "() => parseFloat(getComputedStyle(document.querySelector('.lsim-monitors .mon .v')).fontSize)"
        before = page.evaluate(size)
        page.locator(".lsim-btn-presenter").click()
        page.locator(".lsim-presenter").wait_for(state="attached", timeout=30_000)
        assert page.evaluate(size) >= 1.3 * before
        page.reload()
        page.locator(".lsim-presenter").wait_for(state="attached", timeout=90_000)
        box = page.locator(".lsim-controls").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 1280
        assert [x for x in p.problems if not x.startswith("failed: blob:")] == []  # as in the reload test


def test_controls_and_lever_values_fit_their_cards_at_1024_by_768(server, browser):
    with Page(browser, server, 1024, 768) as p:
        page = p.page
        for chart in page.locator(".lsim-chart").all():  # the six charts, three to a row, inside the page
            b = chart.bounding_box()
            assert b["x"] >= 0 and b["x"] + b["width"] <= 1024 and b["width"] > 150, b
        for card, inside in ((".lsim-controls", "button"), (".lsim-levers", ".lsim-lever-value input")):
            box = page.locator(card).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 1024
            for element in page.locator(f"{card} {inside}").all():
                b = element.bounding_box()
                assert b["x"] >= box["x"] and b["x"] + b["width"] <= box["x"] + box["width"] + 0.5, (card, b, box)
        assert p.problems == []


def test_switching_language_changes_the_labels(server, browser):
    with Page(browser, server) as p:
        page = p.page
        assert "Customer network" in page.locator(".lsim-network-card").inner_text()
        page.locator(".lsim-lang-es").click()
        p.wait_text(".lsim-step", r"^Paso 0 de 52")
        # the browser applies the widgets' updates one message at a time: wait for each label
        p.wait_text(".lsim-network-card", "Red de clientes")
        p.wait_text(".lsim-legend", "Necesidades: ")
        p.wait_text(".lsim-lesson", "Pregunta para la clase")
        p.wait_text(".lsim-btn-reset", "^\\s*(Reiniciar|REINICIAR)\\s*$")
        assert "Customer network" not in page.locator(".lsim-network-card").inner_text()
        page.locator(".lsim-lang-en").click()
        p.wait_text(".lsim-step", r"^Step 0 of 52")
        assert p.problems == []


def test_two_browser_contexts_keep_separate_state(server, browser):
    with Page(browser, server) as a, Page(browser, server) as b:
        for k in (1, 2, 3):
            a.step(k)
        assert b.counter().startswith("Step 0 of 52")
        b.page.locator(".lsim-lever-effort [role=slider]").focus()
        b.page.keyboard.press("Home")
        b.page.locator(".lsim-btn-reset").click()
        b.wait_text(f'.lsim-applied tr[data-key="{EFFORT}"] td.v', r"^0$")
        b.step(1)
        a.page.wait_for_timeout(300)
        assert a.counter().startswith("Step 3 of 52") and a.applied(EFFORT) == "0.45"
        assert a.problems == [] and b.problems == []


def test_docs_python_example_runs(capsys):
    text = (ROOT / "docs" / "teaching.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, "docs/teaching.md", "exec"), {})
    assert capsys.readouterr().out.strip() == "26 0.25"


def test_classroom_reads_its_figures_through_the_metrics_vocabulary():
    room = Classroom("pyramid")
    room.run(10)
    ts = room.model.timeseries()
    now = room.metrics()
    assert now["active"] == ts["active"].iloc[-1] and now["nps"] == ts["nps"].iloc[-1]
    assert now["profit"] == pytest.approx(ts["profit"].sum())


@pytest.mark.slow
def test_the_classroom_load_benchmark_runs(tmp_path):
    """`benchmarks/teach_load.py --quick` (2 browser sessions, 8 s): the script works; its numbers mean nothing."""
    out = tmp_path / "load.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "teach_load.py"), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    import json

    result = json.loads(out.read_text())
    load = result["load"]
    assert load["sessions"] == 2 and len(load["steps"]) == 2 and load["gif_export"]["bytes"] > 0
    assert load["server_cpu_ms_per_session_step"] > 0 and len(load["page_usable_s"]["all"]) == 2
    assert set(load["server_rss_mb"]) == {"idle", "warm", "playing", "closed", "expired"}
    assert all(v > 0 for v in result["render_ms"].values())


def _lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of linear-light sRGB rows."""
    xyz = rgb @ np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]).T
    f = np.cbrt(np.maximum(xyz / [0.9505, 1.0, 1.089], 0.008856)) * ((xyz / [0.9505, 1.0, 1.089]) > 0.008856) + (
        (xyz / [0.9505, 1.0, 1.089]) * 7.787 + 16 / 116
    ) * ((xyz / [0.9505, 1.0, 1.089]) <= 0.008856)
    return np.column_stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])])


def test_stage_colours_are_told_apart_also_with_colour_blindness():
    """Every pair of stage colours differs by at least 18 CIELAB units, also as protan and deutan readers see them.

    Simulated with Machado, Oliveira & Fernandes (2009) at severity 1. The sequential greys and blues used before
    came as close as 14.8 (needs and expectations, expectations and preferences).
    """
    from loyaltysim.runs.figures import STAGE_COLOURS

    srgb = np.array([[int(c[i : i + 2], 16) / 255 for i in (1, 3, 5)] for c in STAGE_COLOURS.values()])
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    views = {
        "normal": np.eye(3),
        "protan": np.array(
            [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]
        ),
        "deutan": np.array(
            [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]
        ),
    }
    names = list(STAGE_COLOURS)
    for view, matrix in views.items():
        lab = _lab(np.clip(linear @ matrix.T, 0, 1))
        for a in range(len(names)):
            for b in range(a + 1, len(names)):
                distance = float(np.linalg.norm(lab[a] - lab[b]))
                assert distance >= 18, (view, names[a], names[b], round(distance, 1))


@pytest.mark.slow
def test_the_classroom_memory_benchmark_runs(tmp_path):
    """`benchmarks/teach_memory.py` on one page and one round: the script works; its numbers mean nothing."""
    out = tmp_path / "memory.json"
    script = str(ROOT / "benchmarks" / "teach_memory.py")
    args = ["--rounds", "1", "--pages", "1", "--wait", "1", "--out", str(out)]
    proc = subprocess.run([sys.executable, script, *args], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    import json

    result = json.loads(out.read_text())
    assert len(result["rounds"]) == 1 and set(result["rounds"][0]) == {"open", "after"}
