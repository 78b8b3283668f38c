"""Sampling from a trained model with the chat template applied: temperature, top-p, top-k,
max new tokens, n answers per prompt, seeded; on CUDA when present."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from winnow.errors import WinnowError
from winnow.train.models import Base, load_causal_lm, load_tokenizer, resolve_base
from winnow.workspace import Workspace


@dataclass
class Sampling:
    """The seeds' sampling controls; temperature 0 means greedy."""

    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    max_new_tokens: int = 128
    seed: int = 0

    def check(self) -> None:
        """Refuse values generate() would misread."""
        if self.temperature < 0:
            raise WinnowError(f"--temperature {self.temperature}: must be 0 (greedy) or more.")
        if not 0 < self.top_p <= 1:
            raise WinnowError(f"--top-p {self.top_p}: must be in (0, 1].")
        if self.top_k < 0 or self.max_new_tokens < 1:
            raise WinnowError("--top-k must be 0 or more and --max-new-tokens 1 or more.")


def load_model(arg: str, ws: Workspace, option: str = "--model") -> tuple[Base, Any, Any]:
    """A run, folder, .gguf file or hub id as (base, causal LM on the device, tokenizer)."""
    import torch

    if arg == "tiny":
        raise WinnowError(f"{option} tiny: an untrained model; train one and name its run.")
    base = resolve_base(arg, ws)
    tokenizer = load_tokenizer(base)
    model = load_causal_lm(base)
    model.to("cuda" if torch.cuda.is_available() else "cpu").eval()
    return base, model, tokenizer


def render(tokenizer: Any, messages: list[dict[str, str]]) -> str:
    """The prompt text: the chat template with the assistant turn opened, or the raw text."""
    if tokenizer.chat_template:
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return "\n".join(m["content"] for m in messages)


def generate(
    model: Any, tokenizer: Any, messages: list[dict[str, str]], sampling: Sampling, n: int = 1
) -> list[str]:
    """n sampled answers to one conversation, cut at EOS, special tokens removed."""
    import torch

    text = render(tokenizer, messages)
    inputs = tokenizer(text, return_tensors="pt", add_special_tokens=False).to(model.device)
    torch.manual_seed(sampling.seed)
    greedy = sampling.temperature == 0
    settings: dict[str, Any] = {
        "do_sample": not greedy,
        "max_new_tokens": sampling.max_new_tokens,
        "num_return_sequences": 1 if greedy else n,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    if not greedy:
        # float(): transformers refuses an int temperature (Sampling(temperature=2) from Python)
        settings.update(
            temperature=float(sampling.temperature),
            top_p=float(sampling.top_p),
            top_k=sampling.top_k or None,
        )
    with torch.no_grad():
        out = model.generate(**inputs, **settings)
    start = inputs["input_ids"].shape[1]
    answers = [tokenizer.decode(row[start:], skip_special_tokens=True).strip() for row in out]
    return answers * n if greedy else answers
