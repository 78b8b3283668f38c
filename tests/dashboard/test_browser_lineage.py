"""Lineage and rows in a real browser: click from a dataset to the one made from it and back,
to the run trained on it and back, down a run's later runs and datasets and back up to its
eval; click a row open,
see it in the URL, reload and see it still open. Prints each page's load time (goto to
settled) on the small workspace."""

from __future__ import annotations

from pathlib import Path

from tests.dashboard.browser import (
    CHROMIUM,
    FLAGS,
    settled,
    skip_without_chromium,
    timed_load,
)
from tests.dashboard.test_runs_page import plant_runs
from winnow.curate.recipes import recipe_from_entries
from winnow.curate.runner import RunOptions, run_recipe
from winnow.curate.sources import resolve_source
from winnow.workspace import Workspace

GRID = '[data-testid="stDataFrame"] td'
"""A table's cells: the rows are drawn."""

skip_without_chromium()


def lands(page, address: str, shown: str) -> None:  # noqa: ANN001 - playwright's Page
    """Wait for the URL to hold ADDRESS and the page's first choice to be SHOWN (if given)."""
    from playwright.sync_api import expect

    page.wait_for_url(f"**{address}*", timeout=30_000)
    settled(page)
    page.wait_for_timeout(400)  # a click before the script ends can be lost
    settled(page)
    if shown:
        choice = page.get_by_test_id("stMain").get_by_role("combobox").first
        expect(choice).to_have_value(shown, timeout=30_000)


def click(page, name: str, address: str, shown: str) -> None:  # noqa: ANN001 - playwright's Page
    """Click the page link with this exact label; land on ADDRESS showing SHOWN."""
    page.get_by_role("link", name=name, exact=True).first.click()
    lands(page, address, shown)


def test_lineage_links_walk_both_ways(served: tuple[str, Path]) -> None:
    """web@v1 -> web-child@v1 and back; web@v1 -> run base and back; run base -> run sft ->
    instruct@v1 and back to run sft, up to run base, and on to the eval of its model."""
    from playwright.sync_api import sync_playwright

    url, root = served
    ws = Workspace(root)
    recipe = recipe_from_entries("child", [{"step": "normalize"}], "a child of web")
    run_recipe(ws, recipe, resolve_source("web", workspace=ws), "web-child", RunOptions())
    plant_runs(root)
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        timed_load(
            page, f"{url}/datasets?dataset=web@v1", "datasets (first in a new browser)", GRID
        )
        click(page, "web-child@v1", "/datasets?dataset=web-child%40v1", "web-child@v1")
        click(page, "web@v1", "/datasets?dataset=web%40v1", "web@v1")
        click(page, "run base (pretrain)", "/runs?run=base", "base")
        click(page, "web@v1", "/datasets?dataset=web%40v1", "web@v1")
        click(page, "run base (pretrain)", "/runs?run=base", "base")
        click(page, "run sft", "/runs?run=sft", "sft")
        click(page, "instruct@v1", "/datasets?dataset=instruct%40v1", "instruct@v1")
        click(page, "run sft (sft)", "/runs?run=sft", "sft")
        click(page, "run base", "/runs?run=base", "base")
        click(page, "eval eval-base", "/evals?runs=eval-base", "")
        timed_load(page, f"{url}/runs?run=base", "runs (a training run)", GRID)
        timed_load(page, f"{url}/runs?run=eval-sft", "runs (an eval run)", "text=Trained, through")
        timed_load(page, url, "home", '[data-testid="stPageLink"]')
        browser.close()


def test_a_clicked_row_is_in_the_url_and_survives_a_reload(
    served: tuple[str, Path], tmp_path: Path
) -> None:
    """Click the first rejected row: row= appears in the URL and the row opens; after a reload
    the same row is open and its reason is shown in numbers."""
    from playwright.sync_api import sync_playwright

    url, _ = served
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        address = f"{url}/datasets?dataset=web@v1&split=rejected"
        timed_load(page, address, "datasets, rejected rows (first in a new browser)", GRID)
        table = page.get_by_test_id("stDataFrame").first
        table.wait_for(state="visible", timeout=60_000)  # settled can see the skeleton first
        page.wait_for_timeout(500)  # the grid draws its rows on a canvas after it is attached
        grid = table.bounding_box()
        page.mouse.click(grid["x"] + 12, grid["y"] + 35 * 6 + 17)  # header, then row 6
        page.wait_for_url("**row=*", timeout=30_000)
        settled(page)
        row = page.url.split("row=")[1].split("&")[0]
        page.get_by_text(f"Row {row}").wait_for(timeout=30_000)
        timed_load(page, None, "datasets, reload with a row open", f"text=Row {row}")
        assert f"row={row}" in page.url
        page.get_by_text(f"Row {row}").wait_for(timeout=30_000)
        page.get_by_text("removed by").wait_for(timeout=30_000)
        page.screenshot(path=str(tmp_path / "row-after-reload.png"), full_page=True)
        browser.close()
