"""Training jobs on the CPU with tiny models: masks, falling loss, DPO, reward, resume, lineage."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from tests.cli_helpers import run_cli
from tests.train.conftest import REFUSAL, Lab, train
from winnow.files import read_json
from winnow.preference.dataset import import_preference
from winnow.train import sft
from winnow.train.config import KtoConfig, SftConfig, load_config
from winnow.train.methods import KTO, SFT
from winnow.train.models import resolve_base
from winnow.train.runner import Context, check_qlora_base, load_base, merged, start, trainer_args
from winnow.train.runs import RunFolder, read_metrics
from winnow.train.sample import load_reward
from winnow.train.scoring import score
from winnow.workspace import DatasetVersion


def losses(lab: Lab, run: str, key: str = "loss") -> list[float]:
    """A run's logged values of `key`, in step order."""
    return [
        row[key] for row in read_metrics(lab.root / "runs" / run / "metrics.jsonl") if key in row
    ]


def test_pretrain_records_data_and_perplexity(lab: Lab) -> None:
    """The tiny base: run.json names the text by fingerprint; eval perplexity is exp(loss)."""
    record = read_json(lab.root / "runs" / lab.base / "run.json")
    assert record["status"] == "completed"
    assert record["inputs"][0]["fingerprint"] == lab.ws.dataset(lab.text).manifest["fingerprint"]
    assert record["inputs"][0]["rows"] == 300
    assert record["base"]["kind"] == "tiny"
    assert record["model"]["parameters"] <= 500_000
    assert record["tokenizer"]["eos_token"] == "<|im_end|>"
    assert record["tokenizer"]["chat_template_hash"]
    results = record["results"]
    assert results["eval_perplexity"] == pytest.approx(2.718281828 ** results["eval_loss"])
    assert record["data"]["train_tokens"] > 0 and record["data"]["eval_documents"] == 15
    assert (lab.root / "runs" / lab.base / "model" / "config.json").is_file()


def test_sft_masks_prompt_tokens_on_real_alpaca_rows(lab: Lab) -> None:
    """Prompt tokens (and the chat scaffolding before the answer) are -100; the answer and its
    EOS are trained."""
    options = {"base": lab.base, "data": lab.instruct, "output": "mask", "max_rows": 8}
    options["packing"] = False
    job, _ = load_config(SftConfig, None, options, [])
    ctx, _ = start(lab.ws, SFT, job, None, False)
    dataset = ctx.dataset
    prepared = sft.prepare(ctx)
    row = prepared.trainer.train_dataset[1]
    source = dataset[1]
    pairs = list(zip(row["input_ids"], row["labels"], strict=True))
    trained = [t for t, label in pairs if label != -100]
    masked = [t for t, label in pairs if label == -100]
    first = next(i for i, (_, label) in enumerate(pairs) if label != -100)
    assert all(label != -100 for _, label in pairs[first:])
    answer = source["completion"][0]["content"]
    assert ctx.tokenizer.decode(trained) == answer + "<|im_end|>\n"
    prompt = ctx.tokenizer.decode(masked)
    assert prompt.startswith("<|im_start|>user\n" + source["prompt"][-1]["content"])
    assert prompt.endswith("<|im_start|>assistant\n")
    assert prepared.data["trainable_tokens"] > 0 and prepared.data["masked_tokens"] > 0


def test_sft_loss_falls_and_run_records_inputs(lab: Lab) -> None:
    """40 steps on 32 fixed rows: the last logged loss is well under the first."""
    options = {"base": lab.base, "data": f"{lab.instruct}@v1", "output": "sft-falls"}
    train(lab, "sft", **options, max_rows=32, max_steps=40, max_length=96, learning_rate=3e-3)
    values = losses(lab, "sft-falls")
    assert values[-1] < values[0] - 0.5
    record = read_json(lab.root / "runs" / "sft-falls" / "run.json")
    assert record["inputs"][0]["ref"] == f"{lab.instruct}@v1"
    assert (
        record["inputs"][0]["fingerprint"] == lab.ws.dataset(lab.instruct).manifest["fingerprint"]
    )
    assert record["base"]["run"]["name"] == lab.base
    assert record["versions"]["trl"] and record["device"]["type"] in {"cpu", "cuda"}


