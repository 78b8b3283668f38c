"""`winnow dashboard` imports what the pages import before the server listens, so the first
visit to a page does not pay for them."""

from __future__ import annotations

import subprocess
import sys

from winnow.dashboard import serve
from winnow.dashboard.common import PAGES


def test_every_page_imports_are_found() -> None:
    """Each page script's top-level imports are read from its source."""
    for script in PAGES.values():
        assert "streamlit" in serve.imported_by(serve.HERE / script), script
    assert "winnow.labels.store" in serve.imported_by(serve.HERE / PAGES["label"])
    assert "winnow.jobs.queue" in serve.imported_by(serve.HERE / PAGES["jobs"])


def test_warm_leaves_every_page_module_imported() -> None:
    """In a fresh process, after warm() every module a page imports is already loaded."""
    code = (
        "import sys\n"
        "from winnow.dashboard import serve\n"
        "names = serve.warm()\n"
        "print(len(names), [n for n in names if n not in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    count, missing = out.split(" ", 1)
    assert int(count) > 10 and missing.strip() == "[]"
