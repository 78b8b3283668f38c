"""`winnow curate annotate`: an LLM scores a seeded sample of a dataset with a catalog prompt."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

# light modules only, so --help is quick: commands import heavy ones (data frames, models) when run
from winnow.commands.options import WorkspaceOption, new_table
from winnow.console import console


def annotate(
    dataset: Annotated[str, typer.Argument(help="Dataset to annotate: NAME or NAME@VERSION.")],
    prompt: Annotated[
        str,
        typer.Option(
            help="A prompt in catalogs/prompts/ (fineweb-edu, textbook, fineweb-edu-ko) or a "
            "YAML file with title, scale, pattern and template."
        ),
    ],
    annotator: Annotated[
        str,
        typer.Option(
            help="A run, causal LM folder, .gguf file or cached hub id, or an OpenAI-compatible "
            "http(s)://.../v1 URL ($OPENAI_API_KEY is sent when set)."
        ),
    ],
    sample: Annotated[int, typer.Option(min=1, help="How many rows to annotate (seeded).")],
    output: Annotated[str, typer.Option(help="Annotation dataset name; each run a new version.")],
    seed: Annotated[int, typer.Option(help="Seeds which rows the sample takes.")] = 0,
    model: Annotated[
        str, typer.Option(help="Model name sent in the body to an endpoint --annotator.")
    ] = "default",
    batch_size: Annotated[
        int,
        typer.Option(help="Documents per batch: decoded together locally, sent at once to a URL."),
    ] = 8,
    timeout: Annotated[float, typer.Option(help="Seconds an endpoint request may take.")] = 60.0,
    retries: Annotated[
        int, typer.Option(help="Further tries of a request that timed out or got a 429/5xx.")
    ] = 3,
    workspace: WorkspaceOption = None,
) -> None:
    """Score a seeded sample of DATASET with an LLM and publish the scores as OUTPUT.

    The sample is the rows with the smallest xxh64 of seed and id: the same for the same seed,
    and a larger sample holds a smaller one. Each document (cut to the prompt's max_chars) goes
    into the prompt's template; the model decodes greedily (temperature 0). The score is the
    last match of the prompt's pattern in the reply, and must lie within its scale. Replies
    are cached per annotator, prompt and document in WORKSPACE/runs/annotate/replies/, so a
    rerun, or a run cut short and started again, asks only for what is missing.

    Replies with no score (empty, refused, out of range, no match) and requests that failed
    (timeouts, HTTP errors, after --retries) go to the version's quarantine with the raw
    reply; the run goes on and the counts are printed. OUTPUT's kept rows have id, text,
    score, reply, prompt, prompt_hash and annotator; its manifest names the parent dataset,
    the prompt and its hash, the annotator's settings and the counts.

    Label the same items in the dashboard with the edu-0to5 task, then 'winnow labels
    agreement OUTPUT --task edu-0to5' gives each person's kappa against the LLM; 'winnow
    curate quality train-embed' and 'winnow curate quality train' learn from the scores.

    Example: winnow curate annotate demo-web --prompt fineweb-edu --sample 200 \\
        --annotator SmolLM2-135M-Instruct.Q4_1.gguf --output demo-edu

    Example: winnow curate annotate web-ko --prompt fineweb-edu-ko --sample 1000 \\
        --annotator http://localhost:8000/v1 --model Qwen2.5-7B-Instruct --output ko-edu
    """
    from winnow.annotate.annotators import load_annotator
    from winnow.annotate.prompts import load_prompt
    from winnow.annotate.run import Plan, annotate_sample
    from winnow.workspace import Workspace, check_name

    ws = Workspace.resolve(workspace)
    check_name(output)
    chosen = load_prompt(prompt)
    version = ws.dataset(dataset)
    worker = load_annotator(annotator, ws, model, batch_size, timeout, retries)
    columns = (
        TextColumn("annotating"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("annotating", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        made = annotate_sample(ws, Plan(version, sample, seed, output), chosen, worker, advance)
    section = made.manifest["annotate"]
    table = new_table(f"{made.ref}: {escape(chosen.title)}", "rows", "count")
    for key, value in section["counts"].items():
        table.add_row(key, f"{value:,}")
    console.print(table)
    scores = ", ".join(f"{k}: {v}" for k, v in section["scores"].items()) or "none"
    speed = section["documents_per_second"]
    asked = f"asked {section['asked']:,} ({speed:.2f} documents/s)" if speed else "asked none"
    console.print(
        f"scores {scores}; {asked}, reused {section['cache']['reused']:,} cached replies; "
        f"quarantined rows keep the raw reply: winnow data head {made.ref} --split quarantine"
    )
