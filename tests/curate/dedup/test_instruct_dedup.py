"""exact_dedup and minhash_dedup pointed at the instruction column of real instruction rows."""

import json
from pathlib import Path

import polars as pl
import pytest

from tests.curate.judge import decide_global
from winnow.curate.steps import build_step
from winnow.errors import WinnowError


def rows(shared_data: Path, name: str) -> pl.DataFrame:
    """A real file's rows with a row key and the answer as `text`, as a global step sees them."""
    data = json.loads((shared_data / "instruct" / name).read_text(encoding="utf-8"))
    df = pl.DataFrame(data).select("instruction", "output")
    return df.with_columns(id=pl.int_range(pl.len()).cast(pl.Utf8), text=pl.col("output"))


def removed(spec: dict, df: pl.DataFrame) -> pl.DataFrame:
    """Decide over one shard, returning the rows judged duplicates."""
    decided = decide_global(build_step(spec, "recipe.yaml"), [df])
    return decided.filter(pl.col("reason").is_not_null()).join(
        df.with_row_index("__row"),
        on="__row",
    )


def test_exact_dedup_on_instructions(shared_data: Path) -> None:
    """OpenAssistant-zh asks the same thing many times ('谢谢' four times): 244 of 689 rows
    repeat an earlier instruction, while only 6 repeat an earlier answer."""
    df = rows(shared_data, "oaast_sft_zh.json")
    out = removed({"step": "exact_dedup", "column": "instruction"}, df)
    assert out.height == 244
    assert out.filter(pl.col("instruction") == "谢谢").height == 3
    assert removed({"step": "exact_dedup"}, df).height == 6


def test_minhash_dedup_on_instructions(shared_data: Path) -> None:
    """Near-copies of instructions are found on the instruction column."""
    df = rows(shared_data, "lima.json").head(200)
    planted = df.head(1).with_columns(
        id=pl.lit("planted"), instruction=pl.col("instruction") + " Thanks!", text=pl.lit("new")
    )
    both = pl.concat([df, planted])
    out = removed({"step": "minhash_dedup", "column": "instruction", "threshold": 0.7}, both)
    assert "planted" in out["id"].to_list()
    assert "planted" not in removed({"step": "minhash_dedup"}, both)["id"].to_list()
    oasst = rows(shared_data, "oaast_sft_zh.json")
    assert removed({"step": "minhash_dedup", "column": "instruction"}, oasst).height == 245


@pytest.mark.parametrize("name", ["exact_dedup", "minhash_dedup"])
def test_missing_column_fails_in_one_line(name: str) -> None:
    """A column the rows lack is named in one line."""
    step = build_step({"step": name, "column": "prompt"}, "recipe.yaml")
    with pytest.raises(WinnowError, match="no column 'prompt'") as info:
        step.score(pl.DataFrame({"id": ["a"], "text": ["hello world"]}))
    assert "\n" not in str(info.value)
