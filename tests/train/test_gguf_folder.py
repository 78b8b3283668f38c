"""A GGUF model is turned once into a cached folder that loads with the very same weights and
tokenizer: checked on a GGUF written here from the lab's base model, against transformers
loading the GGUF itself and against lm-eval's own HF model scoring it."""

from __future__ import annotations

import json
from pathlib import Path

import gguf
import numpy as np
import pytest
import torch
from lm_eval import simple_evaluate
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from tests.train.conftest import Lab
from winnow.evals import gguf_folder
from winnow.evals.gguf_folder import gguf_cache, loadable
from winnow.evals.model import fingerprint, resolve_model
from winnow.evals.run import EvalOptions, evaluate, task_manager
from winnow.files import read_json


def llama_cpp_order(weights: np.ndarray, heads: int) -> np.ndarray:
    """The query/key row order llama.cpp writes (transformers undoes it when loading)."""
    half = weights.shape[0] // heads // 2
    return weights.reshape(heads, 2, half, *weights.shape[1:]).swapaxes(1, 2).reshape(weights.shape)


def write_gguf(folder: Path, out: Path) -> None:
    """A float32 llama GGUF of a saved model folder with a byte-level BPE tokenizer."""
    config = json.loads((folder / "config.json").read_text())
    spec = json.loads((folder / "tokenizer.json").read_text())
    specials = json.loads((folder / "tokenizer_config.json").read_text())
    writer = gguf.GGUFWriter(str(out), "llama")
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_embedding_length(config["hidden_size"])
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(config["num_attention_heads"])
    writer.add_head_count_kv(config["num_key_value_heads"])
    writer.add_rope_dimension_count(config["head_dim"])
    writer.add_rope_freq_base(config["rope_parameters"]["rope_theta"])
    writer.add_layer_norm_rms_eps(config["rms_norm_eps"])
    writer.add_vocab_size(config["vocab_size"])
    added = {token["content"]: token["id"] for token in spec["added_tokens"]}
    ids = {**spec["model"]["vocab"], **added}
    tokens = sorted(ids, key=ids.__getitem__)
    writer.add_tokenizer_model("gpt2")
    writer.add_token_list(tokens)
    control, normal = gguf.TokenType.CONTROL, gguf.TokenType.NORMAL
    writer.add_token_types([control if t in added else normal for t in tokens])
    writer.add_token_merges([" ".join(m) for m in spec["model"]["merges"]])
    writer.add_bos_token_id(ids[specials["bos_token"]])
    writer.add_eos_token_id(ids[specials["eos_token"]])
    writer.add_pad_token_id(ids[specials["pad_token"]])
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, config["num_hidden_layers"])
    heads = {"q_proj": config["num_attention_heads"], "k_proj": config["num_key_value_heads"]}
    for name, tensor in load_file(folder / "model.safetensors").items():
        weights = tensor.float().numpy()
        for proj, count in heads.items():
            if name.endswith(f"{proj}.weight"):
                weights = llama_cpp_order(weights, count)
        target = names.get_name(name, try_suffixes=(".weight", ".bias"))
        writer.add_tensor(target, np.ascontiguousarray(weights))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


