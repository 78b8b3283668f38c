"""`winnow curate quality`: train the fastText model that the quality_classifier step uses."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from winnow.commands.options import WorkspaceOption, new_table
from winnow.console import console
from winnow.curate.quality_model import (
    NEGATIVE,
    POSITIVE,
    TrainConfig,
    card_path,
    train_quality_model,
)
from winnow.curate.sources import resolve_source
from winnow.workspace import Workspace

app = typer.Typer(
    help="Train model-based quality filters for the quality_classifier step.",
    no_args_is_help=True,
)

COUNT_ROWS = (
    ("read", "rows read"),
    ("unreadable", "unreadable (quarantined)"),
    ("empty", "empty text"),
    ("duplicates", "duplicates in the set"),
    ("in_both_sets", "in both sets (dropped)"),
    ("held_out", "held out"),
    ("train", "trained on"),
    ("dropped_to_balance", "left out to balance"),
)
"""The class counts the command prints, in the order a document goes through them."""


def print_card(card: dict[str, Any], output: Path) -> None:
    """Print the class sizes and the held-out scores of a freshly trained model."""
    counts = new_table("examples", "", POSITIVE, NEGATIVE)
    classes = card["classes"]
    for key, title in COUNT_ROWS:
        counts.add_row(title, *(f"{classes[side][key]:,}" for side in (POSITIVE, NEGATIVE)))
    console.print(counts)
    scores = new_table(
        f"held-out scores of '{POSITIVE}' at 0.5", "model", "precision", "recall", "F1", "accuracy"
    )
    variants = [("full", card["metrics_full"]), ("quantized", card["metrics_quantized"])]
    for name, values in variants:
        if values is None:
            continue
        chosen = " (written)" if (name == "quantized") == card["quantized"] else ""
        cells = (f"{values[k]:.3f}" for k in ("precision", "recall", "f1", "accuracy"))
        scores.add_row(name + chosen, *cells)
    console.print(scores)
    size = card["size_bytes"] / 1e6
    console.print(
        f"wrote {output} ({size:.2f} MB, trained in {card['training_seconds']:.1f} s) "
        f"and {card_path(output)}"
    )


@app.command()
def train(
    positive: Annotated[
        list[str],
        typer.Option(
            help="Examples to keep: file, folder, glob, or workspace dataset NAME or "
            "NAME@VERSION; repeat for several."
        ),
    ],
    negative: Annotated[
        list[str],
        typer.Option(help="Examples to drop (e.g. raw web pages); same forms, repeatable."),
    ],
    output: Annotated[
        Path, typer.Option(help="Model file to write; its card goes to MODEL.json beside it.")
    ],
    text_field: Annotated[
        str | None, typer.Option(help="Field holding the text in every source.")
    ] = None,
    positive_field: Annotated[
        str | None, typer.Option(help="Field holding the text of the positive sources.")
    ] = None,
    negative_field: Annotated[
        str | None, typer.Option(help="Field holding the text of the negative sources.")
    ] = None,
    holdout: Annotated[
        float, typer.Option(help="Share of each class held out to measure the model.")
    ] = 0.1,
    seed: Annotated[int, typer.Option(help="Seeds the split, the balancing and fastText.")] = 0,
    epochs: Annotated[int, typer.Option(help="fastText passes over the training set.")] = 10,
    lr: Annotated[float, typer.Option(help="fastText learning rate.")] = 0.5,
    word_ngrams: Annotated[
        int, typer.Option(help="Longest word n-gram used as a feature (2: words and bigrams).")
    ] = 2,
    dim: Annotated[int, typer.Option(help="Vector size; the model grows with it.")] = 16,
    bucket: Annotated[
        int, typer.Option(help="Hashed n-gram rows; the model grows with it.")
    ] = 200_000,
    min_count: Annotated[
        int, typer.Option(help="Words seen fewer times are left out of the vocabulary.")
    ] = 2,
    balance: Annotated[
        bool, typer.Option(help="Train on equal class sizes by leaving out some of the larger.")
    ] = True,
    quantize: Annotated[
        bool,
        typer.Option(help="Quantize the model (about 30x smaller) when held-out F1 holds."),
    ] = True,
    workspace: WorkspaceOption = None,
) -> None:
    """Train a fastText classifier of POSITIVE (keep) against NEGATIVE (drop) documents.

    Text is lowercased with whitespace folded; duplicates and texts in both sets are set
    aside and counted. A seeded, stratified share of each class is held out, and the
    precision, recall, F1 and accuracy of the positive class on it are printed and written
    to MODEL.json with the class counts, sources and settings.

    Example: winnow curate quality train --positive ../shared/data/web/c4_demo.jsonl \\
        --negative shared-web-cc --output models/quality.bin
    """
    ws = Workspace.resolve(workspace)
    config = TrainConfig(
        holdout=holdout,
        seed=seed,
        epochs=epochs,
        lr=lr,
        word_ngrams=word_ngrams,
        dim=dim,
        bucket=bucket,
        min_count=min_count,
        balance=balance,
        quantize=quantize,
    )
    pos_field, neg_field = positive_field or text_field, negative_field or text_field
    result = train_quality_model(
        [resolve_source(s, text_field=pos_field, workspace=ws) for s in positive],
        [resolve_source(s, text_field=neg_field, workspace=ws) for s in negative],
        output,
        config,
    )
    print_card(result.card, output)
