"""Generators a prompt is sent to: a local Hugging Face causal LM, or an OpenAI-compatible URL.

Both sample at temperature 1.0 with no top-p or top-k cut (Alpaca's settings). The local model
draws each token with `torch.multinomial` from a `torch.Generator` seeded per prompt, on CUDA
when available; the endpoint gets the prompt as one user message and the seed in its body.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from winnow.errors import WinnowError

TEMPERATURE = 1.0
"""Sampling temperature of every generator."""

TIMEOUT_S = 120
"""Seconds an endpoint request may take."""


class Generator(Protocol):
    """Something that continues a prompt."""

    def generate(self, prompt: str, seed: int) -> str:
        """The generated continuation of `prompt`, sampled with `seed`."""
        ...

    def settings(self) -> dict[str, Any]:
        """What the manifest records about the generator."""
        ...


def is_url(arg: str) -> bool:
    """Whether --generator names an endpoint rather than a model."""
    return arg.startswith(("http://", "https://"))


@dataclass
class EndpointGenerator:
    """An OpenAI-compatible `/v1` endpoint, asked through POST /chat/completions."""

    url: str
    model: str
    max_new_tokens: int

    def body(self, prompt: str, seed: int) -> dict[str, Any]:
        """The standard chat-completions request body."""
        return {
            "model": self.model,
            "messages": [{"role": "user", "content": prompt}],
            "temperature": TEMPERATURE,
            "top_p": 1.0,
            "max_tokens": self.max_new_tokens,
            "seed": seed,
        }

    def generate(self, prompt: str, seed: int) -> str:
        """The first choice's message content."""
        endpoint = self.url.rstrip("/") + "/chat/completions"
        headers = {"Content-Type": "application/json"}
        if key := os.environ.get("OPENAI_API_KEY"):
            headers["Authorization"] = f"Bearer {key}"
        data = json.dumps(self.body(prompt, seed)).encode()
        request = urllib.request.Request(endpoint, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                reply = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            raise WinnowError(
                f"--generator {self.url}: POST /chat/completions answered HTTP {exc.code}; "
                "check the URL (it ends in /v1), --model and $OPENAI_API_KEY."
            ) from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise WinnowError(
                f"--generator {self.url}: cannot reach the endpoint ({reason}); start the "
                "server or fix the URL."
            ) from exc
        except json.JSONDecodeError as exc:
            raise WinnowError(
                f"--generator {self.url}: the reply is not JSON ({exc}); point --generator at "
                "an OpenAI-compatible /v1 URL."
            ) from exc
        try:
            return str(reply["choices"][0]["message"]["content"] or "")
        except (KeyError, IndexError, TypeError) as exc:
            raise WinnowError(
                f"--generator {self.url}: the reply has no choices[0].message.content; point "
                "--generator at an OpenAI-compatible /v1 URL."
            ) from exc

    def settings(self) -> dict[str, Any]:
        """The URL, model name and sampling settings."""
        return {
            "kind": "openai-endpoint",
            "url": self.url,
            "model": self.model,
            "temperature": TEMPERATURE,
            "top_p": 1.0,
            "max_new_tokens": self.max_new_tokens,
        }


class LocalGenerator:
    """A Hugging Face causal LM (folder, .gguf file or cached hub id) sampled token by token."""

    def __init__(self, name: str, max_new_tokens: int) -> None:
        """Load the model and tokenizer, on CUDA when available."""
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.name, self.max_new_tokens = name, max_new_tokens
        path = Path(name).expanduser()
        where, extra = (
            (str(path.parent), {"gguf_file": path.name}) if path.suffix == ".gguf" else (name, {})
        )
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(where, **extra)
            self.model = AutoModelForCausalLM.from_pretrained(where, **extra)
        except (OSError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise WinnowError(
                f"--generator {name}: not a causal LM folder nor a cached hub id ({first}); give "
                "a model folder, a hub id downloaded before, or an http(s)://.../v1 URL."
            ) from exc
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.model.to(self.device).eval()
        self.limit = getattr(self.model.config, "max_position_embeddings", None)

    def generate(self, prompt: str, seed: int) -> str:
        """Sample up to max_new_tokens after the prompt, stopping at the end-of-text token."""
        import torch

        ids = self.tokenizer(prompt, return_tensors="pt").input_ids.to(self.device)
        if self.limit and ids.shape[1] + self.max_new_tokens > self.limit:
            raise WinnowError(
                f"--generator {self.name}: a prompt of {ids.shape[1]} tokens plus "
                f"--max-new-tokens {self.max_new_tokens} exceeds the model's {self.limit} "
                "positions; lower --per-prompt or --max-new-tokens."
            )
        draw = torch.Generator(device=self.device).manual_seed(seed)
        eos = self.tokenizer.eos_token_id
        new: list[int] = []
        past = None
        step = ids
        with torch.no_grad():
            for _ in range(self.max_new_tokens):
                out = self.model(input_ids=step, past_key_values=past, use_cache=True)
                past = out.past_key_values
                probs = torch.softmax(out.logits[0, -1].float() / TEMPERATURE, dim=-1)
                token = torch.multinomial(probs, 1, generator=draw)
                if eos is not None and int(token) == eos:
                    break
                new.append(int(token))
                step = token.view(1, 1)
        return self.tokenizer.decode(new, skip_special_tokens=True)

    def settings(self) -> dict[str, Any]:
        """The model, device and sampling settings."""
        return {
            "kind": "local-causal-lm",
            "model": self.name,
            "device": self.device.type,
            "temperature": TEMPERATURE,
            "top_p": 1.0,
            "max_new_tokens": self.max_new_tokens,
        }


def load_generator(arg: str, model: str, max_new_tokens: int) -> Generator:
    """The endpoint for an http(s) URL, else the local model `arg` names."""
    if max_new_tokens < 1:
        raise WinnowError(f"--max-new-tokens {max_new_tokens}: must be at least 1.")
    if is_url(arg):
        return EndpointGenerator(arg, model, max_new_tokens)
    return LocalGenerator(arg, max_new_tokens)