@pytest.fixture(scope="module")
def tiny_gguf(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lab's base model as a GGUF file."""
    path = tmp_path_factory.mktemp("gguf") / "tiny.gguf"
    write_gguf(lab.ws.root / "runs" / lab.base / "model", path)
    return path


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty winnow cache for this test."""
    monkeypatch.setenv("WINNOW_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_the_folder_loads_what_the_gguf_loads(
    lab: Lab, tiny_gguf: Path, cache: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same weights (and the lab model's, so the GGUF is a real copy), same token ids on real
    English and Korean text, same specials and chat template; made once, then reused."""
    base = resolve_model(str(tiny_gguf), lab.ws)
    key = fingerprint(base)
    loaded = loadable(base, key)
    assert loaded.path == str(gguf_cache(key)) and loaded.gguf_file is None
    assert Path(loaded.path).is_relative_to(cache)
    assert "quantization_config" not in read_json(Path(loaded.path) / "config.json")
    direct = AutoModelForCausalLM.from_pretrained(
        tiny_gguf.parent, gguf_file=tiny_gguf.name, dtype=torch.float32
    ).state_dict()
    folder = AutoModelForCausalLM.from_pretrained(loaded.path, dtype=torch.float32).state_dict()
    source = lab.ws.root / "runs" / lab.base / "model"
    original = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32).state_dict()
    assert direct.keys() == folder.keys() == original.keys()
    assert all(torch.equal(direct[k], folder[k]) for k in direct)
    assert all(torch.equal(folder[k], original[k]) for k in direct)
    theirs = AutoTokenizer.from_pretrained(tiny_gguf.parent, gguf_file=tiny_gguf.name)
    ours = AutoTokenizer.from_pretrained(loaded.path, use_fast=True)
    web = [json.loads(line)["text"] for line in (shared_data / "web" / "c4_demo.jsonl").open()]
    korean = (shared_data / "korean" / "constitution.txt").read_text(encoding="utf-8")
    texts = [*web[:50], *korean.splitlines()[:50], "  indented\n\tcode<|im_end|>"]
    assert [ours(t).input_ids for t in texts] == [theirs(t).input_ids for t in texts]
    for attr in ("bos_token", "eos_token", "pad_token", "chat_template"):
        assert getattr(ours, attr) == getattr(theirs, attr)

    def again(*args: object) -> None:
        raise AssertionError("converted a second time")

    monkeypatch.setattr(gguf_folder, "convert", again)
    assert loadable(base, key) == loaded
    folder_base = resolve_model(str(source), lab.ws)
    assert loadable(folder_base, "unused") is folder_base


def test_a_failed_conversion_leaves_nothing_behind(
    lab: Lab, tiny_gguf: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A save that fails part-way (a full disk) raises, and no folder or staging copy stays,
    so the next run converts again rather than loading half a model."""
    from transformers import PreTrainedModel

    def full_disk(self: PreTrainedModel, folder: Path, **kwargs: object) -> None:
        (Path(folder) / "model.safetensors").write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(PreTrainedModel, "save_pretrained", full_disk)
    base = resolve_model(str(tiny_gguf), lab.ws)
    with pytest.raises(OSError, match="No space left"):
        loadable(base, fingerprint(base))
    assert list((cache / "gguf").iterdir()) == []


def test_an_eval_of_a_gguf_scores_as_lm_eval_scores_the_gguf(
    lab: Lab, tiny_gguf: Path, cache: Path
) -> None:
    """`winnow evaluate` on a GGUF loads the cached folder (run.json says which) and gives the
    documents the answers lm-eval's HF model gives when it loads the GGUF itself."""
    task = "winnow_arc_easy"
    opts = EvalOptions(model=str(tiny_gguf), tasks=task, limit=6, output="ev-gguf")
    run = evaluate(lab.ws, opts)
    record = read_json(run.path / "run.json")
    assert record["model"]["loaded_from"] == str(gguf_cache(record["model"]["fingerprint"]))
    assert record["model"]["gguf_file"] == "tiny.gguf"
    theirs = simple_evaluate(
        model="hf",
        model_args=f"pretrained={tiny_gguf.parent},gguf_file={tiny_gguf.name},dtype=float32",
        tasks=[task],
        task_manager=task_manager([str(run.path / "tasks")], [task]),
        limit=6,
        device="cpu",
        log_samples=True,
        verbosity="ERROR",
    )["samples"][task]
    lines = (run.path / "samples" / f"{task}.jsonl").read_text().splitlines()
    ours = {row["doc_id"]: row for row in map(json.loads, lines)}
    assert len(ours) == len(theirs) == 6
    for row in theirs:
        mine = ours[row["doc_id"]]
        assert mine["metrics"] == {m: row[m] for m in row["metrics"]}
        for (a, greedy_a), (b, greedy_b) in zip(
            mine["filtered_resps"], row["filtered_resps"], strict=True
        ):
            assert abs(a - b) < 1e-4 and greedy_a == greedy_b
