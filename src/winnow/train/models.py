"""Base models a job starts from: `tiny` (built here), a run, a folder, a GGUF file, a hub id.

`tiny` is the embedded default: a byte-level BPE tokenizer trained on the job's data and a
small Llama sized to a parameter budget. Its chat template is ChatML and its EOS `<|im_end|>`,
so every turn the model learns ends with the token generation stops at.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xxhash

from winnow.errors import WinnowError
from winnow.records import offline
from winnow.workspace import Workspace

CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
"""ChatML, the template of tiny models and `chat_template: chatml`."""

TINY_SPECIALS = ["<|im_start|>", "<|im_end|>"]
"""Special tokens a tiny tokenizer adds to BPE's own for ChatML."""

HIDDEN_SIZES = (32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048)
"""Widths tried when sizing a tiny Llama to a parameter budget."""


@dataclass
class Base:
    """Where a job's model comes from, as the run records it."""

    kind: str
    ref: str
    path: str
    gguf_file: str | None = None
    run: dict[str, Any] | None = None

    def record(self) -> dict[str, Any]:
        """The base as run.json holds it."""
        return {
            "kind": self.kind,
            "ref": self.ref,
            "path": self.path,
            "gguf_file": self.gguf_file,
            "run": self.run,
        }

    def load_args(self) -> dict[str, Any]:
        """Keyword arguments of from_pretrained for this base."""
        args: dict[str, Any] = {"gguf_file": self.gguf_file} if self.gguf_file else {}
        if self.kind == "hub":
            args["local_files_only"] = offline()
        return args


def resolve_base(arg: str, ws: Workspace, option: str = "--base") -> Base:
    """Turn --base (tiny, RUN, folder, .gguf file or hub id) into a Base, checking it exists."""
    if arg == "tiny":
        return Base("tiny", arg, "")
    run = ws.root / "runs" / arg / "model"
    if "/" not in arg and (ws.root / "runs" / arg).is_dir():
        if not (run / "config.json").is_file():
            if (run.parent / "adapter" / "adapter_config.json").is_file():
                raise WinnowError(
                    f"{option} {arg}: run {run.parent} holds only LoRA adapters (trained with "
                    f"--no-merge); merge them into its base first: winnow train merge {arg}."
                )
            raise WinnowError(
                f"{option} {arg}: run {ws.root / 'runs' / arg} has no finished model; let the run "
                "complete (or resume it) first."
            )
        from winnow.train.runs import run_summary

        return Base("run", arg, str(run), run=run_summary(ws, arg))
    path = Path(arg).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise WinnowError(f"{option} {arg}: no such GGUF file; check the path.")
        return Base("gguf", arg, str(path.parent.resolve()), gguf_file=path.name)
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise WinnowError(
                f"{option} {arg}: folder has no config.json; give a saved model folder, a .gguf "
                "file, a run name or tiny."
            )
        return Base("folder", arg, str(path.resolve()))
    if arg.count("/") == 1 and not path.exists():
        return Base("hub", arg, arg)
    runs = ", ".join(sorted(p.name for p in (ws.root / "runs").glob("*"))) or "none"
    raise WinnowError(
        f"{option} {arg}: not tiny, a run (runs here: {runs}), a model folder, a .gguf file nor a "
        "hub id (org/name)."
    )


def hub_error(base: Base, exc: Exception) -> WinnowError:
    """The one line for a base that could not be loaded."""
    if base.kind == "hub" and offline():
        return WinnowError(
            f"--base {base.ref}: a hub id, but the hub is off (HF_HUB_OFFLINE=1) and it is not "
            "in the local cache; download it once online, or give a local folder, a .gguf file "
            "or tiny."
        )
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return WinnowError(f"--base {base.ref}: cannot be loaded ({first}); check the name or path.")


