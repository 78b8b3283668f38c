"""Exports for training tools: TRL's columns, LLaMA-Factory's files, Hugging Face datasets.

What a split holds is read from its columns: preference rows (`prompt`, `chosen`,
`rejected`, and for unpaired KTO rows `completion`, `label`), instruction rows (`instruction`,
`output`) or documents (`text`).
- `trl`: preference pairs as `prompt`/`chosen`/`rejected` (and `margin` when rated), unpaired
  rows as `prompt`/`completion`/`label`, instruction rows as conversational
  `prompt`/`completion`, documents as `text`; .jsonl or .parquet.
- `llama-factory`: a JSON list in LLaMA-Factory's alpaca layout (preference pairs with
  `chosen`/`rejected` and `ranking`, unpaired rows with `output` and `kto_tag`; the system
  prompt and earlier turns as `system` and `history`), and its entry in `dataset_info.json`
  beside the file, merged into one that is already there.
- `hf`: a `datasets.Dataset.save_to_disk` folder that `datasets.load_from_disk` reads.

Both preference layouts are ones `winnow curate preference` reads back (`trl`, `alpaca-dpo`,
`kto`) into the same rows. A split mixing paired and unpaired rows, or a row the layout cannot
hold as it is, is refused with one line rather than written partly.

Every format but `llama-factory` (which merges into a `dataset_info.json` beside its file)
may be written to an object-storage URL: it is written to a local temporary file or folder
first and then uploaded (`winnow.remote`), so a failed export leaves no half-written object.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import Any

import polars as pl

from winnow import remote
from winnow.errors import WinnowError
from winnow.files import write_json

FORMATS = ("plain", "trl", "llama-factory", "hf")
SUFFIXES = {
    "plain": (".parquet", ".jsonl"),
    "trl": (".parquet", ".jsonl"),
    "llama-factory": (".json",),
}
"""The file names each file format writes; `hf` writes a folder."""
MESSAGES = pl.List(pl.Struct({"role": pl.String, "content": pl.String}))
NESTED = {
    "messages": MESSAGES,
    "prompt": MESSAGES,
    "completion": MESSAGES,
    "chosen": MESSAGES,
    "rejected": MESSAGES,
    "history": pl.List(pl.List(pl.String)),
}
"""Columns a dataset version stores as JSON text (nested fields), and their real types."""


def check_output(fmt: str, output: str) -> None:
    """Refuse an output name (path or URL) that the format cannot write, before any work."""
    if fmt not in FORMATS:
        raise WinnowError(f"--format '{fmt}' is unknown; use one of: {', '.join(FORMATS)}.")
    if fmt == "llama-factory" and remote.is_remote(output):
        raise WinnowError(
            f"--output {output}: llama-factory merges its entry into a dataset_info.json beside "
            "the file, which needs a local folder; export there and copy both files."
        )
    wanted = SUFFIXES.get(fmt)
    if wanted is None or PurePosixPath(output).suffix.lower() in wanted:
        return
    if fmt == "llama-factory":
        raise WinnowError(f"--output {output}: LLaMA-Factory reads a .json file; name it so.")
    raise WinnowError(f"--output {output}: expected a name ending in .parquet or .jsonl.")


def decoded(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with its nested columns parsed back from the JSON text they are stored as."""
    return frame.with_columns(
        pl.col(c).str.json_decode(NESTED[c])
        for c in frame.columns
        if c in NESTED and frame.schema[c] == pl.String
    )


def kind_of(frame: pl.DataFrame) -> str:
    """preference, instruct or documents, from the columns a split has."""
    if {"prompt", "chosen", "rejected"} <= set(frame.columns):
        return "preference"
    if {"instruction", "output"} <= set(frame.columns):
        return "instruct"
    return "documents"


def _user_turn(frame: pl.DataFrame) -> pl.Expr:
    """The user message of an instruction row: the instruction, then its input (if any) on the
    next line, as the instruct renders and LLaMA-Factory build it."""
    given = pl.col("input").fill_null("") if "input" in frame.columns else pl.lit("")
    content = pl.when(given != "").then(pl.col("instruction") + "\n" + given)
    return content.otherwise(pl.col("instruction"))


def _message(role: str, content: pl.Expr) -> pl.Expr:
    """A one-message list in the chat layout TRL reads."""
    return pl.concat_list(pl.struct(pl.lit(role).alias("role"), content.alias("content")))


def preference_kind(frame: pl.DataFrame) -> str:
    """`paired` or `unpaired` (KTO) for a preference split; a split holding both is refused,
    since TRL and LLaMA-Factory read one kind per dataset."""
    unpaired = frame["label"].is_not_null().sum() if "label" in frame.columns else 0
    paired = frame.height - unpaired
    if paired and unpaired:
        raise WinnowError(
            f"the split holds {paired:,} paired and {unpaired:,} unpaired (KTO) rows, and a "
            "training tool reads one kind per dataset; import the paired and unpaired files "
            "as two datasets, or export --format plain."
        )
    return "unpaired" if unpaired else "paired"


def has_margin(frame: pl.DataFrame) -> bool:
    """Whether any row carries a margin (rated pairs), which TRL's reward trainer reads."""
    return "margin" in frame.columns and frame["margin"].is_not_null().any()


