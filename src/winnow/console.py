"""The one rich console every part of winnow prints through, so that quieting it (on the ranks
that do not write) quiets the commands and the libraries alike."""

from __future__ import annotations

from rich.console import Console

console = Console()
