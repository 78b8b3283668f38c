"""Winnow: curate, train and evaluate language-model data.

Importing the package points numba's kernel cache at a per-user folder (see
`winnow.numba_cache`) before any module can import numba; it imports nothing heavy.
"""

from winnow.numba_cache import configure as _configure_numba_cache

_configure_numba_cache()
