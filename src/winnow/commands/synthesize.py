"""`winnow curate synthesize`: new instruction rows from seed tasks, self-instruct style."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

# light modules only, so --help is quick: commands import heavy ones (data frames, models) when run
from winnow.commands.options import WorkspaceOption, new_table
from winnow.console import console
from winnow.errors import WinnowError


def synthesize(
    seeds: Annotated[
        str,
        typer.Option(
            help="Seed tasks: any file 'winnow curate instruct' reads (e.g. self-instruct's "
            "seed_tasks.jsonl) or a workspace instruct dataset NAME or NAME@vN."
        ),
    ],
    generator: Annotated[
        str,
        typer.Option(
            help="A Hugging Face causal LM folder, .gguf file or cached hub id, or an "
            "OpenAI-compatible http(s)://.../v1 URL ($OPENAI_API_KEY is sent when set)."
        ),
    ],
    n: Annotated[int, typer.Option(min=1, help="How many prompts to send to the generator.")],
    output: Annotated[str, typer.Option(help="Dataset name; each run writes a new version.")],
    seed: Annotated[int, typer.Option(help="Seeds the choice of seed tasks and sampling.")] = 0,
    per_prompt: Annotated[int, typer.Option(min=1, help="Seed tasks shown in each prompt.")] = 3,
    rouge: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Drop a new instruction whose ROUGE-L F with any instruction in the pool "
            "(seeds and rows kept so far) is above this.",
        ),
    ] = 0.7,
    max_new_tokens: Annotated[
        int, typer.Option(min=1, help="Tokens the generator may write per prompt.")
    ] = 512,
    model: Annotated[
        str, typer.Option(help="Model name sent in the body to an endpoint --generator.")
    ] = "default",
    recipe: Annotated[
        str, typer.Option(help="Recipe name in catalogs/recipes/ or a YAML path.")
    ] = "instruct",
    workspace: WorkspaceOption = None,
) -> None:
    """Prompt GENERATOR N times with sampled seed tasks and publish the new rows as OUTPUT.

    Replies are parsed into instruction/input/output rows; blocks that do not parse, exact
    duplicates and instructions too similar to the pool (ROUGE-L over words) are quarantined
    with their reason. Kept rows go through 'winnow curate instruct''s rendering, validation
    and recipe; the manifest records the seeds, the generator, its settings and the counts.

    Example: winnow curate synthesize --seeds demo-instruct --n 20 --output demo-synth \\
        --generator http://localhost:8080/v1
    """
    from winnow.curate.recipes import load_recipe
    from winnow.curate.report import print_report
    from winnow.synthesize.generators import load_generator
    from winnow.synthesize.run import load_seeds, publish, synthesize_rows
    from winnow.workspace import Workspace

    ws = Workspace.resolve(workspace)
    loaded = load_recipe(recipe)
    found = load_seeds(seeds, ws)
    if not found.tasks:
        raise WinnowError(f"--seeds {seeds}: has no usable seed task; give instruction rows.")
    gen = load_generator(generator, model, max_new_tokens)
    outcome = synthesize_rows(found.tasks, gen, generator, n, seed, per_prompt, rouge)
    table = new_table("synthesis", "count", "value")
    for key, value in sorted(outcome.counts.items()):
        table.add_row(key, f"{value:,}")
    console.print(table)
    section = {
        "generator": {"name": generator, **gen.settings()},
        "seed": seed,
        "n": n,
        "per_prompt": per_prompt,
        "rouge_threshold": rouge,
        "seed_tasks": len(found.tasks),
        "rouge_tokens": "lowercased \\w+ word runs",
    }
    dataset = publish(ws, loaded, found, outcome, output, section)
    console.print(escape(f"{outcome.counts['kept']:,} new rows from {generator}"))
    print_report(console, dataset)
