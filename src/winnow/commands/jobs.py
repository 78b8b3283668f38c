"""`winnow jobs`: start curation, training and eval commands in the background, follow them
through the queue, cancel them, set how many run at once; the dashboard's Jobs page does the
same through winnow.jobs."""

from __future__ import annotations

import shlex
from typing import Annotated

import typer
from rich.markup import escape

from winnow.commands.options import WorkspaceOption, new_table
from winnow.console import console
from winnow.errors import WinnowError
from winnow.jobs import JobSpec, get_job, launch, list_jobs, log_tail, progress
from winnow.jobs import cancel as cancel_job
from winnow.jobs.queue import limit_line, places, queue_state, set_max_jobs, shown_status
from winnow.jobs.specs import TRAIN_COMMANDS

app = typer.Typer(
    help="Run curation, training and eval jobs in the background; follow and cancel them. "
    "Jobs over the limit of jobs at once ('winnow jobs limit') wait as queued and start, "
    "oldest first, as slots free.",
    no_args_is_help=True,
)

JobId = Annotated[str, typer.Argument(help="A job id from 'winnow jobs list'.")]


def duration(seconds: float | None) -> str:
    """Seconds as 42s, 3m05s or 2h07m."""
    if seconds is None:
        return ""
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


@app.command("list")
def list_(workspace: WorkspaceOption = None) -> None:
    """List the jobs newest first, queued ones with their place in line, then the limit.

    Status: queued #N (#1 starts next), running, completed, failed or cancelled.

    Last line: jobs running and queued, the limit of jobs at once and where it comes from.

    Example: winnow jobs list -w workspace
    """
    from winnow.workspace import Workspace

    ws = Workspace.resolve(workspace)
    jobs = list_jobs(ws)
    line = places(jobs)
    table = new_table("jobs", "id", "status", "progress", "elapsed", "job", "error")
    for job in jobs:
        done = progress(job)
        table.add_row(
            job.id,
            shown_status(job, line),
            "" if done is None else f"{done:.0%}",
            duration(job.elapsed),
            escape(job.summary),
            escape(job.error or ""),
        )
    if jobs:
        console.print(table, highlight=False)
    else:
        console.print("No jobs yet.")
    console.print(escape(queue_state(ws, jobs)), highlight=False)


@app.command()
def limit(
    jobs: Annotated[
        int | None,
        typer.Argument(
            min=1,
            metavar="N",
            help="Jobs at once; leave out to show the limit.",
            show_default=False,
        ),
    ] = None,
    reset: Annotated[
        bool,
        typer.Option(
            "--reset", help="Forget the setting: back to $WINNOW_MAX_JOBS, else cores / 2."
        ),
    ] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Show or set how many jobs run at once (the setting the dashboard's Jobs page writes).

    Jobs over the limit wait as queued and start, oldest first, as slots free or it rises.

    Without a setting the limit is $WINNOW_MAX_JOBS, else the machine's cores / 2.

    Example: winnow jobs limit 2
    """
    from winnow.workspace import Workspace

    ws = Workspace.resolve(workspace)
    if reset and jobs is not None:
        raise WinnowError(f"give a limit ({jobs}) or --reset, not both.")
    if reset or jobs is not None:
        set_max_jobs(ws, None if reset else jobs)
    console.print(escape(limit_line(ws)), highlight=False)


@app.command()
def start(
    kind: Annotated[str, typer.Argument(help="curate, train or evaluate.")],
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            help="KEY=VALUE; repeat for each parameter. curate: recipe, source, output. train: "
            f"method ({', '.join(TRAIN_COMMANDS)}), data, output, base, config, max_steps, "
            "learning_rate, batch_size (sample: reward, n, max_prompts). evaluate: model, suite "
            "or tasks, limit, perplexity, output.",
            show_default=False,
        ),
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Check the parameters and start the job in the background; print its id.

    Example: winnow jobs start curate -p recipe=demo -p source=web-sample -p output=web
    """
    from winnow.workspace import Workspace

    job = launch(Workspace.resolve(workspace), JobSpec.parse(kind, param or []))
    console.print(f"started job {job.id}: {escape(shlex.join(job.record['argv'][2:]))}")
    console.print(f"follow it with: winnow jobs log {job.id}", highlight=False)


@app.command()
def log(
    job_id: JobId,
    lines: Annotated[int, typer.Option(min=1, help="Lines from the end of the log.")] = 40,
    workspace: WorkspaceOption = None,
) -> None:
    """Print the end of a job's log, then its status.

    Example: winnow jobs log 20260101-120000-1a2b --lines 100
    """
    from winnow.workspace import Workspace

    job = get_job(Workspace.resolve(workspace), job_id)
    text = log_tail(job, lines)
    if text:
        console.print(escape(text), highlight=False, soft_wrap=True)
    done = progress(job)
    line = places(list_jobs(job.workspace)) if job.status == "queued" else {}
    status = shown_status(job, line)
    shown = f"job {job.id}: {status}" + ("" if done is None else f", {done:.0%}")
    if job.error:
        shown += f": {job.error}"
    console.print(escape(shown), highlight=False)


@app.command()
def cancel(job_id: JobId, workspace: WorkspaceOption = None) -> None:
    """Stop a queued or running job; one that has ended is left as it is.

    Example: winnow jobs cancel 20260101-120000-1a2b
    """
    from winnow.workspace import Workspace

    job = get_job(Workspace.resolve(workspace), job_id)
    console.print(escape(cancel_job(job)), highlight=False)
