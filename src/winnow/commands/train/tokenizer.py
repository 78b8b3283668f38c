"""`winnow train tokenizer`: a tokenizer trained on a dataset's text."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from winnow.commands.options import WorkspaceOption, new_table
from winnow.console import console


def tokenizer(
    data: Annotated[
        str,
        typer.Option(
            help="Dataset NAME or NAME@VERSION (its kept rows), or any source 'curate run' "
            "reads: file, folder, glob, catalog name."
        ),
    ],
    algo: Annotated[
        str,
        typer.Option(
            help="bpe (GPT-2 byte-level, any text round-trips), wordpiece (BERT) or unigram "
            "(SentencePiece-like)."
        ),
    ],
    vocab_size: Annotated[int, typer.Option(help="Tokens in the vocabulary, specials included.")],
    output: Annotated[Path, typer.Option(help="New folder for the tokenizer files.")],
    min_frequency: Annotated[
        int,
        typer.Option(help="Fewest occurrences for a merge (bpe, wordpiece; unigram prunes)."),
    ] = 2,
    special_tokens: Annotated[
        list[str] | None,
        typer.Option(
            "--special-tokens",
            help="Extra special tokens after the algorithm's own; repeat the option for more.",
        ),
    ] = None,
    max_docs: Annotated[
        int | None, typer.Option(help="Train on at most the first N documents.")
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Train a tokenizer on a dataset's text, streamed shard by shard, and save it so that
    transformers' AutoTokenizer.from_pretrained(OUTPUT) loads it.

    OUTPUT gets tokenizer.json (plus vocab.json and merges.txt for bpe), tokenizer_config.json,
    special_tokens_map.json and winnow.json (data version and fingerprint, settings, time).

    Example: winnow train tokenizer --data demo-web --algo bpe --vocab-size 2000 --output web-bpe
    """
    from winnow.train.tokenizer import TokenizerConfig, train_tokenizer
    from winnow.workspace import Workspace

    config = TokenizerConfig(
        algo=algo,
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(special_tokens or []),
        max_docs=max_docs,
    )
    trained = train_tokenizer(data, config, output, Workspace.resolve(workspace))
    record, read = trained.record, trained.record["data"]
    table = new_table(escape(f"{record['algo']} tokenizer in {trained.path}"), "", "")
    table.show_header = False
    fingerprint = f"{read['fingerprint_of']} fingerprint {read['fingerprint']}"
    table.add_row("data", escape(f"{read['ref']} ({fingerprint})"))
    table.add_row("documents", f"{read['documents']:,}")
    table.add_row(
        "characters", f"{read['characters']:,} ({read['distinct_characters']:,} distinct)"
    )
    if read["quarantined"]:
        table.add_row("unreadable rows", f"{read['quarantined']:,} (quarantined, not trained on)")
    table.add_row("vocab size", f"{record['vocab_size']:,} of {record['vocab_size_requested']:,}")
    table.add_row("special tokens", escape(" ".join(record["special_tokens"])))
    table.add_row("train seconds", f"{record['train_seconds']:.2f}")
    table.add_row("files", " ".join(sorted(p.name for p in trained.path.iterdir())))
    console.print(table, highlight=False)