def test_dpo_reward_accuracy_rises(lab: Lab) -> None:
    """On the separable pairs, DPO's logged reward accuracy ends well above where it starts."""
    options = {"base": lab.base, "data": lab.pairs, "output": "dpo-rises", "max_steps": 30}
    train(lab, "dpo", **options, learning_rate=2e-3, batch_size=8, logging_steps=5, beta=0.1)
    accuracies = losses(lab, "dpo-rises", "rewards/accuracies")
    assert accuracies[0] == 0.0
    assert accuracies[-1] >= 0.9
    record = read_json(lab.root / "runs" / "dpo-rises" / "run.json")
    assert record["config"]["loss_type"] == "sigmoid" and record["data"]["pairs"] == 120
    assert record["results"]["rewards/accuracies"] == accuracies[-1]


def test_dpo_reuses_reference_log_probs(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    """A run that sees every pair precomputes the reference log-probs and a second run on the
    same data and base finds them; a run that sees fewer pairs computes them live instead."""
    rows = lab.ws.dataset(lab.pairs).manifest["counts"]["kept"]
    options = {"base": lab.base, "data": lab.pairs, "max_length": 100, "batch_size": 8}
    train(lab, "dpo", output="dpo-ref-a", max_steps=-(-rows // 8), **options)
    first = capsys.readouterr().err
    train(lab, "dpo", output="dpo-ref-b", max_steps=-(-rows // 8), **options)
    second = capsys.readouterr().err
    assert "Computing reference log probs" in first
    assert "Computing reference log probs" not in second
    train(lab, "dpo", output="dpo-ref-short", max_steps=1, **options)
    assert "Computing reference log probs" not in capsys.readouterr().err
    record = read_json(lab.root / "runs" / "dpo-ref-short" / "run.json")
    assert record["data"]["reference_log_probs"].startswith("live (the run sees 8 pairs")


def test_reward_model_beats_chance(lab: Lab) -> None:
    """A reward model on the separable pairs ranks held-out chosen above rejected."""
    options = {"base": lab.base, "data": lab.pairs, "output": "rm", "max_steps": 30}
    train(lab, "reward", **options, learning_rate=1e-3, eval_fraction=0.25)
    record = read_json(lab.root / "runs" / "rm" / "run.json")
    assert record["data"]["eval_pairs"] == 30
    assert record["results"]["eval_pairwise_accuracy"] >= 0.8
    assert losses(lab, "rm", "eval_pairwise_accuracy") == [
        record["results"]["eval_pairwise_accuracy"]
    ]


def test_resume_continues_from_the_checkpoint(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    """A run resumed with more steps starts after its last checkpoint, not from step 0."""
    args = ["train", "sft", "--base", lab.base, "--data", lab.instruct, "--output", "resumed"]
    limits = ["--max-length", "64", "--set", "save_steps=4", "--set", "logging_steps=2"]
    code, out = run_cli(capsys, *args, *limits, "--max-steps", "6", "-w", str(lab.root))
    assert code == 0, out
    folder = lab.root / "runs" / "resumed"
    assert sorted(p.name for p in (folder / "checkpoints").glob("checkpoint-*")) == [
        "checkpoint-4",
        "checkpoint-6",
    ]
    more = ["train", "sft", "--output", "resumed", "--resume", "--max-steps", "10"]
    code, out = run_cli(capsys, *more, "-w", str(lab.root))
    assert code == 0, out
    record = read_json(folder / "run.json")
    assert record["attempts"] == [{"resumed_from": "checkpoint-6"}]
    assert record["config"]["max_steps"] == 10 and record["config"]["max_length"] == 64
    steps = [row["step"] for row in read_metrics(folder / "metrics.jsonl") if "loss" in row]
    assert steps == [1, 2, 4, 6, 8, 10]
    code, out = run_cli(
        capsys, "train", "sft", "--output", "nothing", "--resume", "-w", str(lab.root)
    )
    assert code == 2 and "no run 'nothing'" in out


def split_rows(version: DatasetVersion, split: str) -> list[dict]:
    """A dataset version's rows in one split (kept, rejected, quarantine), none if empty."""
    files = sorted((version.path / split).glob("*.parquet"))
    return pl.read_parquet(files).to_dicts() if files else []


def best_answer(sample: dict) -> str:
    """The text of a sample's first best-rated answer."""
    ratings = [a["rating"] for a in sample["answers"]]
    return sample["answers"][ratings.index(max(ratings))]["text"]


def test_best_of_n_pairs_the_best_and_worst_rated_answers(
    lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    """Sampling 4 answers for 6 prompts: every answer's rating is the reward model's score of
    it; for every prompt the pair is its best-rated answer against its worst-rated one (margin
    their difference) and the best set holds its best-rated answer, or the prompt is set aside
    with the reason; both manifests name the prompts, the policy and the reward model."""
    train(lab, "reward", base=lab.base, data=lab.pairs, output="rm-bon", max_steps=5)
    args = ["train", "sample", "--policy", lab.base, "--reward", "rm-bon", "--prompts"]
    extra = ["--n", "4", "--max-prompts", "6", "--max-new-tokens", "12", "-w", str(lab.root)]
    code, out = run_cli(capsys, *args, lab.instruct, "--output", "bon", *extra)
    assert code == 0, out
    lines = (lab.root / "runs" / "bon" / "samples.jsonl").read_text().splitlines()
    samples = [json.loads(line) for line in lines]
    prompts = pl.read_parquet(lab.ws.dataset(lab.instruct).path / "kept" / "*.parquet").head(6)
    assert [s["id"] for s in samples] == prompts["id"].to_list()
    assert [s["prompt"] for s in samples] == [json.loads(p) for p in prompts["prompt"]]
    assert all(len(s["answers"]) == 4 for s in samples)
    reward, tokenizer, _ = load_reward("rm-bon", lab.ws)
    conversations = [
        [*s["prompt"], {"role": "assistant", "content": a["text"]}]
        for s in samples
        for a in s["answers"]
    ]
    recorded = [a["rating"] for s in samples for a in s["answers"]]
    assert score(reward, tokenizer, conversations) == pytest.approx(recorded, abs=1e-4)

    pairs, best = lab.ws.dataset("bon-pairs"), lab.ws.dataset("bon-best")
    kept = {row["id"]: row for row in split_rows(pairs, "kept")}
    set_aside = {row["line"]: row["reason"] for row in split_rows(pairs, "quarantine")}
    assert not split_rows(pairs, "rejected")
    best_rows = {row["id"]: row for row in split_rows(best, "kept")}
    for line, sample in enumerate(samples, start=1):
        texts = [a["text"] for a in sample["answers"]]
        ratings = [a["rating"] for a in sample["answers"]]
        top, bottom = best_answer(sample), texts[ratings.index(min(ratings))]
        if top.strip():
            assert best_rows[sample["id"]]["output"] == top
        if max(ratings) == min(ratings):
            assert set_aside[line] == "tie"
            continue
        if top.strip() == bottom.strip():
            assert set_aside[line] == "identical_chosen_rejected"
            continue
        if not top.strip() or not bottom.strip():
            assert set_aside[line] == ("empty_chosen" if not top.strip() else "empty_rejected")
            continue
        row = kept[f"bon-rated.jsonl:{line}"]
        assert row["prompt"] == sample["prompt"]
        assert row["chosen"] == [{"role": "assistant", "content": top}]
        assert row["rejected"] == [{"role": "assistant", "content": bottom}]
        assert row["margin"] == pytest.approx(max(ratings) - min(ratings))
    assert len(kept) + len(set_aside) == 6 and kept
    assert len(best_rows) == sum(1 for s in samples if best_answer(s).strip())

    parent = lab.ws.dataset(lab.instruct)
    for version in (pairs, best):
        manifest = version.manifest
        assert manifest["parents"][0]["fingerprint"] == parent.manifest["fingerprint"]
        assert manifest["sampling"]["reward"]["ref"] == "rm-bon"
        assert manifest["sampling"]["policy"]["ref"] == lab.base
        assert manifest["sampling"]["n"] == 4
    counts = pairs.manifest["counts"]
    assert counts["input"] == 6 == counts["kept"] + counts["rejected"] + counts["quarantined"]
    assert best.manifest["kind"] == "instruct"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sft", "--data", "web"], "has no column prompt, completion"),
        (["pretrain", "--data", "separable"], "has no column text"),
        (["pretrain", "--data", "web", "--epochs", "0"], "epochs 0.0: must be above 0"),
        (["dpo", "--data", "alpaca", "--base", "base"], "has no column chosen, rejected"),
        (["sft", "--data", "nothing"], "no dataset 'nothing'"),
        (["sft", "--data", "alpaca", "--base", "org/model"], "the hub is off"),
        (["sft", "--data", "alpaca", "--base", "missing.gguf"], "no such GGUF file"),
        (["dpo", "--data", "separable", "--base", "tiny"], "needs a trained base"),
        (["sft", "--data", "alpaca", "--lora", "qlora"], "needs a CUDA GPU"),
        (["sft", "--data", "alpaca", "--set", "max_steps=many"], "max_steps is 'many'"),
        (["sft", "--data", "alpaca", "--set", "beta=0.1"], "unknown key 'beta'"),
        (["dpo", "--data", "separable", "--loss-type", "nope"], "loss_type 'nope'"),
    ],
)
def test_bad_input_is_one_line(
    lab: Lab, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    """Each bad input stops with one clear line and no traceback."""
    base = [] if "--base" in args else ["--base", lab.base]
    command = ["train", *args, *base, "--output", f"bad-{abs(hash(message))}"]
    code, out = run_cli(capsys, *command, "-w", str(lab.root))
    assert code == 2, out
    assert message in out and "Traceback" not in out


def test_lora_targets_and_chat_template_are_checked(
    lab: Lab, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """LoRA targets missing from the model, and a base without a chat template, are one line."""
    args = ["train", "sft", "--base", lab.base, "--data", lab.instruct, "--lora", "lora"]
    code, out = run_cli(
        capsys, *args, "--set", "lora_targets=c_attn", "--output", "lora-bad", "-w", str(lab.root)
    )
    assert code == 2 and "lora_targets c_attn: no such module" in out and "q_proj" in out
    plain = tmp_path / "plain"
    plain.mkdir()
    for item in (lab.root / "runs" / lab.base / "model").iterdir():
        (plain / item.name).symlink_to(item)
    (plain / "tokenizer_config.json").unlink()
    config = json.loads(
        (lab.root / "runs" / lab.base / "model" / "tokenizer_config.json").read_text()
    )
    config.pop("chat_template", None)
    (plain / "tokenizer_config.json").write_text(json.dumps(config))
    (plain / "chat_template.jinja").unlink(missing_ok=True)
    args = ["train", "sft", "--base", str(plain), "--data", lab.instruct, "--output", "no-template"]
    code, out = run_cli(capsys, *args, "-w", str(lab.root))
    assert code == 2 and "has no chat template" in out and "--chat-template chatml" in out


def test_lora_sft_saves_base_plus_the_merged_adapters(lab: Lab) -> None:
    """LoRA: few trainable parameters, adapters on every linear layer but the output head by
    default and saved on their own in run/adapter; run/model is the base with B @ A * alpha / r
    added to each targeted projection and every other weight untouched, and it scores and
    generates as the base with the run's last adapters on it does."""
    import torch
    from peft import PeftModel
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM, AutoTokenizer

    options = {"base": lab.base, "data": lab.instruct, "output": "lora", "max_steps": 3}
    train(lab, "sft", **options, lora="lora", max_length=64, save_steps=3, learning_rate=1e-2)
    folder = lab.root / "runs" / "lora"
    record = read_json(folder / "run.json")
    assert record["model"]["trainable_parameters"] < record["model"]["parameters"] / 10
    assert (record["config"]["lora_r"], record["config"]["lora_alpha"]) == (8, 16)
    assert record["defaults"]["lora_alpha"] == "twice the rank"
    merged = AutoModelForCausalLM.from_pretrained(folder / "model").eval()
    assert type(merged).__name__ == "LlamaForCausalLM"
    base_dir = lab.root / "runs" / lab.base / "model"
    base = dict(AutoModelForCausalLM.from_pretrained(base_dir).named_parameters())
    adapter_dir = folder / "adapter"
    adapter = load_file(adapter_dir / "adapter_model.safetensors")
    last = load_file(folder / "checkpoints" / "checkpoint-3" / "adapter_model.safetensors")
    assert adapter.keys() == last.keys()
    assert all(torch.equal(adapter[k], last[k]) for k in adapter)
    settings = json.loads((adapter_dir / "adapter_config.json").read_text())
    assert settings["r"] == 8 and settings["lora_alpha"] == 16 and not settings["use_rslora"]
    scale = settings["lora_alpha"] / settings["r"]
    lora = {k.removeprefix("base_model.model."): v for k, v in adapter.items()}
    targeted = {k.replace(".lora_A", "") for k in lora if ".lora_A." in k}
    assert len(lora) == 2 * len(targeted)
    layers = AutoModelForCausalLM.from_pretrained(base_dir).config.num_hidden_layers
    projections = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
    assert len(targeted) == len(projections) * layers
    assert {k.split(".")[-2] for k in targeted} == set(projections)
    assert {name for name, _ in merged.named_parameters()} == set(base)
    for name, weight in merged.named_parameters():
        if name in targeted:
            down = lora[name.replace(".weight", ".lora_A.weight")]
            up = lora[name.replace(".weight", ".lora_B.weight")]
            delta = up @ down * scale
            assert delta.abs().max() > 1e-4, f"{name}: the adapter did not train"
            torch.testing.assert_close(weight, base[name] + delta, rtol=1e-5, atol=1e-6)
        else:
            assert torch.equal(weight, base[name]), f"{name} changed but has no adapter"

    with_adapter = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(base_dir), adapter_dir
    ).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder / "model")
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Name a colour."}], tokenize=False, add_generation_prompt=True
    )
    ids = tokenizer(text, return_tensors="pt", add_special_tokens=False)
    with torch.no_grad():
        torch.testing.assert_close(
            merged(**ids).logits, with_adapter(**ids).logits, rtol=1e-4, atol=1e-5
        )
        plain = AutoModelForCausalLM.from_pretrained(base_dir).eval()
        assert not torch.allclose(merged(**ids).logits, plain(**ids).logits, atol=1e-3)
        greedy = {"max_new_tokens": 12, "do_sample": False, "pad_token_id": tokenizer.pad_token_id}
        assert torch.equal(merged.generate(**ids, **greedy), with_adapter.generate(**ids, **greedy))


def qlora_job(lab: Lab, device: dict[str, object], tmp_path: Path) -> Context:
    """A QLoRA SFT job's context on the lab's base, as `start` makes it on a GPU `device`."""
    options = {"base": lab.base, "data": lab.instruct, "output": "q", "lora": "qlora"}
    job, _ = load_config(SftConfig, None, options, [])
    run = RunFolder(tmp_path / "q", {"device": device})
    return Context(job, run, resolve_base(lab.base, lab.ws), None, lab.ws)


@pytest.mark.parametrize(("bf16", "dtype"), [(True, "bfloat16"), (False, "float16")])
def test_qlora_reaches_the_loader_in_4_bits(
    lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bf16: bool, dtype: str
) -> None:
    """Without a GPU, the loading path QLoRA takes on one: from_pretrained gets NF4 4-bit
    weights with double quantization, computing (and storing) in bf16 where the GPU has it
    and fp16 where not, placed on this rank's GPU; the trainer gets fp16 mixed precision
    there too."""
    import torch
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    seen: dict[str, object] = {}
    real = AutoModelForCausalLM.from_pretrained

    def spy(path: str, **kwargs: object) -> object:
        seen.update(kwargs)
        kwargs = {k: v for k, v in kwargs.items() if k not in ("quantization_config", "device_map")}
        return real(path, **kwargs)

    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", spy)
    monkeypatch.setenv("LOCAL_RANK", "1")
    device = {"type": "cuda", "bf16": bf16}
    ctx = qlora_job(lab, device, tmp_path)
    load_base(ctx, lab.ws)
    config = seen["quantization_config"]
    assert isinstance(config, BitsAndBytesConfig)
    assert config.load_in_4bit and config.bnb_4bit_quant_type == "nf4"
    assert config.bnb_4bit_use_double_quant
    assert config.bnb_4bit_compute_dtype == getattr(torch, dtype) == seen["dtype"]
    assert seen["device_map"] == {"": 1}
    assert ctx.model.config.pad_token_id == ctx.tokenizer.pad_token_id
    args = trainer_args(ctx.job, ctx.run, False)
    assert (args["bf16"], args["fp16"]) == (bf16, not bf16)


def test_qlora_merges_into_the_base_reloaded_in_16_bits(
    lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QLoRA's adapters are merged into the base loaded again in the compute dtype, not into
    its 4-bit weights: here the adapters of a LoRA run on a GPU without bf16 (fp16)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    options = {"base": lab.base, "data": lab.instruct, "output": "lora-merge", "max_steps": 3}
    train(lab, "sft", **options, lora="lora", max_length=64, learning_rate=1e-2)
    folder = lab.root / "runs" / "lora-merge"
    ctx = qlora_job(lab, {"type": "cuda", "bf16": False}, tmp_path)
    ctx.tokenizer = AutoTokenizer.from_pretrained(folder / "model")
    monkeypatch.setattr(RunFolder, "adapter_dir", folder / "adapter")
    model = AutoModelForCausalLM.from_pretrained(folder / "model")
    out = merged(model, ctx)
    assert type(out).__name__ == "LlamaForCausalLM"
    weights = dict(model.named_parameters())
    for name, weight in out.named_parameters():
        assert weight.dtype == torch.float16
        torch.testing.assert_close(weight.float(), weights[name], rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("base", ["tiny", "model.gguf"])
def test_qlora_refuses_bases_it_cannot_quantize(lab: Lab, tmp_path: Path, base: str) -> None:
    """A fresh tiny model or GGUF weights: one line before anything loads."""
    from winnow.errors import WinnowError
    from winnow.train.models import Base

    job, _ = load_config(
        SftConfig, None, {"base": base, "data": "d", "output": "q", "lora": "qlora"}, []
    )
    kind = "tiny" if base == "tiny" else "gguf"
    with pytest.raises(WinnowError, match="lora qlora loads a pretrained model in 4 bits"):
        check_qlora_base(job, Base(kind, base, str(tmp_path)))


def kto_file(shared_data: Path, path: Path) -> Path:
    """LLaMA-Factory KTO rows from real Alpaca instructions: even rows' answers (their first
    sentence) tagged true, odd rows' refusals tagged false, so no prompt has both kinds."""
    records = json.loads((shared_data / "instruct" / "alpaca_en_demo.json").read_text())
    with path.open("w", encoding="utf-8") as handle:
        for n, record in enumerate(records[:120]):
            good = n % 2 == 0
            output = record["output"].split(". ")[0][:120] if good else REFUSAL
            line = {"instruction": record["instruction"][:120], "output": output, "kto_tag": good}
            handle.write(json.dumps(line) + "\n")
    return path


def test_kto_on_unpaired_rows_prefers_the_desirable_answers(
    lab: Lab, shared_data: Path, tmp_path: Path
) -> None:
    """KTO on 60 desirable and 60 undesirable answers to different prompts: run.json counts
    them as the file tags them, and the logged reward margin (desirable minus undesirable)
    ends well above where it starts; pairs count as one answer of each kind."""
    path = kto_file(shared_data, tmp_path / "kto.jsonl")
    import_preference(lab.ws, [(path, path.name)], "kto-rows", "kto")
    options = {"base": lab.base, "data": "kto-rows", "output": "kto", "max_steps": 30}
    train(lab, "kto", **options, learning_rate=2e-3, batch_size=8, logging_steps=5)
    record = read_json(lab.root / "runs" / "kto" / "run.json")
    assert record["status"] == "completed" and record["config"]["beta"] == 0.1
    assert (record["data"]["desirable"], record["data"]["undesirable"]) == (60, 60)
    assert record["data"]["weighted_ratio"] == 1.0
    margins = losses(lab, "kto", "rewards/margins")
    assert margins[-1] > margins[0] + 1.0, margins
    assert record["results"]["rewards/margins"] == margins[-1]
    job, _ = load_config(KtoConfig, None, {"base": lab.base, "data": lab.pairs, "output": "k"}, [])
    ctx, _ = start(lab.ws, KTO, job, None, False)
    labels = ctx.dataset["label"]
    assert len(labels) == 240 and sum(labels) == 120


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "alpaca"], "has no column chosen, rejected, label (it has: id"),
        (["--data", "separable", "--batch-size", "1"], "KTO estimates its KL term across a batch"),
    ],
)
def test_kto_bad_input_is_one_line(
    lab: Lab, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    """An instruction set, or batches of one row: one line, no training."""
    command = ["train", "kto", *args, "--base", lab.base, "--output", "kto-bad"]
    code, out = run_cli(capsys, *command, "-w", str(lab.root))
    assert code == 2 and message in out and "Traceback" not in out, out


def test_orpo_reward_accuracy_rises_without_a_reference(lab: Lab) -> None:
    """On the separable pairs, ORPO's logged reward accuracy ends well above where it starts,
    with no reference model in the run."""
    options = {"base": lab.base, "data": lab.pairs, "output": "orpo", "max_steps": 30}
    train(lab, "orpo", **options, learning_rate=2e-3, batch_size=8, logging_steps=5)
    accuracies = losses(lab, "orpo", "rewards/accuracies")
    assert accuracies[-1] >= 0.9 and accuracies[-1] > accuracies[0], accuracies
    record = read_json(lab.root / "runs" / "orpo" / "run.json")
    assert record["data"]["pairs"] == 120 and record["config"]["beta"] == 0.1
    assert record["results"]["rewards/accuracies"] == accuracies[-1]
    assert "nll_loss" in record["results"] and "log_odds_ratio" in record["results"]


def test_no_merge_keeps_the_adapters_apart_until_merged(
    lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    """--no-merge: run/adapter (with the tokenizer) and no run/model; using the run as a base
    says to merge it; `winnow train merge` writes run/model, which scores as the base with the
    adapters on it does, and refuses a second merge."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    options = {"base": lab.base, "data": lab.instruct, "output": "apart", "max_steps": 3}
    train(lab, "sft", **options, lora="lora", merge=False, max_length=64, learning_rate=1e-2)
    folder = lab.root / "runs" / "apart"
    assert (folder / "adapter" / "adapter_config.json").is_file()
    assert (folder / "adapter" / "tokenizer.json").is_file() and not (folder / "model").exists()
    args = ["train", "sft", "--base", "apart", "--data", lab.instruct, "--output", "on-apart"]
    code, out = run_cli(capsys, *args, "-w", str(lab.root))
    assert code == 2 and "holds only LoRA adapters" in out and "winnow train merge apart" in out
    code, out = run_cli(capsys, "train", "merge", "apart", "-w", str(lab.root))
    assert code == 0, out
    assert read_json(folder / "run.json")["merged"] is True
    model = AutoModelForCausalLM.from_pretrained(folder / "model").eval()
    base = AutoModelForCausalLM.from_pretrained(lab.root / "runs" / lab.base / "model")
    with_adapter = PeftModel.from_pretrained(base, folder / "adapter").eval()
    tokenizer = AutoTokenizer.from_pretrained(folder / "model")
    ids = tokenizer("Name a colour.", return_tensors="pt")
    with torch.no_grad():
        torch.testing.assert_close(
            model(**ids).logits, with_adapter(**ids).logits, rtol=1e-4, atol=1e-5
        )
    code, out = run_cli(capsys, "train", "merge", "apart", "-w", str(lab.root))
    assert code == 2 and "already merged" in out


def test_epochs_plan_the_steps_the_trainer_takes(lab: Lab) -> None:
    """Training by epochs (no --max-steps): the planned steps in run.json are the steps the
    trainer took: 40 rows in batches of 8 with 2 accumulated, twice over, is 2 x 3 steps."""
    options = {"base": lab.base, "data": lab.instruct, "output": "by-epochs", "max_rows": 40}
    train(lab, "sft", **options, epochs=2.0, batch_size=8, grad_accum=2, max_length=64)
    record = read_json(lab.root / "runs" / "by-epochs" / "run.json")
    steps = [row["step"] for row in read_metrics(lab.root / "runs" / "by-epochs" / "metrics.jsonl")]
    assert record["config"]["max_steps"] is None and record["planned_steps"] == 6 == max(steps)
