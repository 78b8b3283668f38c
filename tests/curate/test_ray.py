"""Curation on Ray: the local executor's dataset, through a worker's death and a driver's kill."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import psutil
import pytest

from tests.cli_helpers import run_cli
from winnow.files import read_json

ray = pytest.importorskip("ray", reason="ray is in the scale extra, which make test installs")

CC_FILE = "web/CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"
WINNOW = str(Path(sys.executable).parent / "winnow")
RAY = str(Path(sys.executable).parent / "ray")
FUZZY = "steps:\n  - step: language\n    languages: [en]\n  - step: minhash_dedup\n"


def dataset_rows(version: Path) -> dict[str, list[tuple]]:
    """Every split's rows, sorted, with the columns that say what happened to them."""
    out = {}
    for split in ("kept", "rejected"):
        files = sorted((version / split).glob("*.parquet"))
        frame = pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed")
        columns = [c for c in ("id", "text", "step", "reason", "duplicate_of") if c in frame]
        out[split] = sorted(frame.select(columns).rows())
    return out


def same_dataset(one: Path, other: Path) -> None:
    """Two versions hold the same rows, fingerprint and per-step counts."""
    first, second = read_json(one / "manifest.json"), read_json(other / "manifest.json")
    assert second["fingerprint"] == first["fingerprint"]
    assert second["counts"] == first["counts"]
    steps = [{k: s[k] for k in ("step", "in", "out", "tally")} for s in first["steps"]]
    assert [{k: s[k] for k in ("step", "in", "out", "tally")} for s in second["steps"]] == steps
    assert dataset_rows(other) == dataset_rows(one)


@pytest.fixture(scope="module")
def recipes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The shipped web-en recipe and a fuzzy one that Ray decides shard by shard."""
    folder = tmp_path_factory.mktemp("recipes")
    (folder / "fuzzy.yaml").write_text(FUZZY, encoding="utf-8")
    return {"web-en": "web-en", "fuzzy": str(folder / "fuzzy.yaml")}


def source_of(shared_data: Path, name: str) -> str:
    """The Common Crawl file, or for `files` every JSON Lines file of the web folder."""
    return str(shared_data / ("web/*.jsonl*" if name == "files" else CC_FILE))


@pytest.fixture(scope="module")
def local_runs(
    tmp_path_factory: pytest.TempPathFactory, shared_data: Path, recipes: dict[str, str]
) -> dict[str, Path]:
    """Each recipe over the real Common Crawl file with the local executor."""
    root = tmp_path_factory.mktemp("local")
    runs = {}
    for name, recipe in [*recipes.items(), ("files", "web-en")]:
        argv = [WINNOW, "curate", "run", recipe, "--source", source_of(shared_data, name)]
        argv += ["--output", name, "--batch-rows", "50", "-w", str(root)]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        runs[name] = root / "datasets" / name / "v1"
    return runs


@pytest.fixture
def local_ray() -> Iterator[None]:
    """A Ray instance in this process with two CPUs, shut down after the test."""
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING", log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_in_process_gives_the_local_dataset(
    local_ray: None,
    local_runs: dict[str, Path],
    recipes: dict[str, str],
    shared_data: Path,
    workspace: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """ray.init(num_cpus=2): web-en, minhash_dedup (decided shard by shard) and web-en over
    four files (each read by a task) match local."""
    for name, recipe in [*recipes.items(), ("files", "web-en")]:
        code, out = run_cli(
            capsys,
            *("curate", "run", recipe, "--source", source_of(shared_data, name)),
            *("--output", name, "--batch-rows", "50", "--executor", "ray"),
        )
        assert code == 0, out
        version = workspace / "datasets" / name / "v1"
        same_dataset(local_runs[name], version)
        execution = read_json(version / "manifest.json")["execution"]
        assert execution["executor"] == "ray" and execution["workers"] == 2
        reader = "a task per file" if name == "files" else "the driver"
        assert execution["source_read_by"] == reader
    rejected = dataset_rows(workspace / "datasets" / "fuzzy" / "v1")["rejected"]
    assert any(row[3] == "near_duplicate" for row in rejected)


def test_ray_errors_are_one_sentence(
    workspace: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A cluster that is not there, and --address without Ray, are named in one line."""
    source = str(shared_data / CC_FILE)
    code, out = run_cli(
        capsys,
        *("curate", "run", "web-en", "--source", source, "--output", "x"),
        *("--executor", "ray", "--address", f"127.0.0.1:{free_port()}"),
    )
    assert code == 2 and "could not connect to Ray at 127.0.0.1:" in out
    assert "Traceback" not in out
    code, out = run_cli(
        capsys,
        *("curate", "run", "web-en", "--source", source, "--output", "x"),
        *("--address", "auto"),
    )
    assert code == 2 and "--address names a Ray cluster; use it with --executor ray." in out