def trl_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The columns TRL's trainers read, for what the split holds."""
    kind = kind_of(frame)
    if kind == "preference":
        if preference_kind(frame) == "unpaired":
            return frame.select("prompt", "completion", "label")
        extra = ["margin"] if has_margin(frame) else []
        return frame.select("prompt", "chosen", "rejected", *extra)
    if kind == "documents":
        return frame.select("text")
    if {"prompt", "completion"} <= set(frame.columns):
        return frame.select("prompt", "completion")
    return frame.select(
        _message("user", _user_turn(frame)).alias("prompt"),
        _message("assistant", pl.col("output")).alias("completion"),
    )


def alpaca_prompt(row: dict[str, Any]) -> dict[str, Any]:
    """A prompt as LLaMA-Factory's `instruction`, `system` and `history` [user, assistant]
    pairs; one that is not an optional system then alternating turns ending with the user is
    refused with its id."""
    messages = row["prompt"] or []
    roles = [m["role"] for m in messages]
    has_system = roles[:1] == ["system"]
    system = messages[0]["content"] if has_system else ""
    turns = messages[1:] if has_system else messages
    expected = ["user", "assistant"] * (len(turns) // 2) + ["user"]
    if [m["role"] for m in turns] != expected:
        raise WinnowError(
            f"row {row['id']}: its prompt ({', '.join(roles) or 'empty'}) is not an optional "
            "system message then user and assistant turns ending with the user, which "
            "LLaMA-Factory's alpaca layout needs; export --format trl or plain instead."
        )
    history = [[turns[i]["content"], turns[i + 1]["content"]] for i in range(0, len(turns) - 1, 2)]
    return {"instruction": turns[-1]["content"], "system": system, "history": history}


def alpaca_answer(row: dict[str, Any], side: str) -> str:
    """The text of an answer side, which LLaMA-Factory holds as one assistant message."""
    messages = row[side] or []
    if len(messages) != 1 or messages[0]["role"] != "assistant":
        raise WinnowError(
            f"row {row['id']}: its {side} side is {len(messages)} message(s), not one assistant "
            "answer, which LLaMA-Factory's alpaca layout needs; export --format trl or plain "
            "instead."
        )
    return messages[0]["content"]


def llama_factory_preference(frame: pl.DataFrame) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Preference rows in LLaMA-Factory's alpaca layout with system and history kept: pairs as
    `chosen`/`rejected` (`ranking: true`), unpaired rows as `output` with `kto_tag`."""
    unpaired = preference_kind(frame) == "unpaired"
    sides = ("completion", "label") if unpaired else ("chosen", "rejected")
    rows = []
    for row in frame.select("id", "prompt", *sides).iter_rows(named=True):
        out = alpaca_prompt(row)
        if unpaired:
            out |= {"output": alpaca_answer(row, "completion"), "kto_tag": row["label"]}
        else:
            out |= {side: alpaca_answer(row, side) for side in ("chosen", "rejected")}
        rows.append(out)
    columns = {"prompt": "instruction", "system": "system", "history": "history"}
    if unpaired:
        return rows, {"columns": columns | {"response": "output", "kto_tag": "kto_tag"}}
    return rows, {
        "ranking": True,
        "columns": columns | {"chosen": "chosen", "rejected": "rejected"},
    }


def llama_factory_rows(frame: pl.DataFrame) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows in LLaMA-Factory's alpaca layout and the `columns`/`ranking` of their entry."""
    kind = kind_of(frame)
    if kind == "documents":
        return frame.select("text").to_dicts(), {"columns": {"prompt": "text"}}
    if kind == "preference":
        return llama_factory_preference(frame)
    keep = [c for c in ("instruction", "input", "output", "system", "history") if c in frame]
    columns = {"prompt": "instruction", "query": "input", "response": "output"}
    columns |= {"system": "system", "history": "history"}
    return frame.select(keep).to_dicts(), {
        "columns": {k: v for k, v in columns.items() if v in keep}
    }


def export_notes(frame: pl.DataFrame, fmt: str) -> list[str]:
    """What an export leaves out that the split holds, one line each, for the command to say."""
    if fmt == "llama-factory" and kind_of(frame) == "preference" and has_margin(frame):
        count = frame["margin"].is_not_null().sum()
        return [
            f"margin ({count:,} rows) is not written: LLaMA-Factory's layout has no margin "
            "column; --format trl or plain keeps it."
        ]
    return []


def write_llama_factory(frame: pl.DataFrame, output: Path, name: str) -> Path:
    """Write the JSON list and add its entry to dataset_info.json beside it."""
    rows, entry = llama_factory_rows(frame)
    output.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    info_path = output.with_name("dataset_info.json")
    info = json.loads(info_path.read_text(encoding="utf-8")) if info_path.exists() else {}
    info[name] = {"file_name": output.name, **entry}
    write_json(info, info_path)
    return info_path


def write_trl(frame: pl.DataFrame, output: Path) -> None:
    """Write TRL's columns as JSON Lines or Parquet, by the file's suffix."""
    columns = trl_frame(frame)
    if output.suffix.lower() == ".parquet":
        columns.write_parquet(output)
    else:
        columns.write_ndjson(output)


def write_hf(frame: pl.DataFrame, output: Path) -> None:
    """Save the split as a Hugging Face dataset folder."""
    from datasets import Dataset

    if output.exists() and any(output.iterdir()):
        raise WinnowError(f"--output {output} is a folder with files; give a new folder.")
    Dataset(frame.to_arrow()).save_to_disk(str(output))
