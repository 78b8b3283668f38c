"""Where shard jobs run: in this process, a local process pool, or Ray tasks on a cluster.

Every job is a module-level function whose inputs and outputs are small or are files under
the run's staging folder, so the same job runs unchanged in any of the three; results are
written before a job's done marker, so a job that dies is simply run again. On Ray a task
whose worker dies is retried (`RETRIES` times); on a cluster of several machines the
workspace must be on a filesystem every node sees at the same path (`check_shared` says so
in one sentence when it is not).
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from winnow.errors import WinnowError

EXECUTORS = ("local", "ray")
RETRIES = 3
"""How often Ray runs a task again after its worker process or node died."""
CLIENT_ATTEMPTS = 4
"""How often a Ray Client address is tried while its server is starting up."""


class Executor:
    """Runs jobs in this process, one at a time; the base of the parallel executors."""

    distributed = False

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Start `fn(*args)` and return a handle for `result`; here it runs at once."""
        return fn(*args)

    def result(self, handle: Any) -> Any:
        """Wait for a job and return its value, raising its error here."""
        return handle

    def cancel(self, handles: Iterable[Any]) -> None:
        """Stop jobs that have not finished; nothing is pending here."""

    def map(
        self,
        fn: Callable[..., Any],
        jobs: list[tuple[Any, ...]],
        on_result: Callable[[Any], None] | None = None,
    ) -> list[Any]:
        """Run `fn` over every argument tuple, at most 2 jobs per worker in flight, in order;
        `on_result` hears each result as it comes."""
        handles: list[Any] = []
        results: list[Any] = []

        def collect() -> None:
            results.append(self.result(handles[len(results)]))
            if on_result is not None:
                on_result(results[-1])

        try:
            for args in jobs:
                handles.append(self.submit(fn, *args))
                if len(handles) - len(results) > 2 * self.workers:
                    collect()
            while len(results) < len(handles):
                collect()
        except BaseException:
            self.cancel(handles[len(results) :])
            raise
        return results

    def close(self) -> None:
        """Release the workers."""


PR_SET_PDEATHSIG = 1
"""prctl(2) option: the signal a process gets when the thread that started it ends."""
WATCH_SECONDS = 0.5
"""How often a worker checks that its parent is still there."""


def die_with_parent(parent: int, by_signal: bool) -> None:
    """A pool worker's initializer: end the worker when the run that started it dies, even by
    SIGKILL, so no orphan goes on writing shards. On Linux the kernel sends SIGKILL at the
    parent's death (only when the pool was made in the main thread: the signal follows the
    thread that started the worker); everywhere a watchdog thread ends the worker once its
    parent process is gone."""
    if by_signal and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def start_worker(parent: int, by_signal: bool, modules: tuple[str, ...]) -> None:
    """A pool worker's initializer: die with the run (`die_with_parent`), then import the
    modules its jobs need (the recipe's steps), which it does while the run reads its source."""
    die_with_parent(parent, by_signal)
    for name in modules:
        importlib.import_module(name)


def _watch_parent(parent: int) -> None:
    """End this process as soon as it is no longer the child of `parent`."""
    while os.getppid() == parent:
        time.sleep(WATCH_SECONDS)
    os._exit(1)


class ProcessExecutor(Executor):
    """Jobs in spawned worker processes on this machine (`--workers N`), which die with the
    process that started them."""

    def __init__(self, workers: int, modules: tuple[str, ...] = ()) -> None:
        super().__init__(workers)
        main = threading.current_thread() is threading.main_thread()
        self.pool = ProcessPoolExecutor(
            workers,
            mp_context=get_context("spawn"),
            initializer=start_worker,
            initargs=(os.getpid(), main, modules),
        )
        for _ in range(workers):  # a pool starts a process per queued job: start them all now
            self.pool.submit(os.getpid)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Queue the job in the pool."""
        return self.pool.submit(fn, *args)

    def result(self, handle: Future[Any]) -> Any:
        """Wait for the job's value."""
        return handle.result()

    def cancel(self, handles: Iterable[Future[Any]]) -> None:
        """Drop queued jobs and stop the pool without waiting for running ones."""
        for handle in handles:
            handle.cancel()
        self.pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Wait for the pool's processes to exit."""
        self.pool.shutdown(wait=True)


