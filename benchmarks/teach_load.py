"""Load benchmark of the classroom: many browser sessions playing at once against one ``loyaltysim teach`` server.

    .venv/bin/python benchmarks/teach_load.py [--sessions 10] [--seconds 15] [--speed normal] [--out FILE] [--quick]

Starts the server on a free port, opens ``--sessions`` pages in one headless Chromium (each in its own browser
context, so each is a student's session), records how long each page takes to become usable (network drawn and the
six charts drawn in the browser), presses Play in every one, and after ``--seconds`` reads how many steps each page
shows. Measured, in one run on this machine (browsers included, as in a classroom where the laptop serves and shows):

- ``steps_per_second``: steps a page advanced per second of play, per session (median, min);
- ``server_cpu_ms_per_session_step``: CPU time of the server process (user + system) during play, divided by all
  the steps the sessions took: the server's cost of one session-step, page updates included;
- ``render_ms``: in-process cost per step of what the server computes for the page (model step, chart options,
  network SVG, live numbers, pyramid), median over a run, beside the matplotlib charts the page drew before
  (``matplotlib_charts_ms``), measured side by side;
- ``page_usable_s``: seconds from opening a page to its network and charts drawn (median, max);
- ``gif_export``: after the play window, one page downloads a GIF of its run while the others start again and
  play: how long the GIF took and the others' steps per second meanwhile (the export runs in a worker process);
- ``server_rss_mb``: the server's resident memory before any page (``idle``), after one page loaded the app's modules
  and compiled the model and closed (``warm``, the baseline of a class), while playing, after they close, and after
  the kept rooms and Solara's closed pages expire (``LOYALTYSIM_TEACH_KEEP_SECONDS`` and
  ``SOLARA_KERNEL_CULL_TIMEOUT`` shortened to ``--keep-seconds`` for the benchmark).

Writes JSON (default ``benchmarks/results/teach-load-latest.json``). ``--quick`` (2 sessions, 8 s) proves the script
works; its numbers mean nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import psutil

from loyaltysim.teach.server import running

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]


def _cpu(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return times.user + times.system


def _rss_mb(proc: psutil.Process) -> float:
    return proc.memory_info().rss / 2**20


def render_costs(steps: int = 52) -> dict[str, float]:
    """Median ms per step of what the server computes for a page (in this process), beside the old matplotlib charts.

    The page's per-step work: the model step, the charts' options as JSON, the network's stage string and word-of-
    mouth paths, the live numbers, the pyramid, the SERVQUAL gap, the spectrum bar; ``payload_kb`` is what of it goes
    to the browser.
    """
    import io

    from loyaltysim.teach.charts import options_json
    from loyaltysim.teach.classroom import Classroom
    from loyaltysim.teach.figures import charts_figure, flash_paths, pyramid_html, servqual_html, spectrum_bar

    room = Classroom("pyramid")
    room.step()  # compile and warm up
    room.reset()
    page, model, payload, old = [], [], [], []
    for k in range(steps):
        t0 = time.perf_counter()
        room.step()
        t1 = time.perf_counter()
        options = options_json(room, "es")  # what the page sends at each step, made as the page makes it
        good, bad = flash_paths(room.positions(), room.flashes())
        stages = "".join(map(str, room.history[-1].tolist()))
        room.monitors()
        pyramid_html(room.pyramid(), "es")
        servqual_html(room.servqual(), "es")
        spectrum_bar(room.history[-1], "es")
        t2 = time.perf_counter()
        model.append(t1 - t0)
        page.append(t2 - t1)
        payload.append(len(options) + len(good) + len(bad) + len(stages))
        if k % 8 == 0:  # the charts the page used to render on the server, every 8th step (they are slow)
            t3 = time.perf_counter()
            fig = charts_figure(room.timeseries(), "es", room.horizon, room.ghosts)
            fig.savefig(io.BytesIO(), format="png")
            old.append(time.perf_counter() - t3)
    return {
        "model_step_ms": 1e3 * statistics.median(model),
        "page_update_ms": 1e3 * statistics.median(page),
        "payload_kb": statistics.median(payload) / 1024,
        "matplotlib_charts_ms": 1e3 * statistics.median(old),
    }


def _steps(page) -> int:
    text = page.locator(".lsim-step").inner_text()
    return int(text.split()[1])


def _export_while_playing(pages: list) -> dict:
    """The first page downloads a GIF of its run while the others start their year again and play."""
    others = pages[1:]
    for page in others:
        page.locator(".lsim-btn-reset").click()
    for page in others:
        page.wait_for_function("() => /^\\D+ 0 /.test(document.querySelector('.lsim-step').innerText)")
    t0 = time.perf_counter()
    for page in others:
        page.locator(".lsim-btn-play").click()
    with pages[0].expect_download(timeout=300_000) as download:
        pages[0].get_by_text("GIF animation").click()
    size = Path(download.value.path()).stat().st_size
    seconds = time.perf_counter() - t0
    rates = [_steps(p) / seconds for p in others]
    for page in others:
        with contextlib.suppress(Exception):
            page.locator(".lsim-btn-pause").click(timeout=3000)
    return {
        "frames_of_weeks": _steps(pages[0]),
        "seconds": seconds,
        "bytes": size,
        "others_steps_per_second": {"median": statistics.median(rates), "min": min(rates)},
    }


def load(sessions: int, seconds: float, speed: str, keep_seconds: int) -> dict:
    """Open ``sessions`` pages, play them all for ``seconds``, close them; what the server and pages did."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    env = {"LOYALTYSIM_TEACH_KEEP_SECONDS": str(keep_seconds), "SOLARA_KERNEL_CULL_TIMEOUT": f"{keep_seconds}s"}
    with running("en", env) as (url, server):
        proc = psutil.Process(server.pid)
        rss = {"idle": _rss_mb(proc)}
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            warm = browser.new_context()  # the first page loads the app's modules and compiles the model: once
            warm.new_page().goto(url)
            warm.pages[0].wait_for_selector(
                '.lsim-chart[data-chart="ces"][data-drawn]', state="attached", timeout=120_000
            )
            warm.close()
            rss["warm"] = _rss_mb(proc)
            contexts, pages, usable = [], [], []
            for _ in range(sessions):
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page = context.new_page()
                t0 = time.perf_counter()
                page.goto(url)
                page.wait_for_selector(".lsim-network svg circle", state="attached", timeout=120_000)
                page.wait_for_selector('.lsim-chart[data-chart="ces"][data-drawn]', state="attached", timeout=120_000)
                usable.append(time.perf_counter() - t0)
                contexts.append(context)
                pages.append(page)
            for page in pages:
                page.locator(f".lsim-speed button:has-text('{speed}')").click()
            start = [_steps(p) for p in pages]
            cpu0, t0 = _cpu(proc), time.perf_counter()
            for page in pages:
                page.locator(".lsim-btn-play").click()
            time.sleep(seconds)
            rss["playing"] = _rss_mb(proc)
            end = [_steps(p) for p in pages]
            cpu1, t1 = _cpu(proc), time.perf_counter()
            for page in pages:
                with contextlib.suppress(PlaywrightTimeout):  # a page that reached week 52 stopped by itself
                    page.locator(".lsim-btn-pause").click(timeout=3000)
            gif = _export_while_playing(pages) if sessions > 1 else None
            serving = {server.pid, *(c.pid for c in proc.children(recursive=True))}  # the server and its export worker
            browsers_cpu = sum(_cpu(c) for c in psutil.Process().children(recursive=True) if c.pid not in serving)
            for context in contexts:
                context.close()
            browser.close()
        time.sleep(3)
        rss["closed"] = _rss_mb(proc)
        time.sleep(2 * keep_seconds + 5)  # the rooms' sweeper runs every keep_seconds (at most a minute)
        rss["expired"] = _rss_mb(proc)
        steps = [b - a for a, b in zip(start, end, strict=True)]
        if max(end) >= 52:
            print("warning: a page reached the end of the year while playing; use fewer --seconds", file=sys.stderr)
        rates = [s / (t1 - t0) for s in steps]
        out = {
            "sessions": sessions,
            "speed": speed,
            "play_seconds": round(t1 - t0, 2),
            "steps": steps,
            "steps_per_second": {"median": statistics.median(rates), "min": min(rates)},
            "server_cpu_ms_per_session_step": 1e3 * (cpu1 - cpu0) / max(sum(steps), 1),
            "server_cores_busy": (cpu1 - cpu0) / (t1 - t0),
            "browsers_cpu_s_total": browsers_cpu,
            "page_usable_s": {"median": statistics.median(usable), "max": max(usable), "all": usable},
            "gif_export": gif,
            "server_rss_mb": rss,
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=15.0, help="play time (a lesson's 52 weeks last ~25 s at normal)")
    ap.add_argument("--speed", default="normal", choices=["slow", "normal", "fast"])
    ap.add_argument("--keep-seconds", type=int, default=20, help="how long closed sessions' rooms are kept")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "teach-load-latest.json")
    ap.add_argument("--quick", action="store_true", help="2 sessions for 8 s: proves the script works")
    args = ap.parse_args()
    if args.quick:
        args.sessions, args.seconds, args.keep_seconds = 2, 8.0, 3
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "render_ms": render_costs(12 if args.quick else 52),
        "load": load(args.sessions, args.seconds, args.speed, args.keep_seconds),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
