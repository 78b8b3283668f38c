"""A base too large for the machine is refused before any weight loads, and a tokenizer whose
ids the model has no embedding for is refused before training: one line each."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.cli_helpers import run_cli
from tests.train.conftest import Lab

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja")


def seventy_billion(lab: Lab, folder: Path) -> Path:
    """A model folder with Llama 3 70B's architecture (config only) and the lab's tokenizer."""
    from transformers import LlamaConfig

    folder.mkdir()
    LlamaConfig(
        hidden_size=8192,
        intermediate_size=28672,
        num_hidden_layers=80,
        num_attention_heads=64,
        num_key_value_heads=8,
        vocab_size=128256,
    ).save_pretrained(folder)
    for name in TOKENIZER_FILES:
        source = lab.root / "runs" / lab.base / "model" / name
        if source.is_file():
            shutil.copy(source, folder / name)
    return folder


@pytest.mark.parametrize(
    ("lora", "message"),
    [
        ("none", "16 bytes a parameter: fp32 weights, gradients and AdamW's two moments"),
        ("lora", "4 bytes a parameter: fp32 frozen weights"),
    ],
)
def test_a_base_too_large_is_refused_before_loading(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str], lora: str, message: str
) -> None:
    big = seventy_billion(lab, tmp_path / "big")
    args = ["train", "sft", "--base", str(big), "--data", lab.instruct, "--lora", lora]
    code, out = run_cli(capsys, *args, "--output", f"big-{lora}", "-w", str(lab.root))
    assert code == 2 and "Traceback" not in out, out
    assert "70.55B parameters need about" in out and message in out
    assert ("use --lora lora or --lora qlora" in out) == (lora == "none")
    assert not (lab.root / "runs" / f"big-{lora}").exists()


def test_a_tokenizer_larger_than_the_embeddings_is_refused(
    lab: Lab, tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    for item in (lab.root / "runs" / lab.base / "model").iterdir():
        if item.name not in TOKENIZER_FILES:
            (folder / item.name).symlink_to(item)
    shutil.copy(shared_data / "tokenizers" / "llama-tokenizer.json", folder / "tokenizer.json")
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "eos_token": "</s>"}
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    args = ["train", "pretrain", "--base", str(folder), "--data", lab.text, "--output", "mixed"]
    code, out = run_cli(capsys, *args, "-w", str(lab.root))
    assert code == 2 and "Traceback" not in out, out
    assert re.search(r"its tokenizer has 32,00\d tokens but the model's embeddings have 1,0", out)
