"""Training jobs on the CPU with tiny models: masks, falling loss, DPO, reward, resume, lineage."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from tests.cli_helpers import run_cli
from tests.train.conftest import Lab, train
from winnow.files import read_json
from winnow.train import sft
from winnow.train.config import SftConfig, load_config
from winnow.train.methods import SFT
from winnow.train.runner import start
from winnow.train.runs import read_metrics


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


def test_best_of_n_writes_two_sets_with_lineage(
    lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    """Sampling 4 answers for 6 prompts: samples kept, a preference set and a best set whose
    manifests name the prompts, the policy and the reward model."""
    train(lab, "reward", base=lab.base, data=lab.pairs, output="rm-bon", max_steps=5)
    args = ["train", "sample", "--policy", lab.base, "--reward", "rm-bon", "--prompts"]
    extra = ["--n", "4", "--max-prompts", "6", "--max-new-tokens", "12", "-w", str(lab.root)]
    code, out = run_cli(capsys, *args, lab.instruct, "--output", "bon", *extra)
    assert code == 0, out
    samples = (lab.root / "runs" / "bon" / "samples.jsonl").read_text().splitlines()
    assert len(samples) == 6
    assert all(len(json.loads(line)["answers"]) == 4 for line in samples)
    pairs = lab.ws.dataset("bon-pairs")
    best = lab.ws.dataset("bon-best")
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
    first = json.loads(samples[0])
    ratings = [a["rating"] for a in first["answers"]]
    kept = pl.read_parquet(pairs.path / "kept" / "*.parquet")
    if kept.height:
        row = kept.row(0, named=True)
        assert row["chosen"] != row["rejected"]
        assert row["margin"] > 0
    assert len(ratings) == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sft", "--data", "web"], "has no column prompt, completion"),
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


def test_lora_sft_trains_adapters_and_saves_a_merged_model(lab: Lab) -> None:
    """LoRA: few trainable parameters, and run/model loads as a plain causal LM."""
    from transformers import AutoModelForCausalLM

    options = {"base": lab.base, "data": lab.instruct, "output": "lora", "max_steps": 3}
    train(lab, "sft", **options, lora="lora", max_length=64)
    record = read_json(lab.root / "runs" / "lora" / "run.json")
    assert record["model"]["trainable_parameters"] < record["model"]["parameters"] / 10
    model = AutoModelForCausalLM.from_pretrained(lab.root / "runs" / "lora" / "model")
    assert type(model).__name__ == "LlamaForCausalLM"


def test_generate_answers_with_the_chat_template(
    lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    """`winnow generate` samples n answers from a run with the sampling controls."""
    args = ["generate", "--model", lab.base, "--prompt", "Name a colour.", "--n", "2"]
    code, out = run_cli(capsys, *args, "--max-new-tokens", "8", "--top-k", "5", "-w", str(lab.root))
    assert code == 0, out
    assert "answer 1" in out and "answer 2" in out
    code, out = run_cli(capsys, *args, "--top-p", "0", "-w", str(lab.root))
    assert code == 2 and "--top-p 0.0" in out