class RayExecutor(Executor):
    """Each job a Ray task: on a local Ray instance, or on the cluster at `address`."""

    distributed = True

    def __init__(self, address: str | None, workers: int | None) -> None:
        if address and "RAY_AUTH_MODE" not in os.environ and has_token():
            # Ray sends its token on its own for `auto` only (read when ray is first imported);
            # a cluster without authentication accepts it too
            os.environ["RAY_AUTH_MODE"] = "token"
        try:
            import ray
        except ImportError as error:
            raise WinnowError(
                "--executor ray needs the ray package; install it with "
                "pip install 'winnow-llm[scale]' (or pip install ray)."
            ) from error
        self.ray = ray
        self.started = not ray.is_initialized()
        if self.started:
            self._connect(address, workers)
        cpus = int(ray.cluster_resources().get("CPU", 1))
        super().__init__(workers or max(1, cpus))
        self.remotes: dict[Callable[..., Any], Any] = {}

    def _connect(self, address: str | None, workers: int | None) -> None:
        """Join the cluster at `address`, or start a local instance with `workers` CPUs."""
        settings: dict[str, Any] = {
            "include_dashboard": False,
            "logging_level": "WARNING",
            "log_to_driver": False,
        }
        try:
            if address:
                reachable(address)
                self._join(address, settings)
            else:
                self.ray.init(num_cpus=workers or os.cpu_count() or 1, **settings)
        except (ConnectionError, RuntimeError, ValueError) as error:
            where = address or "a local Ray instance"
            raise WinnowError(
                f"could not connect to Ray at {where}: {str(error).splitlines()[0]}; start the "
                "cluster (ray start --head) or check --address (auto, HOST:PORT or "
                "ray://HOST:10001)."
            ) from error

    def _join(self, address: str, settings: dict[str, Any]) -> None:
        """Connect, trying a Ray Client address again while its server is still starting up
        (it refuses clients until the head's agents are ready)."""
        for attempt in range(CLIENT_ATTEMPTS):
            try:
                self.ray.init(address=address, **settings)
                return
            except ConnectionError as error:
                starting = "Initialization failure" in str(error)
                if not (address.startswith("ray://") and starting):
                    raise
                if attempt == CLIENT_ATTEMPTS - 1:
                    raise
                self.ray.shutdown()
                time.sleep(5)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Start the job as a task of one CPU, retried if its worker dies."""
        if fn not in self.remotes:
            self.remotes[fn] = self.ray.remote(num_cpus=1, max_retries=RETRIES)(fn)
        return self.remotes[fn].remote(*args)

    def result(self, handle: Any) -> Any:
        """Wait for the task; a Winnow error raised in it is raised here as it was."""
        try:
            return self.ray.get(handle)
        except self.ray.exceptions.RayTaskError as error:
            if isinstance(error.cause, WinnowError):
                raise error.cause from None
            raise

    def cancel(self, handles: Iterable[Any]) -> None:
        """Cancel tasks that have not finished, by interrupting them: Ray 2.60 aborts the driver
        when a force-killed task's reply arrives after the kill (task_manager.cc check)."""
        pending = list(handles)
        if not pending:
            return
        _, unfinished = self.ray.wait(pending, num_returns=len(pending), timeout=0)
        for handle in unfinished:
            self.ray.cancel(handle, force=False)

    def check_shared(self, folder: Path) -> None:
        """Fail in one sentence when a node cannot see the run's staging folder."""
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        probe = self.ray.remote(num_cpus=0)(_folder_exists)
        nodes = [n for n in self.ray.nodes() if n.get("Alive")]
        checks = [
            probe.options(
                scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False)
            ).remote(str(folder))
            for n in nodes
        ]
        for node, seen in zip(nodes, self.ray.get(checks), strict=True):
            if not seen:
                raise WinnowError(
                    f"Ray node {node.get('NodeManagerAddress')} cannot see {folder}; put the "
                    "workspace on a filesystem every node mounts at the same path (NFS, a "
                    "cluster filesystem or a mounted bucket)."
                )

    def close(self) -> None:
        """Disconnect, stopping the local instance if this run started it."""
        if self.started:
            self.ray.shutdown()


def has_token() -> bool:
    """Whether this user has a Ray cluster token (Ray writes one when it starts a cluster)."""
    named = os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH")
    return bool(named) or (Path.home() / ".ray" / "auth_token").is_file()


def reachable(address: str, seconds: float = 5.0) -> None:
    """Fail fast when nothing listens at a HOST:PORT address (Ray itself retries for minutes)."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return
    try:
        socket.create_connection((host, int(port)), timeout=seconds).close()
    except OSError as error:
        reason = error.strerror or error
        raise ConnectionError(f"nothing answers at {host}:{port} ({reason})") from None


def _folder_exists(folder: str) -> bool:
    """Whether this node sees the folder (a Ray probe task)."""
    return Path(folder).is_dir()


def make_executor(
    kind: str, workers: int | None = None, address: str | None = None, modules: tuple[str, ...] = ()
) -> Executor:
    """The executor a run asked for; `address` only means something for Ray; local worker
    processes start at once and import `modules`."""
    if kind not in EXECUTORS:
        raise WinnowError(f"--executor must be one of {', '.join(EXECUTORS)}, not '{kind}'.")
    if kind == "ray":
        return RayExecutor(address, workers)
    if address:
        raise WinnowError("--address names a Ray cluster; use it with --executor ray.")
    count = workers or 1
    return ProcessExecutor(count, modules) if count > 1 else Executor()
