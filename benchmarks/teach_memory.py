"""Does the classroom server's memory grow from class to class? Rounds of pages opened, stepped and closed.

    .venv/bin/python benchmarks/teach_memory.py [--rounds 3] [--pages 6] [--wait 30] [--out FILE]

Starts ``loyaltysim teach`` with short keep and cull times (10 s, 5 s), then in each round opens ``--pages`` pages in
headless Chromium, steps each five weeks, closes them all and waits ``--wait`` seconds (30: their runs expire and
Solara culls them).
Records the server's resident memory and thread count with the pages open and after they are gone, per round.
Memory that is not handed back to the system but is reused by the next class shows as a level, not a climb.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import psutil

from loyaltysim.teach.server import running

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    """Run the rounds and write the JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--pages", type=int, default=6)
    ap.add_argument("--wait", type=float, default=30.0, help="seconds after closing a round's pages")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "teach-memory-latest.json")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    env = {"LOYALTYSIM_TEACH_KEEP_SECONDS": "10", "SOLARA_KERNEL_CULL_TIMEOUT": "5s"}

    def sample(proc: psutil.Process) -> dict:
        return {"rss_mb": proc.memory_info().rss / 2**20, "threads": proc.num_threads()}

    rounds = []
    with running("en", env) as (url, server):
        proc = psutil.Process(server.pid)
        idle = sample(proc)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
            for _ in range(args.rounds):
                contexts = []
                for _ in range(args.pages):
                    context = browser.new_context()
                    page = context.new_page()
                    page.goto(url)
                    page.wait_for_selector(".lsim-chart[data-drawn]", state="attached", timeout=120_000)
                    for k in range(1, 6):
                        page.locator(".lsim-btn-step").click()
                        page.wait_for_function(
                            f"() => /^Step {k} of/.test(document.querySelector('.lsim-step').innerText)"
                        )
                    contexts.append(context)
                opened = sample(proc)
                for context in contexts:
                    context.close()
                time.sleep(args.wait)
                rounds.append({"open": opened, "after": sample(proc)})
            browser.close()
    result = {"date": time.strftime("%Y-%m-%d"), "pages": args.pages, "idle": idle, "rounds": rounds}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
