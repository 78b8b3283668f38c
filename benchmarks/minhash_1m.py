"""Peak memory of `minhash_dedup` over one million 1 KB documents: must stay within 6 GB RSS.

Cuts the real web documents in ../shared/data/web into 500-character halves and joins two
halves into each document, a different pair every time (documents that share one half are
about a third alike, far below the threshold); every tenth document repeats the one five
before it with one word changed, a planted near-copy. Runs `winnow curate run` with a
one-step recipe in a child process and samples its RSS every 50 ms (memory_2gb.peak_rss).

    .venv/bin/python benchmarks/minhash_1m.py [--documents 1000000] [--keep]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from memory_2gb import peak_rss, seed_documents


def build_corpus(path: Path, documents: int) -> int:
    """Write `documents` JSONL rows of about 1 KB each; return the planted near-copies."""
    halves = [
        doc["text"][k : k + 500]
        for doc in seed_documents()
        for k in range(0, len(doc["text"]) - 250, 500)
    ]
    n = len(halves)
    planted = 0
    with path.open("w", encoding="utf-8") as out:
        for i in range(documents):
            j = i - 5 if i % 10 == 9 else i
            text = halves[j % n] + " " + halves[(j // n * 7 + 1 + j) % n]
            if j != i:
                text = text.replace(" ", " the ", 1)
                planted += 1
            out.write(json.dumps({"id": f"d{i}", "text": text}) + "\n")
    return planted


def main() -> None:
    """Build the corpus, dedup it, print peak RSS against the 6 GB bound."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="Keep the corpus and workspace.")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="winnow-minhash-1m-"))
    corpus, recipe = folder / "corpus.jsonl", folder / "fuzzy.yaml"
    planted = build_corpus(corpus, args.documents)
    recipe.write_text("steps:\n  - step: minhash_dedup\n", encoding="utf-8")
    winnow = Path(sys.executable).with_name("winnow")
    command = [str(winnow), "curate", "run", str(recipe), "--source", str(corpus)]
    command += ["--output", "fuzzy", "--workspace", str(folder / "ws")]
    peak, seconds, code = peak_rss(command)
    manifest = json.loads(
        (folder / "ws" / "datasets" / "fuzzy" / "v1" / "manifest.json").read_text()
    )
    removed = manifest["counts"]["rejected"]
    print(
        f"corpus: {args.documents:,} documents, {corpus.stat().st_size / 1e9:.2f} GB, "
        f"{planted:,} planted near-copies"
    )
    print(
        f"minhash_dedup: exit {code}, {seconds:.0f} s, {args.documents / seconds:,.0f} docs/s, "
        f"{removed:,} removed, peak RSS {peak / 1024**3:.2f} GiB "
        f"({'within' if peak <= 6 * 1024**3 else 'OVER'} the 6 GB bound)"
    )
    if not args.keep:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
