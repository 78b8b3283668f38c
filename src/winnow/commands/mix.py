"""`winnow curate mix`: draw a budget of documents or tokens from several inputs by weight."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

# light modules only, so --help is quick: commands import heavy ones (data frames, models) when run
from winnow.commands.options import WorkspaceOption, new_table
from winnow.console import console


def mixture_table(manifest: dict[str, Any]) -> Table:
    """Requested against realised shares per input, in the budget's unit, from a mix manifest."""
    mix = manifest["mix"]
    unit = mix["budget"]["unit"]
    table = new_table(
        f"{manifest['name']}@{manifest['version']}: mixture ({unit})",
        "input",
        "weight",
        "requested",
        "realised",
        "docs",
        "tokens",
        "epochs",
        "sampling",
    )
    for part in mix["sources"]:
        sampling = part["sampling"] + (" (capped)" if part["capped"] else "")
        table.add_row(
            escape(part["name"]),
            f"{part['weight']:g}",
            f"{part['requested_share']:.2%}",
            f"{part['share']:.2%}",
            f"{part['docs']:,}",
            f"{part['tokens']:,}",
            f"{part['epochs']:.2f}",
            sampling,
        )
    return table


def print_mix(manifest: dict[str, Any], where: str) -> None:
    """Print the mixture table, the totals against the budget, warnings and where it went."""
    mix = manifest["mix"]
    budget, realised = mix["budget"], mix["realised"]
    console.print(mixture_table(manifest))
    console.print(
        f"budget {budget['amount']:,} {budget['unit']}: drew {realised['docs']:,} docs, "
        f"{realised['tokens']:,} tokens ({mix['token_rule']}); seed {mix['seed']}",
        highlight=False,
    )
    for warning in manifest["warnings"]:
        console.print(f"[yellow]warning[/] {escape(warning)}")
    console.print(f"fingerprint {manifest['fingerprint']}  written to {where}")


def mix(
    budget: Annotated[
        str,
        typer.Option(help="How much to draw: '1000docs', '5k docs', '2M tokens' (k, M, B)."),
    ],
    output: Annotated[str, typer.Option(help="Dataset name; each mix writes a new version.")],
    inputs: Annotated[
        list[str] | None,
        typer.Option(
            "--input",
            "-i",
            help="NAME:WEIGHT, once per input: a workspace dataset NAME or NAME@VERSION (kept "
            "rows), or a file, glob or catalog source; weights are normalised, ':WEIGHT' "
            "left out means 1.",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        int, typer.Option(min=0, help="Seed of the sampling and shuffling; same seed, same rows.")
    ] = 0,
    max_epochs: Annotated[
        int,
        typer.Option(min=1, help="At most this many copies of a row; a short input is capped."),
    ] = 4,
    tokenizer: Annotated[
        str | None,
        typer.Option(
            help="tokenizer.json, or a folder with one (or GPT-2 vocab/merges, or one "
            "AutoTokenizer loads), to count tokens; else tokens are estimated as characters/4.",
            show_default=False,
        ),
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Mix inputs into a new dataset version: each gets WEIGHT/sum of the budget, small ones
    repeated by whole epochs plus a seeded sample, large ones downsampled, rows shuffled.

    Rows keep their fields and gain mix_source, mix_epoch and source_id; the manifest records
    the parents, the request and the realised mixture.

    Example: winnow curate mix --budget 100docs -i demo-web:1 -i shared-web-cc:3 --output web-mix
    """
    from winnow.curate.mix.publish import mix_datasets
    from winnow.curate.mix.spec import MixOptions, parse_budget, parse_input
    from winnow.workspace import Workspace

    options = MixOptions(
        inputs=[parse_input(text) for text in inputs or []],
        budget=parse_budget(budget),
        seed=seed,
        max_epochs=max_epochs,
        tokenizer=tokenizer,
    )
    ws = Workspace.resolve(workspace)
    with console.status(f"mixing {len(options.inputs)} inputs into {output}"):
        dataset = mix_datasets(ws, output, options)
    print_mix(dataset.manifest, str(dataset.path))
