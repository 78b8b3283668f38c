"""`winnow curate quality`: train the fastText model that the quality_classifier step uses."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

# light modules only, so --help is quick: commands import heavy ones (data frames, models) when run
from winnow.commands.options import WorkspaceOption, new_table
from winnow.console import console
from winnow.errors import WinnowError

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
    ("left_out", "other labels (left out)"),
    ("unlabelled", "no label"),
    ("held_out", "held out"),
    ("autotune_validation", "autotune validation"),
    ("train", "trained on"),
    ("dropped_to_balance", "left out to balance"),
)
"""The class counts the command prints, in the order a document goes through them."""


def print_card(card: dict[str, Any], output: Path) -> None:
    """Print the class sizes and the held-out scores of a freshly trained model."""
    from winnow.curate.quality_model import NEGATIVE, POSITIVE, card_path

    counts = new_table("examples", "", POSITIVE, NEGATIVE)
    classes = card["classes"]
    for key, title in COUNT_ROWS:
        optional = key in ("left_out", "unlabelled", "autotune_validation")
        if optional and not any(classes[side].get(key) for side in (POSITIVE, NEGATIVE)):
            continue
        counts.add_row(title, *(f"{classes[side].get(key, 0):,}" for side in (POSITIVE, NEGATIVE)))
    console.print(counts)
    scores = new_table(
        f"held-out scores at 0.5 (kept: {POSITIVE}, removed: {NEGATIVE})",
        "model",
        "class",
        "precision",
        "recall",
        "F1",
        "accuracy",
    )
    classes_shown = [("kept", ""), ("removed", "_removed")]
    if card.get("target") == NEGATIVE:
        classes_shown.reverse()
    for name in ("full", "quantized"):
        for title, key in classes_shown:
            values = card.get(f"metrics{key}_{name}")
            if values is None:
                continue
            chosen = " (written)" if (name == "quantized") == card["quantized"] else ""
            cells = (f"{values[k]:.3f}" for k in ("precision", "recall", "f1", "accuracy"))
            scores.add_row(name + chosen, title, *cells)
    console.print(scores)
    effective = card["parameters"].get("fasttext_effective")
    if card["parameters"].get("autotune_seconds") and effective:
        chosen = ", ".join(f"{k} {v}" for k, v in effective.items())
        console.print(f"autotune chose: {chosen}")
    size = card["size_bytes"] / 1e6
    console.print(
        f"wrote {output} ({size:.2f} MB, trained in {card['training_seconds']:.1f} s) "
        f"and {card_path(output)}"
    )


@app.command()
def train(
    output: Annotated[
        Path, typer.Option(help="Model file to write; its card goes to MODEL.json beside it.")
    ],
    positive: Annotated[
        list[str] | None,
        typer.Option(
            help="Examples to keep: file, folder, glob, or workspace dataset NAME or "
            "NAME@VERSION; repeat for several."
        ),
    ] = None,
    negative: Annotated[
        list[str] | None,
        typer.Option(help="Examples to drop (e.g. raw web pages); same forms, repeatable."),
    ] = None,
    labelled: Annotated[
        str | None,
        typer.Option(
            help="One labelled source (csv, tsv, jsonl, ...) instead of --positive/--negative: "
            "rows with --negative-labels are what the filter removes, the rest what it keeps."
        ),
    ] = None,
    label_field: Annotated[
        str | None, typer.Option(help="Field of --labelled holding each row's label.")
    ] = None,
    negative_labels: Annotated[
        str | None,
        typer.Option(help="Comma-separated labels to remove, e.g. hate,offensive."),
    ] = None,
    positive_labels: Annotated[
        str | None,
        typer.Option(help="Comma-separated labels to keep (default: every other label)."),
    ] = None,
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
    minn: Annotated[
        int,
        typer.Option(
            help="Shortest character n-gram used as a feature (0: none; e.g. 1 for Korean)."
        ),
    ] = 0,
    maxn: Annotated[
        int, typer.Option(help="Longest character n-gram used as a feature (0: none).")
    ] = 0,
    loss: Annotated[
        str,
        typer.Option(
            help="fastText loss: softmax, ova (one-vs-all: a sigmoid per label) or hs "
            "(hierarchical softmax)."
        ),
    ] = "softmax",
    autotune_seconds: Annotated[
        int,
        typer.Option(
            help="Let fastText's autotune search the settings for N seconds, validating on a "
            "seeded tenth carved from the training part (never the held-out part); 0: off."
        ),
    ] = 0,
    balance: Annotated[
        bool, typer.Option(help="Train on equal class sizes by leaving out some of the larger.")
    ] = True,
    quantize: Annotated[
        bool,
        typer.Option(help="Quantize the model (about 30x smaller) when held-out F1 holds."),
    ] = True,
    workspace: WorkspaceOption = None,
) -> None:
    """Train a fastText classifier of documents to keep against documents to drop.

    Either --positive and --negative sources, or one --labelled source with --label-field
    and --negative-labels (e.g. a toxicity set: hate and offensive comments are removed).

    Text is lowercased with whitespace folded; duplicates and texts in both sets are set
    aside and counted. A seeded, stratified share of each class is held out, and the
    precision, recall, F1 and accuracy of the positive class on it are printed and written
    to MODEL.json with the class counts, sources and settings.

    Example: winnow curate quality train --positive ../shared/data/web/c4_demo.jsonl \\
        --negative shared-web-cc --output models/quality.bin

    Example: winnow curate quality train --labelled hate_speech_train.tsv \\
        --text-field comments --label-field hate --negative-labels hate,offensive \\
        --minn 1 --maxn 3 --holdout 0.2 --output models/toxicity.ftz
    """
    from winnow.curate.quality_model import (
        TrainConfig,
        train_labelled_model,
        train_quality_model,
    )
    from winnow.curate.sources import resolve_source
    from winnow.workspace import Workspace

    ws = Workspace.resolve(workspace)
    if labelled is not None and (positive or negative):
        raise WinnowError(
            "give either --labelled or --positive and --negative, not both; --labelled takes "
            "one file whose --label-field says which rows to remove."
        )
    if labelled is None and not (positive and negative):
        raise WinnowError(
            "give --positive and --negative sources, or one --labelled source with "
            "--label-field and --negative-labels."
        )
    if labelled is not None and not (label_field and negative_labels):
        raise WinnowError(
            "--labelled needs --label-field (the field holding each label) and "
            "--negative-labels (the labels to remove), e.g. --label-field hate "
            "--negative-labels hate,offensive."
        )
    config = TrainConfig(
        holdout=holdout,
        seed=seed,
        epochs=epochs,
        lr=lr,
        word_ngrams=word_ngrams,
        dim=dim,
        bucket=bucket,
        min_count=min_count,
        minn=minn,
        maxn=maxn,
        loss=loss,
        autotune_seconds=autotune_seconds,
        balance=balance,
        quantize=quantize,
    )
    if labelled is not None:
        assert label_field is not None and negative_labels is not None
        config.check()
        result = train_labelled_model(
            resolve_source(labelled, text_field=text_field, workspace=ws),
            label_field,
            negative_labels.split(","),
            output,
            config,
            positive_labels.split(",") if positive_labels else None,
        )
        print_card(result.card, output)
        return
    assert positive is not None and negative is not None
    pos_field, neg_field = positive_field or text_field, negative_field or text_field
    result = train_quality_model(
        [resolve_source(s, text_field=pos_field, workspace=ws) for s in positive],
        [resolve_source(s, text_field=neg_field, workspace=ws) for s in negative],
        output,
        config,
    )
    print_card(result.card, output)
