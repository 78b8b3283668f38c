"""Exports for training tools: TRL's columns, LLaMA-Factory's files, Hugging Face datasets.

What a split holds is read from its columns: preference pairs (`prompt`, `chosen`,
`rejected`), instruction rows (`instruction`, `output`) or documents (`text`).
- `trl`: preference pairs as `prompt`/`chosen`/`rejected`, instruction rows as conversational
  `prompt`/`completion` (and `messages`), documents as `text`; .jsonl or .parquet.
- `llama-factory`: a JSON list in LLaMA-Factory's alpaca layout (preference pairs with
  `chosen`/`rejected` and `ranking`), and its entry in `dataset_info.json` beside the file,
  merged into one that is already there.
- `hf`: a `datasets.Dataset.save_to_disk` folder that `datasets.load_from_disk` reads.

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
    """The user message of an instruction row: the instruction, then its input if any."""
    given = pl.col("input").fill_null("") if "input" in frame.columns else pl.lit("")
    content = pl.when(given != "").then(pl.col("instruction") + "\n\n" + given)
    return content.otherwise(pl.col("instruction"))


def _message(role: str, content: pl.Expr) -> pl.Expr:
    """A one-message list in the chat layout TRL reads."""
    return pl.concat_list(pl.struct(pl.lit(role).alias("role"), content.alias("content")))


def trl_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The columns TRL's trainers read, for what the split holds."""
    kind = kind_of(frame)
    if kind == "preference":
        return frame.select("prompt", "chosen", "rejected")
    if kind == "documents":
        return frame.select("text")
    if {"prompt", "completion"} <= set(frame.columns):
        return frame.select("prompt", "completion")
    return frame.select(
        _message("user", _user_turn(frame)).alias("prompt"),
        _message("assistant", pl.col("output")).alias("completion"),
    )


def _last_content(messages: pl.Expr) -> pl.Expr:
    """The content of the last message in a list of messages (or the text, if plain)."""
    return messages.list.last().struct.field("content")


def llama_factory_rows(frame: pl.DataFrame) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows in LLaMA-Factory's alpaca layout and the `columns`/`ranking` of their entry."""
    kind = kind_of(frame)
    if kind == "documents":
        return frame.select("text").to_dicts(), {"columns": {"prompt": "text"}}
    if kind == "preference":
        rows = frame.select(
            _last_content(pl.col("prompt")).alias("instruction"),
            _last_content(pl.col("chosen")).alias("chosen"),
            _last_content(pl.col("rejected")).alias("rejected"),
        ).to_dicts()
        columns = {"prompt": "instruction", "chosen": "chosen", "rejected": "rejected"}
        return rows, {"ranking": True, "columns": columns}
    keep = [c for c in ("instruction", "input", "output", "system", "history") if c in frame]
    columns = {"prompt": "instruction", "query": "input", "response": "output"}
    columns |= {"system": "system", "history": "history"}
    return frame.select(keep).to_dicts(), {
        "columns": {k: v for k, v in columns.items() if v in keep}
    }


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
