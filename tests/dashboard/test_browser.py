"""End to end in a real browser: `winnow dashboard` on a small workspace, Debian's chromium
driven by Playwright labels an item with the keyboard, reloads, and sees the label kept."""

from __future__ import annotations

import json
from pathlib import Path

from tests.dashboard.browser import CHROMIUM, FLAGS, settled, skip_without_chromium

skip_without_chromium()


def test_label_with_the_keyboard_survives_a_reload(
    served: tuple[str, Path], tmp_path: Path
) -> None:
    """Press 1 (keep) on the first item: the record is on disk, and after a reload the page
    counts it and shows the next item."""
    from playwright.sync_api import sync_playwright

    url, root = served
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/label?dataset=web@v1&task=quality-keep-drop&annotator=ana")
        settled(page)
        page.get_by_text("0 labelled", exact=False).wait_for(timeout=60_000)
        # the shortcut works once its button is drawn and the script run that drew it is over
        page.get_by_role("button", name="Keep: worth training on").wait_for(timeout=60_000)
        settled(page)
        first = page.locator("code", has_text="demo-").first.inner_text()
        page.locator("body").press("1")
        page.get_by_text("ana: 1 labelled", exact=False).wait_for(timeout=60_000)
        page.reload()
        settled(page)
        page.get_by_text("ana: 1 labelled", exact=False).wait_for(timeout=60_000)
        second = page.locator("code", has_text="demo-").first.inner_text()
        shot = tmp_path / "label-after-reload.png"
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    folder = root / "labels" / "web" / "v1" / "quality-keep-drop"
    (record,) = [json.loads(p.read_text()) for p in folder.glob("*.json")]
    assert record["label"] == "keep" and record["annotator"] == "ana"
    assert record["item_id"] == first and second != first
    assert shot.stat().st_size > 10_000
