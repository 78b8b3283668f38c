"""End to end in a real browser: `winnow dashboard` on a small workspace, Debian's chromium
driven by Playwright labels an item with the keyboard, reloads, and sees the label kept."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.workspaces import Small

CHROMIUM = shutil.which("chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

if not CHROMIUM and not os.environ.get("WINNOW_REQUIRE_BROWSER"):
    pytest.skip(
        "no chromium on PATH: apt-get install chromium (.ci/run does, and requires it)",
        allow_module_level=True,
    )


def free_port() -> int:
    """A port nothing listens on, on the loopback address."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def served(small: Small, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`winnow dashboard` on a copy of the small workspace, stopped at the end."""
    root = small.copy(tmp_path / "ws").root
    port = free_port()
    argv = [sys.executable, "-m", "winnow", "dashboard", "-w", str(root), "--port", str(port)]
    server = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while True:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail(f"the dashboard did not start:\n{server.stdout.read()}")
        time.sleep(0.2)
    yield f"http://127.0.0.1:{port}", root
    server.terminate()
    server.wait(timeout=30)


def settled(page) -> None:  # noqa: ANN001 - playwright's Page
    """Wait until Streamlit has finished running the script (the first paint is a skeleton)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=60_000)
    page.wait_for_timeout(300)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=60_000)


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
