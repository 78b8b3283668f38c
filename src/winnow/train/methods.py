"""Each training method's prepare and finish steps and the model head it loads."""

from __future__ import annotations

from winnow.train import dpo, pretrain, reward, sft
from winnow.train.jobs import Finish, Prepare

METHODS: dict[str, tuple[Prepare, Finish, str]] = {
    "pretrain": (pretrain.prepare, pretrain.finish, "causal"),
    "sft": (sft.prepare, sft.finish, "causal"),
    "dpo": (dpo.prepare, dpo.finish, "causal"),
    "reward": (reward.prepare, reward.finish, "score"),
}
"""method -> (prepare, finish, head)."""
