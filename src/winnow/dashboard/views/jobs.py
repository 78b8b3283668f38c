"""Jobs page: start a curation recipe, a training job or an eval suite from the catalogs; each
runs as its own process under a supervisor, which waits in the queue when the limit of jobs at
once is reached, so the page only reads status and log: live progress, the log's tail, cancel,
and a history where a job that died shows as failed."""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from winnow.dashboard.common import shown_errors, workspace
from winnow.jobs import (
    Available,
    Job,
    JobSpec,
    available,
    cancel,
    fields,
    launch,
    list_jobs,
    log_tail,
    progress,
)
from winnow.jobs.queue import max_jobs, places, queue_state, set_max_jobs, shown_status
from winnow.workspace import Workspace

KINDS = ("curate", "train", "evaluate")
ACTIVE = ("queued", "running")


def choices(name: str, offer: Available, method: str | None) -> list[str] | None:
    """The values a parameter can take from the catalogs and the workspace, if it has a list."""
    datasets = list(offer.datasets)
    configs = [c for c, m in offer.job_configs.items() if m == method]
    return {
        "recipe": offer.recipes,
        "source": datasets + offer.sources,
        "data": datasets,
        "perplexity": datasets,
        "base": ["tiny", *offer.models],
        "model": offer.models,
        "reward": offer.models,
        "config": configs,
        "suite": offer.suites,
    }.get(name)


def form(ws: Workspace, kind: str) -> JobSpec | None:
    """The parameters of a kind as widgets; the spec when Start is pressed."""
    offer = available(ws)
    params: dict[str, Any] = {}
    method = None
    if kind == "train":
        method = params["method"] = st.selectbox("method", offer.methods, key="job-method")
    _, wanted = fields(kind, method)
    with st.form(f"job-{kind}-{method}"):
        for param in wanted:
            label = param.name + (" *" if param.required else "")
            listed = choices(param.name, offer, method)
            if listed is not None:
                params[param.name] = st.selectbox(
                    label,
                    listed,
                    index=0 if param.required and listed else None,
                    help=param.help,
                    key=f"job-{param.name}",
                )
            else:
                params[param.name] = st.text_input(label, help=param.help, key=f"job-{param.name}")
            if param.name == "source":
                path = st.text_input("or a source path", help=param.help, key="job-source-path")
                params["source"] = path.strip() or params["source"]
        started = st.form_submit_button("Start")
    return JobSpec(kind, params) if started else None


def history(jobs: list[Job]) -> pl.DataFrame:
    """One row per job, newest first; a queued job with its place in the queue."""
    line = places(jobs)
    rows = [
        {
            "id": job.id,
            "kind": job.kind,
            "status": shown_status(job, line),
            "what": job.summary,
            "started": f"{job.time('created_at'):%Y-%m-%d %H:%M:%S}",
            "seconds": round(job.elapsed or 0.0, 1),
            "error": job.error or "",
        }
        for job in jobs
    ]
    columns = ["id", "kind", "status", "what", "started", "seconds", "error"]
    return pl.DataFrame(rows, schema={c: pl.Utf8 for c in columns} | {"seconds": pl.Float64})


def select(job_id: str) -> None:
    """Open a job in the detail and in the URL, so a reload or a shared link shows it too."""
    st.session_state["job-open"] = job_id
    st.query_params["job"] = job_id


def detail(job: Job) -> None:
    """A job's status, progress, cancel and log tail, from the same read as the table."""
    st.markdown(f"**{job.id}** · {job.summary} · **{job.status}**")
    st.caption(" ".join(job.record.get("argv", [])[2:]))
    fraction = progress(job)
    if fraction is not None:
        st.progress(min(max(fraction, 0.0), 1.0), text=f"{fraction:.0%}")
    if job.status == "queued":
        st.info("Waiting for a free slot; it starts by itself, even if this page is closed.")
    if job.status == "failed":
        st.error(job.error or "failed")
    if job.record.get("cleaned"):
        st.caption("Removed its staging folder: " + ", ".join(job.record["cleaned"]))
    if job.status in ACTIVE and st.button("Cancel", key=f"cancel-{job.id}"):
        st.info(cancel(job))
    st.code(log_tail(job, 40) or "(no output yet)", language=None)


@st.fragment(run_every=2)
def board(ws: Workspace) -> None:
    """The history and the open job, refreshed every two seconds; a failure shows as one
    message at each refresh (the page's own guard does not reach a fragment's reruns)."""
    with shown_errors("the job history"):
        history_and_detail(ws)


def history_and_detail(ws: Workspace) -> None:
    """The table and the open job from one read of the jobs' state files, so they never
    disagree."""
    jobs = list_jobs(ws)
    if not jobs:
        st.info("No jobs yet.")
        return
    with shown_errors("the queue"):
        st.caption(queue_state(ws, jobs))
    st.dataframe(history(jobs), hide_index=True)
    ids = [job.id for job in jobs]
    if st.session_state.get("job-open") not in ids:
        wanted = st.query_params.get("job")
        st.session_state["job-open"] = wanted if wanted in ids else ids[0]
    chosen = st.selectbox("Job", ids, key="job-open")
    if st.query_params.get("job") != chosen:
        st.query_params["job"] = chosen
    detail(jobs[ids.index(chosen)])


def save_limit(ws: Workspace) -> None:
    """Callback: keep the limit the user set for the supervisors to read."""
    set_max_jobs(ws, int(st.session_state["job-limit"]))


def limit_setting(ws: Workspace) -> None:
    """How many jobs run at once; the rest wait as queued. The box shows the workspace's
    setting on every run, so a change made in another session is never written back."""
    limit, origin = max_jobs(ws)
    st.session_state["job-limit"] = limit
    st.number_input(
        "Jobs at once",
        min_value=1,
        help=f"Now {limit} ({origin}). More wait as queued and start when a slot frees.",
        key="job-limit",
        on_change=save_limit,
        args=(ws,),
    )


def render() -> None:
    """The page."""
    st.title("Jobs")
    ws = workspace()
    with st.expander("Start a job", expanded=True), shown_errors("the job"):
        kind = st.radio("Kind", KINDS, horizontal=True, key="job-kind")
        spec = form(ws, kind)
        if spec is not None:
            job = launch(ws, spec)
            select(job.id)
            st.success(f"started {job.id}: {job.summary}")
        limit_setting(ws)
    board(ws)


if __name__ == "__main__":
    render()
