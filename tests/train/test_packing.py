"""SFT packing with bins kept as rows: sequences stay apart, and tokens are counted right."""

from __future__ import annotations

import pytest
import torch

from tests.train.conftest import Lab, train
from winnow.files import read_json
from winnow.train import sft
from winnow.train.config import SftConfig, load_config
from winnow.train.methods import SFT
from winnow.train.packing import RowPackedCollator
from winnow.train.runner import start
from winnow.train.runs import read_metrics


def test_packed_sequences_do_not_see_each_other(lab: Lab) -> None:
    """Two real rows packed into one bin give the same logits as each row alone."""
    options = {"base": lab.base, "data": lab.instruct, "output": "pack-mask", "max_rows": 8}
    job, _ = load_config(SftConfig, None, {**options, "packing": True}, [])
    ctx, _ = start(lab.ws, SFT, job, None, False)
    model = ctx.model.eval()
    texts = [row["completion"][0]["content"] for row in ctx.dataset.select(range(2))]
    first, second = (ctx.tokenizer(t)["input_ids"][:40] for t in texts)
    collator = RowPackedCollator(pad_token_id=ctx.tokenizer.pad_token_id, return_position_ids=True)
    batch = collator(
        [
            {"input_ids": first + second, "seq_lengths": [len(first), len(second)]},
            {"input_ids": second, "seq_lengths": [len(second)]},
        ]
    )
    assert "attention_mask" not in batch
    assert int(batch.pop("packed_tokens")) == len(first) + 2 * len(second)
    with torch.no_grad():
        packed = model(**{k: v for k, v in batch.items() if k != "labels"}).logits
        alone = [model(input_ids=torch.tensor([ids])).logits[0] for ids in (first, second)]
    assert torch.allclose(packed[0, : len(first)], alone[0], atol=1e-4)
    assert torch.allclose(packed[0, len(first) : len(first) + len(second)], alone[1], atol=1e-4)
    assert torch.allclose(packed[1, : len(second)], alone[1], atol=1e-4)


def test_packed_sft_trains_on_dense_rows_and_counts_real_tokens(lab: Lab) -> None:
    """--packing on sdpa puts several rows in each bin, records the mode, and num_tokens is
    the real tokens the steps saw, not one row's length per step."""
    options = {"base": lab.base, "data": lab.instruct, "max_rows": 64, "packing": True}
    job, _ = load_config(SftConfig, None, {**options, "output": "bins", "max_length": 128}, [])
    ctx, _ = start(lab.ws, SFT, job, None, False)
    prepared = sft.prepare(ctx)
    bins = prepared.trainer.train_dataset
    assert prepared.data["packing"] == "bins as rows"
    assert len(bins) < 64 and max(len(s) for s in bins["seq_lengths"]) > 1
    train(lab, "sft", **options, output="packed", max_length=128, max_steps=4, batch_size=4)
    record = read_json(lab.root / "runs" / "packed" / "run.json")
    assert record["data"]["packing"] == "bins as rows"
    tokens = max(
        r["num_tokens"]
        for r in read_metrics(lab.root / "runs" / "packed" / "metrics.jsonl")
        if "num_tokens" in r
    )
    lengths = sorted((sum(s) for s in bins["seq_lengths"]), reverse=True)
    assert tokens > 4 * 128
    assert tokens <= 4 * 4 * 128 and tokens >= 4 * 4 * min(lengths)


@pytest.mark.parametrize(("max_length", "packed"), [(2048, True), (128, False)])
def test_packing_left_out_is_on_where_bins_hold_two_rows(
    lab: Lab, max_length: int, packed: bool
) -> None:
    """Without --packing/--no-packing, rows are packed when the median row is at most half of
    max_length (row lengths here from TRL's own tokenization, uncut), and the reason is
    recorded."""
    import statistics

    options = {"base": lab.base, "data": lab.instruct, "max_rows": 40}
    whole = {**options, "output": f"uncut-{max_length}", "max_length": 4096, "packing": False}
    job, _ = load_config(SftConfig, None, whole, [])
    ctx, _ = start(lab.ws, SFT, job, None, False)
    lengths = [len(ids) for ids in sft.prepare(ctx).trainer.train_dataset["input_ids"]]
    assert (2 * statistics.median(lengths) <= max_length) == packed
    chosen = {**options, "output": f"auto-{max_length}", "max_length": max_length}
    job, _ = load_config(SftConfig, None, chosen, [])
    ctx, _ = start(lab.ws, SFT, job, None, False)
    prepared = sft.prepare(ctx)
    assert ctx.job.packing is packed
    assert prepared.data["packing"] == ("bins as rows" if packed else "none")
    assert prepared.data["packing_rule"].startswith("median of 40 rows")