def load_tokenizer(base: Base) -> Any:
    """The base's tokenizer, with a pad token (EOS when it has none)."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(base.path, **base.load_args())
    except (OSError, ValueError) as exc:
        raise hub_error(base, exc) from exc
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_causal_lm(base: Base, dtype: Any = None, **settings: Any) -> Any:
    """The base as a causal LM (GGUF weights are dequantised by transformers); `settings` are
    more from_pretrained keywords, such as QLoRA's quantization_config and device_map."""
    from transformers import AutoModelForCausalLM

    args = {"dtype": dtype, **base.load_args(), **settings}
    try:
        model = AutoModelForCausalLM.from_pretrained(base.path, **args)
    except (OSError, ValueError) as exc:
        raise hub_error(base, exc) from exc
    return dequantized(model)


def dequantized(model: Any) -> Any:
    """A model loaded from GGUF as the plain float model it is: transformers dequantises the
    weights but still marks the model quantized, and its Trainer then refuses to train it."""
    config = getattr(model.config, "quantization_config", None)
    method = getattr(config, "quant_method", None)
    if str(getattr(method, "value", method)) == "gguf":
        model.hf_quantizer = None
        model.is_quantized = False
        del model.config.quantization_config
    return model


def pin_chat_template(tokenizer: Any, choice: str | None, base: Base) -> None:
    """Set the chat template asked for (chatml or a Jinja file), or insist the base has one."""
    if choice == "chatml":
        tokenizer.chat_template = CHATML
    elif choice:
        path = Path(choice).expanduser()
        if not path.is_file():
            raise WinnowError(
                f"chat_template {choice}: no such file; give a Jinja file or 'chatml'."
            )
        tokenizer.chat_template = path.read_text(encoding="utf-8")
    elif not tokenizer.chat_template:
        raise WinnowError(
            f"--base {base.ref}: its tokenizer has no chat template; pass --chat-template chatml "
            "(or a Jinja file) to pin one."
        )


def template_hash(tokenizer: Any) -> str | None:
    """xxh64 of the chat template text, so runs can tell templates apart."""
    return chat_template_hash(tokenizer.chat_template)


def chat_template_hash(template: str | dict | None) -> str | None:
    """xxh64 of a chat template (text, or named templates), None when there is none."""
    if not template:
        return None
    text = template if isinstance(template, str) else repr(sorted(template.items()))
    return xxhash.xxh64_hexdigest(text.encode())


def tiny_config(vocab_size: int, budget: int, max_length: int) -> tuple[Any, int]:
    """The widest small Llama (tied embeddings) within `budget` parameters, and its size."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    best = None
    for hidden in HIDDEN_SIZES:
        heads = max(1, hidden // 32)
        config = LlamaConfig(
            vocab_size=vocab_size,
            hidden_size=hidden,
            intermediate_size=hidden * 8 // 3 // 8 * 8 or 8,
            num_hidden_layers=max(2, min(hidden // 32, 24)),
            num_attention_heads=heads,
            num_key_value_heads=heads,
            max_position_embeddings=max(max_length, 256),
            tie_word_embeddings=True,
        )
        with torch.device("meta"):
            size = sum(p.numel() for p in LlamaForCausalLM(config).parameters())
        if size > budget:
            break
        best = (config, size)
    if best is None:
        raise WinnowError(
            f"tiny_params {budget:,}: too small for a {vocab_size:,}-token vocabulary; raise "
            "tiny_params or lower tiny_vocab."
        )
    return best


def build_tiny(tokenizer_dir: Path, budget: int, max_length: int, seed: int) -> tuple[Any, Any]:
    """A ChatML tokenizer from a trained BPE folder and a fresh Llama sized to the budget."""
    import torch
    from transformers import AutoTokenizer, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    tokenizer.eos_token = "<|im_end|>"
    tokenizer.chat_template = CHATML
    config, _ = tiny_config(len(tokenizer), budget, max_length)
    config.bos_token_id = tokenizer.bos_token_id
    config.eos_token_id = tokenizer.eos_token_id
    config.pad_token_id = tokenizer.pad_token_id
    torch.manual_seed(seed)
    return LlamaForCausalLM(config), tokenizer
