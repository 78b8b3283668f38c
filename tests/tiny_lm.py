"""An untrained causal LM built in a second from real text, for tests that need a local model
to answer (synthesis, annotation) rather than to answer well."""

from __future__ import annotations

import json
from pathlib import Path

SEEDS = "instruct/self_instruct_seed_tasks.jsonl"


def seed_task_lines(shared_data: Path) -> list[str]:
    """Up to 400 non-empty lines of the real self-instruct seed tasks."""
    lines: list[str] = []
    for raw in (shared_data / SEEDS).read_text(encoding="utf-8").splitlines():
        record = json.loads(raw)
        lines.append(record["instruction"])
        for instance in record["instances"]:
            lines += f"{instance['input']}\n{instance['output']}".splitlines()
    return [line for line in lines if line.strip()][:400]


def build_tiny_lm(folder: Path, lines: list[str]) -> Path:
    """Save a 2-layer Llama (seeded, untrained) and a byte-level BPE trained on `lines`."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=512,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(lines, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token="<|endoftext|>")
    config = LlamaConfig(
        vocab_size=len(fast),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=4096,
        eos_token_id=fast.eos_token_id,
        bos_token_id=fast.eos_token_id,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder
