"""The Label and Jobs pages in a real browser: a name typed and confirmed with Enter labels
under that name with the next key, a reload keeps task and annotator, a started job is opened
with its table row matching its detail, and a cancel removes the job's staging folder. Page
loads (goto until Streamlit has settled) are printed."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from tests.dashboard.browser import (
    CHROMIUM,
    FLAGS,
    settled,
    skip_without_chromium,
    timed_load,
)
from winnow.jobs import JobSpec, list_jobs
from winnow.jobs.store import create_job, now, update_job
from winnow.workspace import Workspace

skip_without_chromium()

WAIT = 20_000
"""Milliseconds a step may take before the test fails."""

TASK = ".st-key-task input"
BUTTON_KEEP = ".st-key-choice-keep button"
JOB_TABLE = '[data-testid="stDataFrame"] td'
JOB_LOG = '[data-testid="stCode"]'
"""Elements that show a page has rendered: the task box, the first choice, the job table."""


def test_enter_commits_the_name_and_the_next_key_labels(served: tuple[str, Path]) -> None:
    """Choose a task, type "bob" and Enter, press 1: the item is labelled keep under "bob" (not
    typed into the box); a reload keeps task, annotator and dataset from the URL."""
    from playwright.sync_api import sync_playwright

    url, root = served
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        timed_load(page, f"{url}/label", "label (first in a new browser)", TASK)
        timed_load(page, f"{url}/label", "label (no annotator)", TASK)
        page.locator(TASK).click()
        page.get_by_role("option", name="Document quality (keep or drop)").click()
        settled(page)
        box = page.locator(".st-key-annotator input")
        box.press_sequentially("bob")
        box.press("Enter")
        page.get_by_text("bob: 0 labelled", exact=False).wait_for(timeout=WAIT)
        page.locator(BUTTON_KEEP).wait_for(timeout=WAIT)
        settled(page)
        page.keyboard.press("1")
        page.get_by_text("bob: 1 labelled", exact=False).wait_for(timeout=WAIT)
        assert box.input_value() == "bob"
        assert "task=quality-keep-drop" in page.url and "annotator=bob" in page.url
        page.reload()
        settled(page)
        page.get_by_text("bob: 1 labelled", exact=False).wait_for(timeout=WAIT)
        assert page.locator(".st-key-annotator input").input_value() == "bob"
        assert page.locator(TASK).input_value() == "Document quality (keep or drop)"
        timed_load(page, page.url, "label (labelling, with the record's columns)", BUTTON_KEEP)
        browser.close()
    folder = root / "labels" / "web" / "v1" / "quality-keep-drop"
    (record,) = [json.loads(p.read_text()) for p in folder.glob("*.json")]
    assert record["annotator"] == "bob" and record["label"] == "keep"


def finished_job(ws: Workspace) -> str:
    """A completed job's record, so that a job is open before the new one starts."""
    job = create_job(ws, JobSpec("curate", {"recipe": "demo", "source": "web", "output": "old"}))
    update_job(job.path, status="completed", started_at=now(), finished_at=now(), returncode=0)
    return job.id


def test_a_started_job_is_opened_and_cancel_cleans_its_staging(served: tuple[str, Path]) -> None:
    """With an older job open, Start opens the new job (progress, Cancel); its table row says
    what its detail says; Cancel ends it and removes the staging folder its run made, while an
    older staging folder stays."""
    from playwright.sync_api import expect, sync_playwright

    url, root = served
    ws = Workspace(root)
    older = finished_job(ws)
    earlier = ws.datasets_dir / "ko" / ".staging-earlier"
    earlier.mkdir(parents=True)
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        timed_load(page, f"{url}/jobs", "jobs (first in a new browser)", JOB_TABLE)
        timed_load(page, f"{url}/jobs", "jobs", JOB_LOG)
        page.locator(".st-key-job-recipe input").click()
        page.get_by_role("option", name="demo", exact=True).click()
        page.locator(".st-key-job-source-path input").fill("shared-korean-comments")
        page.locator(".st-key-job-output input").fill("ko")
        page.get_by_role("button", name="Start").click()
        page.get_by_text(re.compile(r"^started \d{8}-")).wait_for(timeout=WAIT)
        (new,) = [j for j in list_jobs(ws) if j.id != older]
        expect(page.locator(".st-key-job-open input")).to_have_value(new.id, timeout=WAIT)
        assert f"job={new.id}" in page.url
        cancel = page.get_by_role("button", name="Cancel")
        cancel.wait_for(timeout=WAIT)
        deadline = time.monotonic() + WAIT / 1000
        while len(list(earlier.parent.glob(".staging-*"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        cancel.click()
        page.get_by_text(f"{new.id} · ", exact=False).get_by_text("cancelled").wait_for(
            timeout=WAIT
        )
        row = page.locator('[data-testid="stDataFrame"] tr', has_text=new.id)
        # the same script run drew both; the grid paints its new cells a moment after the text
        expect(row.locator("td").nth(2)).to_have_text("cancelled", timeout=5_000)
        browser.close()
    assert [p.name for p in earlier.parent.iterdir()] == [".staging-earlier"]
