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


# options that `train` and `train-embed` share
PositiveOption = Annotated[
    list[str] | None,
    typer.Option(
        help="Examples to keep: file, folder, glob, or workspace dataset NAME or "
        "NAME@VERSION; repeat for several."
    ),
]

NegativeOption = Annotated[
    list[str] | None,
    typer.Option(help="Examples to drop (e.g. raw web pages); same forms, repeatable."),
]

LabelFieldOption = Annotated[
    str | None, typer.Option(help="Field of --labelled holding each row's label.")
]

NegativeLabelsOption = Annotated[
    str | None,
    typer.Option(help="Comma-separated labels to remove, e.g. hate,offensive."),
]

PositiveLabelsOption = Annotated[
    str | None,
    typer.Option(help="Comma-separated labels to keep (default: every other label)."),
]

TextFieldOption = Annotated[
    str | None, typer.Option(help="Field holding the text in every source.")
]

PositiveFieldOption = Annotated[
    str | None, typer.Option(help="Field holding the text of the positive sources.")
]

NegativeFieldOption = Annotated[
    str | None, typer.Option(help="Field holding the text of the negative sources.")
]

HoldoutOption = Annotated[
    float, typer.Option(help="Share of each class held out to measure the model.")
]

BalanceOption = Annotated[
    bool, typer.Option(help="Train on equal class sizes by leaving out some of the larger.")
]


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
    positive: PositiveOption = None,
    negative: NegativeOption = None,
    labelled: Annotated[
        str | None,
        typer.Option(
            help="One labelled source (csv, tsv, jsonl, ...) instead of --positive/--negative: "
            "rows with --negative-labels are what the filter removes, the rest what it keeps."
        ),
    ] = None,
    label_field: LabelFieldOption = None,
    negative_labels: NegativeLabelsOption = None,
    positive_labels: PositiveLabelsOption = None,
    keep_at: Annotated[
        float | None,
        typer.Option(
            help="Instead of --negative-labels: --label-field holds a numeric score (e.g. an "
            "annotation dataset's 0-5 'score'); rows scoring this or more are kept, the rest "
            "removed."
        ),
    ] = None,
    text_field: TextFieldOption = None,
    positive_field: PositiveFieldOption = None,
    negative_field: NegativeFieldOption = None,
    holdout: HoldoutOption = 0.1,
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
    balance: BalanceOption = True,
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

    Example (an annotation dataset scored 0-5; 3 or more is kept, as FineWeb-Edu):
    winnow curate quality train --labelled web-edu-annotations --label-field score \\
        --keep-at 3 --output models/edu.bin
    """
    from winnow.curate.quality_model import (
        TrainConfig,
        train_labelled_model,
        train_quality_model,
        train_scored_model,
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
    if keep_at is not None and (labelled is None or not label_field or negative_labels):
        raise WinnowError(
            "--keep-at goes with --labelled SOURCE and --label-field naming its numeric score "
            "(e.g. --label-field score --keep-at 3), instead of --negative-labels."
        )
    if labelled is not None and not (label_field and (negative_labels or keep_at is not None)):
        raise WinnowError(
            "--labelled needs --label-field (the field holding each label) and "
            "--negative-labels (the labels to remove), e.g. --label-field hate "
            "--negative-labels hate,offensive, or --keep-at for a numeric score."
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
    if labelled is not None and keep_at is not None:
        assert label_field is not None
        config.check()
        spec = resolve_source(labelled, text_field=text_field, workspace=ws)
        result = train_scored_model(spec, label_field, keep_at, output, config)
        print_card(result.card, output)
        return
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


EMBED_COUNT_ROWS = (
    *COUNT_ROWS[:5],
    ("over_max_per_class", "over --max-per-class (left out)"),
    *COUNT_ROWS[5:8],
    ("validation", "validation (chooses threshold)"),
    *COUNT_ROWS[9:],
)
"""The class counts train-embed prints (a validation part instead of autotune's)."""


def print_embed_card(card: dict[str, Any], output: Path) -> None:
    """Print the class sizes, the held-out scores per threshold and the chosen threshold."""
    from winnow.curate.embed_model import CARD
    from winnow.curate.quality_model import NEGATIVE, POSITIVE

    counts = new_table("examples", "", POSITIVE, NEGATIVE)
    classes = card["classes"]
    for key, title in EMBED_COUNT_ROWS:
        optional = key in ("left_out", "unlabelled", "over_max_per_class")
        if optional and not any(classes[side].get(key) for side in (POSITIVE, NEGATIVE)):
            continue
        counts.add_row(title, *(f"{classes[side].get(key, 0):,}" for side in (POSITIVE, NEGATIVE)))
    console.print(counts)
    head = card["head"]
    unit = "probability" if head["objective"] == "classify" else "predicted score"
    table = new_table(
        f"held-out scores of the kept class ({head['type']} head, {unit} >= threshold is kept)",
        "threshold",
        "precision",
        "recall",
        "F1",
        "accuracy",
        "kept share",
    )
    for row in card["thresholds"]:
        mark = " (chosen)" if row["chosen"] else ""
        cells = (f"{row[k]:.3f}" for k in ("precision", "recall", "f1", "accuracy", "kept_share"))
        table.add_row(f"{row['threshold']:g}{mark}", *cells)
    console.print(table)
    removed = card["metrics_removed"]
    console.print(
        f"threshold {card['threshold']:g}: {card['threshold_rule']}; there the removed class "
        f"has precision {removed['precision']:.3f}, recall {removed['recall']:.3f}, "
        f"F1 {removed['f1']:.3f} on {removed['held_out']:,} held-out documents"
    )
    encoder = card["encoder"]
    console.print(
        f"wrote {output} ({head['parameters']:,} weights on encoder {encoder['name']} "
        f"{encoder['fingerprint']}; {card['training_seconds']:.1f} s, of which embedding "
        f"{card['embed_seconds']:.1f} s) with {output / CARD}"
    )


@app.command("train-embed")
def train_embed(
    output: Annotated[
        Path,
        typer.Option(help="Model folder to write: head.safetensors and card.json."),
    ],
    positive: PositiveOption = None,
    negative: NegativeOption = None,
    labelled: Annotated[
        str | None,
        typer.Option(
            help="One labelled source instead of --positive/--negative: an annotation dataset "
            "(NAME or NAME@VERSION) with --score-field and --keep-at, or a file whose "
            "--label-field "
            "and --negative-labels say which rows to remove."
        ),
    ] = None,
    score_field: Annotated[
        str | None,
        typer.Option(help="Field of --labelled holding a numeric score (annotations: score)."),
    ] = None,
    keep_at: Annotated[
        float | None,
        typer.Option(help="Rows scoring this or more are kept (FineWeb-Edu: 3 of 0-5)."),
    ] = None,
    label_field: LabelFieldOption = None,
    negative_labels: NegativeLabelsOption = None,
    positive_labels: PositiveLabelsOption = None,
    text_field: TextFieldOption = None,
    positive_field: PositiveFieldOption = None,
    negative_field: NegativeFieldOption = None,
    head: Annotated[
        str, typer.Option(help="linear (logistic or linear regression) or mlp (one hidden layer).")
    ] = "linear",
    objective: Annotated[
        str,
        typer.Option(
            help="classify (probability of keep) or regress (fit the score itself, as "
            "FineWeb-Edu did; needs --score-field)."
        ),
    ] = "classify",
    hidden: Annotated[int, typer.Option(help="Hidden units of the mlp head.")] = 256,
    steps: Annotated[
        int, typer.Option(help="Full-batch optimizer steps (0: 100 linear, 300 mlp).")
    ] = 0,
    lr: Annotated[
        float, typer.Option(help="Learning rate (0: 1.0 for linear's L-BFGS, 0.003 for mlp).")
    ] = 0.0,
    weight_decay: Annotated[float, typer.Option(help="L2 penalty on the weights.")] = 1e-3,
    holdout: HoldoutOption = 0.1,
    seed: Annotated[
        int, typer.Option(help="Seeds the split, the balancing and the head's weights.")
    ] = 0,
    balance: BalanceOption = True,
    max_per_class: Annotated[
        int, typer.Option(help="Use at most N documents per class (seeded sample); 0: all.")
    ] = 0,
    encoder: Annotated[
        str, typer.Option(help="Sentence encoder: minilm, or a sentence-transformers folder.")
    ] = "minilm",
    batch_size: Annotated[int, typer.Option(help="Texts embedded per batch.")] = 64,
    device: Annotated[str, typer.Option(help="auto (CUDA when there is one), cpu or cuda.")] = (
        "auto"
    ),
    workspace: WorkspaceOption = None,
) -> None:
    """Train a quality classifier on sentence embeddings, for the embed_classifier step.

    Each document is embedded by --encoder (all-MiniLM-L6-v2 by default) and a small head
    learns from the vectors. The classes come from --positive/--negative sources, from
    dashboard labels exported with 'winnow labels export' (OUTPUT-keep / OUTPUT-drop), from
    an annotation dataset with a numeric --score-field and --keep-at, or from a labelled file
    with --label-field and --negative-labels.

    A seeded, stratified share of each class is held out; a tenth of the rest (validation)
    chooses the threshold of highest F1. Held-out precision, recall and F1 per threshold are
    printed and written to FOLDER/card.json with the encoder, counts, sources and settings.

    Example: winnow curate quality train-embed --positive ../shared/data/web/c4_demo.jsonl \\
        --negative shared-web-cc --output models/web-embed

    Example (an annotation dataset scored 0-5, FineWeb-Edu's regression head):
    winnow curate quality train-embed --labelled web-edu-annotations --score-field score \\
        --keep-at 3 --objective regress --output models/edu-embed

    Example (dashboard labels): winnow labels export web -t quality-keep-drop --output web-q, then
    winnow curate quality train-embed --positive web-q-keep --negative web-q-drop \\
        --head mlp --output models/web-q-embed
    """
    from winnow.curate.embed_model import (
        EmbedConfig,
        from_labelled,
        from_scored,
        from_sources,
        train_embed_model,
    )
    from winnow.curate.sources import resolve_source
    from winnow.workspace import Workspace

    config = EmbedConfig(
        holdout=holdout,
        seed=seed,
        head=head,
        objective=objective,
        hidden=hidden,
        steps=steps,
        lr=lr,
        weight_decay=weight_decay,
        balance=balance,
        max_per_class=max_per_class,
        encoder=encoder,
        batch_size=batch_size,
        device=device,
    )
    config.check()
    ws = Workspace.resolve(workspace)
    if labelled is not None and (positive or negative):
        raise WinnowError(
            "give either --labelled or --positive and --negative, not both; --labelled takes "
            "one source whose --score-field (or --label-field) says which rows to remove."
        )
    if labelled is None:
        if not (positive and negative):
            raise WinnowError(
                "give --positive and --negative sources, or one --labelled source with "
                "--score-field and --keep-at (or --label-field and --negative-labels)."
            )
        pos_field, neg_field = positive_field or text_field, negative_field or text_field
        labels = from_sources(
            [resolve_source(s, text_field=pos_field, workspace=ws) for s in positive],
            [resolve_source(s, text_field=neg_field, workspace=ws) for s in negative],
        )
    elif score_field is not None or keep_at is not None:
        if score_field is None or keep_at is None or label_field or negative_labels:
            raise WinnowError(
                "--labelled with a numeric score needs both --score-field (e.g. score) and "
                "--keep-at (e.g. 3), and no --label-field or --negative-labels."
            )
        spec = resolve_source(labelled, text_field=text_field, workspace=ws)
        labels = from_scored(spec, score_field, keep_at)
    else:
        if not (label_field and negative_labels):
            raise WinnowError(
                "--labelled needs --score-field and --keep-at (a numeric score, e.g. an "
                "annotation dataset's score), or --label-field and --negative-labels (e.g. "
                "--label-field hate --negative-labels hate,offensive)."
            )
        spec = resolve_source(labelled, text_field=text_field, workspace=ws)
        labels = from_labelled(
            spec,
            label_field,
            negative_labels.split(","),
            positive_labels.split(",") if positive_labels else None,
        )
    result = train_embed_model(labels, output, config)
    print_embed_card(result.card, output)
