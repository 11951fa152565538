"""Screenshots of the classroom for docs/teaching.md, taken with Playwright in headless Chromium.

    .venv/bin/python scripts/teach_screenshots.py [--out docs]

Starts ``loyaltysim teach`` on a free port and writes ``teach-page.png`` (the page at 1280 x 720 after eight weeks,
one person followed) and ``teach-compare.png`` (the charts after a Reset: the earlier run dashed, and the table).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from loyaltysim.teach.server import running

CHROMIUM = "/usr/bin/chromium"


def main() -> None:
    """Take both screenshots."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with running("en") as (url, _), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
        page.goto(url)
        page.wait_for_selector(".lsim-chart[data-drawn] canvas", state="attached", timeout=120_000)

        def step(k: int) -> None:
            page.locator(".lsim-btn-step").click()
            page.wait_for_function(f"() => /^Step {k} of/.test(document.querySelector('.lsim-step').innerText)")

        for k in range(1, 9):
            step(k)
        page.locator('.lsim-network circle[data-id="17"]').click(force=True)
        page.locator(".lsim-person").wait_for(state="visible")
        page.wait_for_timeout(800)
        page.screenshot(path=str(args.out / "teach-page.png"))
        page.locator(".lsim-lever-fulfilment .lsim-lever-value input").fill("0.95")  # the lesson's "try this"
        page.locator(".lsim-lever-fulfilment .lsim-lever-value input").press("Enter")
        page.locator(".lsim-btn-reset").click()
        page.wait_for_function("() => /^Step 0 of/.test(document.querySelector('.lsim-step').innerText)")
        for k in range(1, 9):
            step(k)
        page.locator(".lsim-runs").wait_for(state="visible")
        page.set_viewport_size({"width": 1280, "height": 1700})  # the whole charts card in view
        page.wait_for_timeout(1500)
        page.locator(".lsim-charts").screenshot(path=str(args.out / "teach-compare.png"))
        browser.close()
    print(f"wrote {args.out / 'teach-page.png'} and {args.out / 'teach-compare.png'}")


if __name__ == "__main__":
    main()
