"""What the shipped `web-ko` recipe does to the Korean files in ../shared/data/korean.

Runs `winnow curate run web-ko` (a child process each, a fresh workspace) on the news
comments (a comment per line), the constitution (a line per document), the hate-speech
comments (the `comments` column) and ChatbotData's questions (the `Q` column), and prints per
file the rows read, kept, removed by step and reason, and the wall time. Then it repeats the
mixture example of docs/curate.md on the same workspace: the c4 demo curated with `web-en` as
`c4`, the news comments curated with `comments-ko` as `ko`, mixed 70/30 by documents and by
LLaMA tokens, and counts the characters and LLaMA tokens of the Korean rows of the documents
mix.

    .venv/bin/python benchmarks/korean_recipes.py [--keep]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
KOREAN = SHARED / "korean"
FILES = [
    ("news_comments.txt.gz", ["--text-mode", "line"]),
    ("constitution.txt", ["--text-mode", "line"]),
    ("hate_speech_train.tsv", ["--text-field", "comments"]),
    ("ChatbotData.csv", ["--text-field", "Q"]),
]


def winnow(*args: str, workspace: Path) -> tuple[str, float]:
    """Run the winnow command in a child process; its output and wall seconds."""
    command = [str(Path(sys.executable).with_name("winnow")), *args, "--workspace", str(workspace)]
    start = time.perf_counter()
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return done.stdout, time.perf_counter() - start


def manifest(workspace: Path, name: str, version: int = 1) -> dict:
    """A dataset version's manifest."""
    path = workspace / "datasets" / name / f"v{version}" / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8"))


def curate(workspace: Path) -> None:
    """web-ko on each Korean file: counts per step and reason."""
    print("| file | read | kept | removed by step (reason: rows) | wall s |")
    print("|---|---:|---:|---|---:|")
    for name, options in FILES:
        output = name.split(".")[0].replace("_", "-").lower()
        source = str(KOREAN / name)
        _, seconds = winnow(
            "curate", "run", "web-ko", "--source", source, "--output", output, *options,
            workspace=workspace,
        )  # fmt: skip
        m = manifest(workspace, output)
        removed = [
            f"{s['step']} ({', '.join(f'{r}: {n:,}' for r, n in s['removed'].items())})"
            for s in m["steps"]
            if s.get("removed")
        ]
        counts = m["counts"]
        print(
            f"| {name} | {counts['input']:,} | {counts['kept']:,} | {'; '.join(removed)} "
            f"| {seconds:.1f} |"
        )


def mix(workspace: Path) -> None:
    """The mixture example of docs/curate.md, and the Korean rows' characters and tokens."""
    import polars as pl
    from tokenizers import Tokenizer

    llama = SHARED / "tokenizers" / "llama-tokenizer.json"
    winnow(
        "curate", "run", "web-en", "--source", str(SHARED / "web" / "c4_demo.jsonl"),
        "--output", "c4", workspace=workspace,
    )  # fmt: skip
    winnow(
        "curate", "run", "comments-ko", "--source", str(KOREAN / "news_comments.txt.gz"),
        "--text-mode", "line", "--output", "ko", workspace=workspace,
    )  # fmt: skip
    print(f"\nc4: {manifest(workspace, 'c4')['counts']['kept']:,} kept; ", end="")
    print(f"ko: {manifest(workspace, 'ko')['counts']['kept']:,} kept")
    out, _ = winnow(
        "curate", "mix", "--input", "c4:0.7", "--input", "ko:0.3", "--budget", "1k docs",
        "--output", "web-mix", workspace=workspace,
    )  # fmt: skip
    print("\n$ winnow curate mix --input c4:0.7 --input ko:0.3 --budget '1k docs' --output web-mix")
    print(out.rstrip())
    out, _ = winnow(
        "curate", "mix", "--input", "c4:0.7", "--input", "ko:0.3", "--budget", "200k tokens",
        "--tokenizer", str(llama), "--output", "web-mix", workspace=workspace,
    )  # fmt: skip
    print("\n$ winnow curate mix --input c4:0.7 --input ko:0.3 --budget '200k tokens' \\")
    print("    --tokenizer ../shared/data/tokenizers/llama-tokenizer.json --output web-mix")
    print(out.rstrip())
    rows = pl.read_parquet(workspace / "datasets" / "web-mix" / "v1" / "kept" / "*.parquet")
    korean = rows.filter(pl.col("mix_source").str.starts_with("ko"))["text"].to_list()
    chars = sum(map(len, korean))
    quarter = sum(-(-len(t) // 4) for t in korean)
    tokens = sum(
        len(e.ids)
        for e in Tokenizer.from_file(str(llama)).encode_batch(korean, add_special_tokens=False)
    )
    print(
        f"\nThe {len(korean)} Korean comments of web-mix v1 hold {chars:,} characters: "
        f"{quarter:,} tokens by characters/4, {tokens:,} by the LLaMA tokenizer."
    )


def main() -> None:
    """Curate each file, then the mixture example; print Markdown."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the workspace")
    args = parser.parse_args()
    workspace = Path(tempfile.mkdtemp(prefix="winnow-korean-"))
    curate(workspace)
    mix(workspace)
    if args.keep:
        print(f"\nworkspace: {workspace}")
    else:
        shutil.rmtree(workspace)


if __name__ == "__main__":
    main()
