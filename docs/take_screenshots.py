"""Screenshots of the running Dagster UI for the README, taken by a real headless Chromium.

With `make run` up on the shared data (a champion served), run:

    apt-get install -y chromium        # Debian's browser; Playwright drives it, downloads nothing
    python3 -m uv run --with playwright python docs/take_screenshots.py

Writes docs/img/lineage.png, docs/img/materialization.png and docs/img/challenger.png.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

UI = "http://127.0.0.1:3000"
OUT = Path(__file__).resolve().parent / "img"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def dismiss_onboarding(page: Page) -> None:
    skip = page.get_by_role("button", name="Skip")
    if skip.count():
        skip.first.click()


def shoot(page: Page, url: str, wait_for_text: str, name: str, click: str | None = None) -> None:
    page.goto(url, wait_until="networkidle")
    dismiss_onboarding(page)
    try:
        page.get_by_text(wait_for_text).first.wait_for(timeout=30_000)
    except Exception:
        page.screenshot(path=str(OUT / f"debug-{name}"))
        raise
    if click:
        page.get_by_text(click).first.click()
        page.get_by_role("img").last.wait_for(timeout=10_000)
    page.wait_for_timeout(2_000)  # the graph layout animates in
    page.screenshot(path=str(OUT / name))
    print(f"wrote {OUT / name}")


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        page = browser.new_page(viewport={"width": 1600, "height": 900}, device_scale_factor=1)
        shoot(
            page,
            f"{UI}/assets/champion_model?view=lineage&lineageScope=upstream&lineageDepth=8",
            "raw_weather",
            "lineage.png",
        )
        partition = sys.argv[1] if len(sys.argv) > 1 else "2019-05"
        shoot(
            page,
            f"{UI}/assets/daily_features?view=partitions&partition={partition}",
            "robberies",
            "materialization.png",
        )
        shoot(
            page,
            f"{UI}/assets/challenger_model?view=events",
            "permutation_importance",
            "challenger.png",
            "[Show Markdown]",
        )
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
