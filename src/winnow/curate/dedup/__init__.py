"""Deduplication: exact and MinHash steps, each decided in one process or shard by shard.

Importing the package registers both steps. Their modules reach the step contract inside
`winnow.curate.steps`, whose package imports this one, so the two steps are imported here
and not there: whichever dedup module a process (a Ray worker) imports first, this package
runs first and loads them in one order.
"""

from winnow.curate.dedup.exact import exact_dedup  # noqa: F401  (imported to register)
from winnow.curate.dedup.minhash import minhash_dedup  # noqa: F401
