"""`winnow ablate`: which recipe makes the better model, answered in one command."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from winnow.commands.options import WorkspaceOption
from winnow.console import console


def ablate(
    output: Annotated[str, typer.Option(help="Ablation name: ablations/NAME.")],
    source: Annotated[
        str | None,
        typer.Option(help="What each --recipe curates: a file, folder, glob or dataset."),
    ] = None,
    recipe: Annotated[
        list[str] | None,
        typer.Option(help="A recipe name or YAML file: one candidate (repeatable)."),
    ] = None,
    dataset: Annotated[
        list[str] | None,
        typer.Option(help="An existing dataset NAME@V: one candidate (repeatable)."),
    ] = None,
    tokens: Annotated[
        int, typer.Option(help="Tokens each model trains on, the same for every candidate.")
    ] = 1_000_000,
    seeds: Annotated[
        int,
        typer.Option(help="Seeds per candidate (the seed varies initialisation and data order)."),
    ] = 3,
    model: Annotated[
        str,
        typer.Option(
            help="tiny (a small Llama and a tokenizer shared by every run), or a model folder "
            "(its architecture, freshly initialised; its weights when it has them)."
        ),
    ] = "tiny",
    suite: Annotated[
        str | None, typer.Option(help="Eval suite each model is scored on.", show_default=False)
    ] = None,
    tasks: Annotated[
        str | None, typer.Option(help="Eval tasks, comma-separated.", show_default=False)
    ] = None,
    limit: Annotated[
        float | None,
        typer.Option(help="Documents per eval task (a subset: marked so).", show_default=False),
    ] = None,
    reference: Annotated[
        list[str] | None,
        typer.Option(
            help="A dataset of clean text no candidate contains (checked with 13-word "
            "sequences): perplexity on all of it (repeatable)."
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="KEY=VALUE for every pretraining run (learning_rate, batch_size, ...)."
        ),
    ] = None,
    allow_overlap: Annotated[
        bool, typer.Option(help="Go on when a candidate contains reference text (noted).")
    ] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Train the same model on the same number of tokens of each candidate dataset, over
    several seeds; evaluate each on the suite and on reference perplexity; write
    ablations/NAME/ with every run's lineage, a table per metric (mean and spread over seeds,
    differences from the first candidate paired by seed, with 95% intervals) and a verdict
    that counts only differences larger than the seed spread. Run it again with the same
    options to continue after a kill: finished datasets, runs and evals are reused.

    Example: winnow ablate --source web.jsonl --recipe unfiltered --recipe web-en \
    --tokens 1000000 --seeds 3 --reference wiki --output filter-or-not
    """
    from winnow.ablate.plan import AblationPlan
    from winnow.ablate.runner import Ablation
    from winnow.workspace import Workspace

    plan = AblationPlan(
        output=output,
        source=source,
        recipes=list(recipe or []),
        datasets=list(dataset or []),
        tokens=tokens,
        seeds=seeds,
        model=model,
        suite=suite,
        tasks=tasks,
        limit=limit,
        references=list(reference or []),
        sets=list(set_ or []),
        allow_overlap=allow_overlap,
    )
    ablation = Ablation(Workspace.resolve(workspace), plan)
    record = ablation.run()
    console.print(f"[bold]Verdict[/] ({ablation.path / 'report.md'}):")
    for line in record["verdict"]:
        console.print(f"- {escape(line)}", highlight=False)
