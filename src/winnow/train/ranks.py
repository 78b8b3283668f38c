"""Several training processes (torchrun, accelerate launch): all of them train, one writes.

Rank 0 alone creates the run folder, writes run.json and metrics.jsonl and saves the model;
it also goes first through the set-up that writes to disk (the data cache, a tiny base's
tokenizer), and the other ranks then find those files there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from winnow.devices import world_size


def is_main() -> bool:
    """Whether this process is the one that writes (global rank 0)."""
    return int(os.environ.get("RANK", "0")) == 0


def local_rank() -> int:
    """This process's GPU on its machine (LOCAL_RANK under a launcher, else 0)."""
    return int(os.environ.get("LOCAL_RANK", "0"))


@contextmanager
def main_first() -> Iterator[None]:
    """Rank 0 runs the block before the other ranks do; a single process just runs it."""
    if world_size() == 1:
        yield
        return
    import torch
    from accelerate import PartialState

    with PartialState(cpu=not torch.cuda.is_available()).main_process_first():
        yield
