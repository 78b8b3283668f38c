"""Jobs: curation, training and eval commands started from the dashboard or `winnow jobs`,
each run by a detached supervisor process that records its status, log and error in
WORKSPACE/jobs/<id>/."""

from winnow.jobs.control import cancel, launch
from winnow.jobs.logs import log_tail, progress
from winnow.jobs.specs import Available, JobSpec, Param, available, fields
from winnow.jobs.store import Job, get_job, list_jobs, read_job

__all__ = [
    "Available",
    "Job",
    "JobSpec",
    "Param",
    "available",
    "cancel",
    "fields",
    "get_job",
    "launch",
    "list_jobs",
    "log_tail",
    "progress",
    "read_job",
]
