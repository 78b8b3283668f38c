"""Where winnow caches what it can make again (numba's kernels, tables): per user, never
in the source tree.

numba caches a `cache=True` kernel beside its source file (`__pycache__/*.nbi`, `*.nbc`)
unless NUMBA_CACHE_DIR names a folder, which numba reads when it is first imported. The
`winnow` package calls `configure()` as it loads, before any of its modules can import numba,
so every path to a kernel (commands, tests, worker processes) uses the same folder:

1. NUMBA_CACHE_DIR, when the user set it, is left alone;
2. else $WINNOW_CACHE/numba, when WINNOW_CACHE is set (winnow's cache root);
3. else $XDG_CACHE_HOME/winnow/numba, else ~/.cache/winnow/numba.

Compiling the kernels a recipe uses costs CPU-seconds once per machine (and again after an
upgrade changes a kernel's source); later runs load them from this folder. This module
imports nothing but `os`, and numba creates the folder when it first writes to it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

VARIABLE = "NUMBA_CACHE_DIR"
"""The environment variable numba reads for its cache folder."""


def default_dir(environ: Mapping[str, str] = os.environ) -> str:
    """The cache folder for numba's kernels when NUMBA_CACHE_DIR is not set."""
    return os.path.join(cache_root(environ), "numba")


def cache_root(environ: Mapping[str, str] = os.environ) -> str:
    """Winnow's per-user cache folder: $WINNOW_CACHE, else $XDG_CACHE_HOME/winnow, else
    ~/.cache/winnow (what is kept there can always be made again)."""
    root = environ.get("WINNOW_CACHE")
    if not root:
        home = os.path.expanduser("~")
        if home == "~":  # no home folder known: a per-user folder in the temporary one
            import tempfile

            home = os.path.join(tempfile.gettempdir(), f"winnow-{os.getuid()}")
        base = environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache")
        root = os.path.join(base, "winnow")
    return os.path.abspath(os.path.expanduser(root))


def configure() -> str:
    """Point numba's cache at `default_dir()` unless NUMBA_CACHE_DIR is set already; return
    the folder in use. If numba was imported before winnow (and so read no folder), its
    configuration is set too, so kernels decorated from now on cache there."""
    chosen = os.environ.get(VARIABLE) or default_dir()
    os.environ[VARIABLE] = chosen
    config = sys.modules.get("numba.core.config")
    if config is not None and not getattr(config, "CACHE_DIR", ""):
        config.CACHE_DIR = chosen
    return chosen
