"""Annotators a prompt is sent to: a local causal LM (run, folder, GGUF, cached hub id) or an
OpenAI-compatible endpoint. Both decode greedily (temperature 0), so a cached reply is the
reply a rerun would get; a failure is a reply with an error, never an exception that ends
the run."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import xxhash

from winnow.errors import WinnowError
from winnow.synthesize.generators import is_url
from winnow.workspace import Workspace

RETRY_STATUS = (408, 409, 429, 500, 502, 503, 504)
"""HTTP answers worth asking again: timeouts, rate limits and server trouble."""


@dataclass(frozen=True)
class Reply:
    """What an annotator gave for one prompt: its text (and whether the token limit cut it
    off), or the error that stopped it."""

    text: str | None
    error: str | None
    seconds: float
    truncated: bool = False


class Annotator(Protocol):
    """Something that answers a batch of prompts."""

    batch_size: int

    def answer(self, prompts: list[str], max_new_tokens: int) -> list[Reply]:
        """One reply per prompt, in order; errors as replies."""
        ...

    def settings(self) -> dict[str, Any]:
        """What identifies the annotator in caches and lineage."""
        ...


def settings_key(settings: dict[str, Any]) -> str:
    """A short hash of an annotator's settings: its cache folder's name."""
    return xxhash.xxh64_hexdigest(json.dumps(settings, sort_keys=True).encode())


@dataclass
class EndpointAnnotator:
    """An OpenAI-compatible `/v1` endpoint: `batch_size` requests at once, each retried."""

    url: str
    model: str
    batch_size: int = 8
    timeout_s: float = 60.0
    retries: int = 3
    backoff_s: float = 1.0

    def ask(self, prompt: str, max_new_tokens: int) -> Reply:
        """POST one chat completion, retrying timeouts, 429s and 5xx with doubling waits."""
        started = time.perf_counter()
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            reply, again = self.post(prompt, max_new_tokens)
            if reply.error is None or not again:
                break
        error = reply.error
        if error is not None and attempt:
            error = f"{error} (after {attempt + 1} tries)"
        return Reply(reply.text, error, time.perf_counter() - started, reply.truncated)

    def post(self, prompt: str, max_new_tokens: int) -> tuple[Reply, bool]:
        """One request's reply (seconds left 0) and whether an error is worth retrying."""
        body = {
            "model": self.model,
            "messages": [{"role": "user", "content": prompt}],
            "temperature": 0,
            "max_tokens": max_new_tokens,
            "seed": 0,
        }
        headers = {"Content-Type": "application/json"}
        if key := os.environ.get("OPENAI_API_KEY"):
            headers["Authorization"] = f"Bearer {key}"
        request = urllib.request.Request(
            self.url.rstrip("/") + "/chat/completions",
            data=json.dumps(body).encode(),
            headers=headers,
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                reply = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            return Reply(None, f"HTTP {exc.code}", 0.0), exc.code in RETRY_STATUS
        except (TimeoutError, urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            timed_out = isinstance(reason, TimeoutError) or "timed out" in str(reason)
            return Reply(None, "timeout" if timed_out else f"unreachable ({reason})", 0.0), True
        except (json.JSONDecodeError, UnicodeDecodeError):
            return Reply(None, "reply is not JSON", 0.0), False
        try:
            choice = reply["choices"][0]
            text = str(choice["message"]["content"] or "")
        except (KeyError, IndexError, TypeError):
            return Reply(None, "reply has no choices[0].message.content", 0.0), False
        return Reply(text, None, 0.0, choice.get("finish_reason") == "length"), False

    def answer(self, prompts: list[str], max_new_tokens: int) -> list[Reply]:
        """Send the batch concurrently; replies come back in prompt order."""
        with ThreadPoolExecutor(max_workers=self.batch_size) as pool:
            return list(pool.map(lambda p: self.ask(p, max_new_tokens), prompts))

    def settings(self) -> dict[str, Any]:
        """Endpoint, model and decoding."""
        return {"kind": "openai-endpoint", "url": self.url, "model": self.model, "temperature": 0}


class LocalAnnotator:
    """A causal LM decoded greedily in batches (left-padded), through its chat template when it
    has one; GGUF files load from winnow's cached folder of them."""

    def __init__(self, arg: str, ws: Workspace, batch_size: int) -> None:
        """Load the model and tokenizer, on CUDA when available."""
        import torch

        from winnow.evals.gguf_folder import loadable
        from winnow.evals.model import fingerprint, resolve_model
        from winnow.train.models import load_causal_lm, load_tokenizer, template_hash

        base = resolve_model(arg, ws)
        self.fingerprint = fingerprint(base)
        base = loadable(base, self.fingerprint)
        self.name, self.batch_size = arg, batch_size
        self.tokenizer = load_tokenizer(base)
        self.tokenizer.padding_side = "left"
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self.model = load_causal_lm(base, dtype=torch.float32).to(self.device).eval()
        self.limit = getattr(self.model.config, "max_position_embeddings", None)
        self.template = template_hash(self.tokenizer)

    def as_input(self, prompt: str) -> str:
        """The prompt as the model expects it: one user turn of its chat template, if any."""
        if not self.tokenizer.chat_template:
            return prompt
        messages = [{"role": "user", "content": prompt}]
        return self.tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True
        )

    def answer(self, prompts: list[str], max_new_tokens: int) -> list[Reply]:
        """Greedy replies to the batch; a prompt too long for the model is an error reply."""
        import torch

        started = time.perf_counter()
        texts = [self.as_input(p) for p in prompts]
        lengths = [len(self.tokenizer(t, add_special_tokens=False).input_ids) for t in texts]
        fits = [not self.limit or n + max_new_tokens <= self.limit for n in lengths]
        chosen = [t for t, ok in zip(texts, fits, strict=True) if ok]
        outputs: list[str] = []
        cut: list[bool] = []
        if chosen:
            batch = self.tokenizer(
                chosen, return_tensors="pt", padding=True, add_special_tokens=False
            ).to(self.device)
            with torch.inference_mode():
                ids = self.model.generate(
                    **batch,
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    pad_token_id=self.tokenizer.pad_token_id,
                )
            new = ids[:, batch["input_ids"].shape[1] :]
            outputs = self.tokenizer.batch_decode(new, skip_special_tokens=True)
            ended = {self.tokenizer.eos_token_id, self.tokenizer.pad_token_id}
            cut = [new.shape[1] == max_new_tokens and int(row[-1]) not in ended for row in new]
        each = (time.perf_counter() - started) / len(prompts)
        replies, produced = [], iter(zip(outputs, cut, strict=True))
        for n, ok in zip(lengths, fits, strict=True):
            if ok:
                text, truncated = next(produced)
                replies.append(Reply(text, None, each, truncated))
            else:
                error = f"prompt of {n} tokens + {max_new_tokens} > {self.limit}"
                replies.append(Reply(None, error, each))
        return replies

    def settings(self) -> dict[str, Any]:
        """Model fingerprint, chat template and decoding (the device does not change replies)."""
        return {
            "kind": "local-causal-lm",
            "model": self.name,
            "fingerprint": self.fingerprint,
            "chat_template_hash": self.template,
            "decoding": "greedy",
        }


def load_annotator(
    arg: str, ws: Workspace, model: str, batch_size: int, timeout_s: float, retries: int
) -> Annotator:
    """The endpoint for an http(s) URL, else the local model `arg` names."""
    if batch_size < 1 or timeout_s <= 0 or retries < 0:
        raise WinnowError(
            "--batch-size must be at least 1, --timeout above 0 and --retries 0 or more."
        )
    if is_url(arg):
        return EndpointAnnotator(arg, model, batch_size, timeout_s, retries)
    return LocalAnnotator(arg, ws, batch_size)
