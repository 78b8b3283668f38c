"""The training methods, one registry: the `winnow train` commands, the job form and the
runner all read each method's config, steps, model head and data kind from here."""

from __future__ import annotations

from dataclasses import dataclass

from winnow.train.config import (
    DpoConfig,
    JobConfig,
    KtoConfig,
    OrpoConfig,
    PretrainConfig,
    RewardConfig,
    SftConfig,
)


@dataclass(frozen=True)
class Method:
    """A training method as the runner, its command and the job form need it."""

    config: type[JobConfig]
    steps: str
    """The module whose prepare(ctx) builds the trainer and finish(ctx, trainer) reads the
    results, by name: the runner imports it when a run starts, so the commands' help, built
    from here, loads no training library."""
    head: str
    """The model it loads: causal (a language model) or score (one number per sequence)."""
    data: str
    """The kind of dataset it trains on: text, instruct or preference."""
    tiny: bool
    """Whether it may start from a fresh tiny model (the others need a trained one)."""
    options: tuple[str, ...]
    """The config fields its command takes as options, in the order its help lists them."""
    help: str
    """Its command's help, example included."""

    @property
    def name(self) -> str:
        """The method's name, as its config declares it."""
        return self.config.method


COMMON = (
    "base",
    "data",
    "output",
    "max_steps",
    "epochs",
    "learning_rate",
    "batch_size",
    "max_length",
)
"""The config fields every method's command takes as options."""

TUNED = ("lora", "lora_r", "lora_alpha", "lora_dropout", "merge", "chat_template")
"""Options of the methods that tune a model on conversations: adapters and the chat template."""

PRETRAIN = Method(
    config=PretrainConfig,
    steps="winnow.train.pretrain",
    head="causal",
    data="text",
    tiny=True,
    options=(*COMMON, "workers", "tiny_params"),
    help="""Pretrain a causal LM on a text dataset (tiny: tokenizer and Llama built from it).

    The text is tokenized once into packed token shards (WORKSPACE/cache/token-shards/, per
    dataset fingerprint and tokenizer; --workers processes) that every later run reuses, and
    streamed as --max-length blocks, so memory stays flat whatever the corpus size; a
    held-out share of the documents (eval_fraction) gives eval loss and perplexity.
    runs/OUTPUT gets run.json, metrics.jsonl, checkpoints/ and model/.

    Example: winnow train pretrain --base tiny --data demo-web --output tiny-web --max-steps 40
    """,
)

SFT = Method(
    config=SftConfig,
    steps="winnow.train.sft",
    head="causal",
    data="instruct",
    tiny=True,
    options=(*COMMON, "packing", *TUNED),
    help="""Fine-tune on an instruction set with loss on answer tokens only (TRL SFTTrainer).

    Prints a token-level preview of the loss mask and counts rows with no trainable token
    before the first step; stops when none is left. Chat template and EOS are pinned and
    recorded in run.json.

    Example: winnow train sft --base demo-base --data demo-instruct --output tiny-sft --max-steps 20
    """,
)

DPO = Method(
    config=DpoConfig,
    steps="winnow.train.dpo",
    head="causal",
    data="preference",
    tiny=False,
    options=(*COMMON, "beta", "loss_type", *TUNED),
    help="""Preference-tune a model on a chosen/rejected set with TRL's DPOTrainer.

    Logs DPO rewards (chosen, rejected, margins, accuracies) to metrics.jsonl. Reference
    log-probs are computed once per data and base and reused by later runs (reuse_ref_logps).

    Example: winnow train dpo --base demo-sft --data demo-sample-pairs --output tiny-dpo --beta 0.1
    """,
)

KTO = Method(
    config=KtoConfig,
    steps="winnow.train.kto",
    head="causal",
    data="unpaired",
    tiny=False,
    options=(*COMMON, "beta", *TUNED),
    help="""Preference-tune a model on answers labelled desirable or undesirable (TRL KTOTrainer).

    Takes the unpaired KTO rows of a preference set; chosen/rejected pairs count as one
    desirable and one undesirable answer each. run.json counts both kinds and says when their
    weighted ratio is outside the KTO paper's [1, 4/3] (set desirable_weight or
    undesirable_weight with --set). Logs rewards, margins and KL to metrics.jsonl.

    Example: winnow train kto --base demo-sft --data demo-preference --output tiny-kto --beta 0.1
    """,
)

ORPO = Method(
    config=OrpoConfig,
    steps="winnow.train.orpo",
    head="causal",
    data="preference",
    tiny=False,
    options=(*COMMON, "beta", *TUNED),
    help="""Fine-tune and preference-tune in one stage on a chosen/rejected set (TRL's ORPO).

    The loss is the chosen answer's negative log-likelihood plus beta times the log odds ratio
    of chosen over rejected; no reference model, so no second copy in memory. Logs rewards,
    margins, accuracies, the NLL and the log odds ratio to metrics.jsonl.

    Example: winnow train orpo --base demo-sft --data demo-preference --output tiny-orpo
    """,
)

REWARD = Method(
    config=RewardConfig,
    steps="winnow.train.reward",
    head="score",
    data="preference",
    tiny=False,
    options=(*COMMON, *TUNED),
    help="""Train a reward model (one score per conversation) on a chosen/rejected set.

    eval_fraction of the pairs (10% by default) is held out; run.json's results and
    metrics.jsonl get the exact pairwise accuracy on it.

    Example: winnow train reward --base demo-sft --data demo-preference --output tiny-reward
    """,
)

METHODS: dict[str, Method] = {m.name: m for m in (PRETRAIN, SFT, DPO, KTO, ORPO, REWARD)}
"""The trained methods by name, in the order `winnow train --help` lists them."""