def test_strict_stops_in_a_task_with_the_row_named(
    local_ray: None, workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--strict on Ray: the task that reads the bad line stops the run with the same sentence."""
    for name, lines in (("a.jsonl", ['{"text": "fine"}']), ("b.jsonl", ['{"text": "ok"}', "{"])):
        (tmp_path / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out = run_cli(
        capsys,
        *("curate", "run", "web-en", "--source", str(tmp_path), "--output", "strict"),
        *("--executor", "ray", "--strict"),
    )
    assert code == 2 and "b.jsonl: line 2:" in out and "--strict stops here" in out
    assert "Traceback" not in out and "RayTaskError" not in out


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A Ray head started with `ray start` on 127.0.0.1 (two CPUs), stopped by the test; its
    address and its Ray Client address."""
    port, client = free_port(), free_port()
    temp = tmp_path_factory.mktemp("ray")
    start = [RAY, "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port)]
    start += ["--ray-client-server-port", str(client)]
    start += ["--num-cpus", "2", "--include-dashboard", "false", "--disable-usage-stats"]
    start += ["--temp-dir", str(temp)]
    done = subprocess.run(start, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    try:
        yield f"127.0.0.1:{port}", f"ray://127.0.0.1:{client}"
    finally:
        subprocess.run([RAY, "stop", "--force"], capture_output=True, timeout=120)


def driver(address: str, recipe: str, source: Path, root: Path, output: str) -> subprocess.Popen:
    """`winnow curate run --executor ray` against the cluster, in its own process group."""
    argv = [WINNOW, "curate", "run", recipe, "--source", str(source), "--output", output]
    argv += ["--batch-rows", "20", "--executor", "ray", "--address", address, "-w", str(root)]
    return subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )


def busy_workers() -> list[psutil.Process]:
    """Ray worker processes running a shard job now."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if cmdline and cmdline[0].startswith(("ray::finish_rows", "ray::ingest_file")):
            found.append(process)
    return found


def test_ray_client_address_gives_the_local_dataset(
    cluster: tuple[str, str], local_runs: dict[str, Path], shared_data: Path, tmp_path: Path
) -> None:
    """--address ray://HOST:PORT (Ray Client): the driver's tasks run on the cluster."""
    source = Path(source_of(shared_data, "files"))
    run = driver(cluster[1], "web-en", source, tmp_path, "client")
    out, _ = run.communicate(timeout=600)
    assert run.returncode == 0, out
    version = tmp_path / "datasets" / "client" / "v1"
    same_dataset(local_runs["files"], version)
    assert read_json(version / "manifest.json")["execution"]["address"] == cluster[1]


def test_cluster_survives_a_killed_worker_and_a_killed_driver(
    cluster: tuple[str, str],
    local_runs: dict[str, Path],
    recipes: dict[str, str],
    shared_data: Path,
    tmp_path: Path,
) -> None:
    """On a `ray start` cluster: a worker killed mid-shard is retried, and a driver killed
    mid-run resumes without redoing finished shards; both give the local dataset."""
    source = shared_data / CC_FILE
    run = driver(cluster[0], recipes["web-en"], source, tmp_path, "survivor")
    killed = 0
    deadline = time.monotonic() + 300
    while not killed and run.poll() is None and time.monotonic() < deadline:
        for process in busy_workers():
            process.kill()
            killed += 1
        time.sleep(0.02)
    out, _ = run.communicate(timeout=600)
    assert killed, "no worker was caught running a shard job"
    assert run.returncode == 0, out
    same_dataset(local_runs["web-en"], tmp_path / "datasets" / "survivor" / "v1")

    run = driver(cluster[0], recipes["fuzzy"], source, tmp_path, "resumed")
    done = tmp_path / "datasets" / "resumed"
    while run.poll() is None and len(list(done.glob(".staging-*/s0/done-rows/*.json"))) < 8:
        time.sleep(0.05)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait(timeout=60)
    finished = len(list(done.glob(".staging-*/s0/done-rows/*.json")))
    assert finished >= 8 and not (done / "v1").exists()
    again = driver(cluster[0], recipes["fuzzy"], source, tmp_path, "resumed")
    out, _ = again.communicate(timeout=600)
    assert again.returncode == 0, out
    assert "shards were done before this run" in out
    version = done / "v1"
    same_dataset(local_runs["fuzzy"], version)
    assert read_json(version / "manifest.json")["execution"]["resumed_shards"] >= finished


def test_a_local_run_killed_midway_finishes_on_ray(
    cluster: tuple[str, str], local_runs: dict[str, Path], shared_data: Path, tmp_path: Path
) -> None:
    """The staging area does not depend on the executor: a killed local run resumes on Ray."""
    argv = [WINNOW, "curate", "run", "web-en", "--source", str(shared_data / CC_FILE)]
    argv += ["--output", "switched", "--batch-rows", "20", "-w", str(tmp_path)]
    local = subprocess.Popen(argv, stdout=subprocess.DEVNULL, start_new_session=True)
    done = tmp_path / "datasets" / "switched"
    while local.poll() is None and len(list(done.glob(".staging-*/s0/done-rows/*.json"))) < 8:
        time.sleep(0.05)
    os.killpg(local.pid, signal.SIGKILL)
    local.wait(timeout=60)
    finished = len(list(done.glob(".staging-*/s0/done-rows/*.json")))
    assert finished >= 8 and not (done / "v1").exists()
    again = driver(cluster[0], "web-en", shared_data / CC_FILE, tmp_path, "switched")
    out, _ = again.communicate(timeout=600)
    assert again.returncode == 0, out
    same_dataset(local_runs["web-en"], done / "v1")
    assert read_json(done / "v1" / "manifest.json")["execution"]["resumed_shards"] >= finished
