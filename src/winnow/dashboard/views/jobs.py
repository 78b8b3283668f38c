"""Jobs page: start a curation recipe, a training job or an eval suite from the catalogs; each
runs as its own process under a supervisor, so the page only reads its status and log: live
progress, the log's tail, cancel, and a history where a job that died shows as failed."""

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
    """One row per job, newest first."""
    rows = [
        {
            "id": job.id,
            "kind": job.kind,
            "status": job.status,
            "what": job.summary,
            "started": f"{job.time('created_at'):%Y-%m-%d %H:%M:%S}",
            "seconds": round(job.elapsed or 0.0, 1),
            "error": job.error or "",
        }
        for job in jobs
    ]
    columns = ["id", "kind", "status", "what", "started", "seconds", "error"]
    return pl.DataFrame(rows, schema={c: pl.Utf8 for c in columns} | {"seconds": pl.Float64})


@st.fragment(run_every=2)
def detail(ws: Workspace, job_id: str) -> None:
    """A job's status, progress and log tail, refreshed every two seconds while it runs."""
    job = next((j for j in list_jobs(ws) if j.id == job_id), None)
    if job is None:
        st.warning(f"job {job_id} is gone")
        return
    st.markdown(f"**{job.id}** · {job.summary} · **{job.status}**")
    st.caption(" ".join(job.record.get("argv", [])[2:]))
    fraction = progress(job)
    if fraction is not None:
        st.progress(min(max(fraction, 0.0), 1.0), text=f"{fraction:.0%}")
    if job.status == "failed":
        st.error(job.error or "failed")
    if job.status in ACTIVE and st.button("Cancel", key=f"cancel-{job.id}"):
        st.info(cancel(job))
    st.code(log_tail(job, 40) or "(no output yet)", language=None)


def render() -> None:
    """The page."""
    st.title("Jobs")
    ws = workspace()
    with st.expander("Start a job", expanded=True), shown_errors("the job"):
        kind = st.radio("Kind", KINDS, horizontal=True, key="job-kind")
        spec = form(ws, kind)
        if spec is not None:
            job = launch(ws, spec)
            st.session_state["job"] = job.id
            st.success(f"started {job.id}: {job.summary}")
    with shown_errors("the job history"):
        jobs = list_jobs(ws)
        if not jobs:
            st.info("No jobs yet.")
            return
        st.dataframe(history(jobs), hide_index=True)
        ids = [job.id for job in jobs]
        current = st.session_state.get("job")
        chosen = st.selectbox(
            "Job", ids, index=ids.index(current) if current in ids else 0, key="job-open"
        )
        detail(ws, chosen)


if __name__ == "__main__":
    render()
