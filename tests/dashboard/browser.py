"""A real browser on a served dashboard: `winnow dashboard` on a copy of the small workspace,
driven by Debian's chromium through Playwright (never a browser Playwright downloads)."""

from __future__ import annotations

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


def skip_without_chromium() -> None:
    """Skip the calling module when chromium is missing, unless CI requires the browser."""
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


FINISHED = '[data-testid="stApp"][data-test-script-state="notRunning"]'
"""The app once a script run has ended (a fresh page starts as "initial", never this)."""


def timed_load(page, url: str | None, what: str, ready: str) -> float:  # noqa: ANN001 - a Page
    """Open URL (None: reload) and time it until the page's `ready` element is there and the
    script run has ended; print and return the seconds (a page load: no fixed waits)."""
    started = time.perf_counter()
    if url is None:
        page.reload()
    else:
        page.goto(url)
    page.locator(ready).first.wait_for(state="attached", timeout=60_000)
    page.wait_for_selector(FINISHED, state="attached", timeout=60_000)
    seconds = time.perf_counter() - started
    print(f"page load {what}: {seconds:.2f} s")
    settled(page)
    return seconds
