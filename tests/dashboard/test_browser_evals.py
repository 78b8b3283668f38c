"""The Evals page in a real browser at 1400 px: the comparison table's delta and significance
columns are on screen without horizontal scrolling, and the Flips tab shows answers as text.
Prints the page's load time (goto until Streamlit settles)."""

from __future__ import annotations

from pathlib import Path

from tests.dashboard.browser import (
    CHROMIUM,
    FLAGS,
    skip_without_chromium,
    timed_load,
)
from tests.dashboard.eval_runs import plant_all

skip_without_chromium()

GRID_CELL = '[data-testid="stDataFrame"] td'
"""A table's cells: the comparison is drawn."""

GRIDS = """() => [...document.querySelectorAll('.dvn-scroller')]
    .filter(s => s.getBoundingClientRect().width > 0)
    .map(s => ({scroll: s.scrollWidth, client: s.clientWidth,
                right: s.getBoundingClientRect().right}))"""
"""Each visible data grid's content width, shown width and right edge, in pixels."""


def test_comparison_fits_and_flips_show_answer_text(
    served: tuple[str, Path], tmp_path: Path
) -> None:
    """Three runs compared: the table's grid shows every column (no horizontal scroll) and
    ends inside the window; the flipped document lists its choices, the right one and each
    run's choice in words."""
    from playwright.sync_api import sync_playwright

    url, root = served
    plant_all(root)
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        address = f"{url}/evals?runs=base,tuned,again"
        timed_load(page, address, "evals, three runs (first in a new browser)", GRID_CELL)
        page.get_by_text("against the baseline", exact=False).wait_for(timeout=60_000)
        page.wait_for_function(f"({GRIDS})().length > 0", timeout=60_000)
        (grid, *_) = page.evaluate(GRIDS)
        assert grid["scroll"] <= grid["client"] and grid["right"] <= 1400, grid
        page.get_by_role("tab", name="Flips").click()
        page.get_by_text("right answer, tuned chose", exact=False).wait_for(timeout=60_000)
        assert page.get_by_text("carbon dioxide — right answer, tuned chose").is_visible()
        assert page.get_by_text("helium — base chose").is_visible()
        page.screenshot(path=str(tmp_path / "evals.png"), full_page=True)
        browser.close()
