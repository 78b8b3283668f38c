"""Documents per second against workers: the local executor and a Ray cluster, side by side.

Two workloads built from the real web documents in ../shared/data/web: web-en over a JSONL
slice of `memory_2gb.build_corpus` cut into 8 files (as a crawl comes, so Ray tasks read
them), and a one-step `minhash_dedup` recipe over documents
from `minhash_1m.build_corpus` (every tenth a planted near-copy). Each runs with
`--executor local --workers N` and on a Ray cluster of N CPUs started with `ray start --head
--num-cpus N` on 127.0.0.1 (`--executor ray --address ...`, where `minhash_dedup` is
decided shard by shard through partitioned Parquet), for N = 1 and 2, one after the other;
the local runs go before the cluster starts (Ray's daemons take CPU for a while after
`ray start`). Each run is repeated `--rounds` times, each workload's runs in turn, and the
fastest kept. Every run must give the same fingerprint. Wall time includes start-up and
connecting to the cluster.

    cd benchmarks && ../.venv/bin/python scale_out.py [--megabytes 100] [--documents 200000]
        [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from memory_2gb import build_corpus as web_corpus
from minhash_1m import build_corpus as minhash_corpus

BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def curate(recipe: str, source: Path, root: Path, extra: list[str]) -> tuple[float, dict]:
    """Run one curation in a child process; its wall seconds and manifest."""
    output = f"o{time.monotonic_ns()}"
    argv = [str(BIN / "winnow"), "curate", "run", recipe, "--source", str(source)]
    argv += ["--output", output, "-w", str(root), *extra]
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode:
        sys.exit(done.stdout[-2000:] + done.stderr[-2000:])
    manifest = json.loads((root / "datasets" / output / "v1" / "manifest.json").read_text())
    return seconds, manifest


def split(path: Path, build, size: int, folder: Path, parts: int = 8) -> int:
    """Build a corpus into one file, then cut it into `parts` files in `folder`, as crawls
    come; return its documents."""
    documents = build(path, size)
    folder.mkdir()
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    step = -(-len(lines) // parts)
    for k in range(parts):
        (folder / f"part-{k:02d}.jsonl").write_text("".join(lines[k * step : (k + 1) * step]))
    path.unlink()
    return documents


def ray_cluster(cpus: int, temp: Path) -> str:
    """Start a one-node Ray cluster of `cpus` CPUs on 127.0.0.1; its address."""
    port = free_port()
    argv = [str(BIN / "ray"), "start", "--head", "--node-ip-address", "127.0.0.1"]
    argv += ["--port", str(port), "--num-cpus", str(cpus), "--include-dashboard", "false"]
    argv += ["--disable-usage-stats", "--temp-dir", str(temp)]
    subprocess.run(argv, check=True, capture_output=True)
    return f"127.0.0.1:{port}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=100, help="web-en corpus size")
    parser.add_argument("--documents", type=int, default=200_000, help="minhash corpus size")
    parser.add_argument("--batch-rows", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=2, help="runs of each; the fastest kept")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="winnow-scale-") as tmp:
        folder = Path(tmp)
        web = folder / "web"
        web_docs = split(folder / "web.jsonl", web_corpus, args.megabytes * 2**20, web)
        near = folder / "near.jsonl"
        minhash_corpus(near, args.documents)
        recipe = folder / "fuzzy.yaml"
        recipe.write_text("steps:\n  - step: minhash_dedup\n", encoding="utf-8")
        loads = {
            "web-en": ("web-en", web, web_docs),
            "minhash_dedup": (str(recipe), near, args.documents),
        }
        batch = ["--batch-rows", str(args.batch_rows)]
        rows = []

        def measure(executor: str, workers: int, extra: list[str]) -> None:
            """Each workload on one executor, `--rounds` times in turn; the fastest kept."""
            best: dict[str, tuple[float, dict]] = {}
            for _ in range(args.rounds):
                for name, (recipe_arg, source, _docs) in loads.items():
                    seconds, manifest = curate(recipe_arg, source, folder / "ws", extra)
                    if name not in best or seconds < best[name][0]:
                        best[name] = (seconds, manifest)
            for name, (seconds, manifest) in best.items():
                docs = loads[name][2]
                rows.append((name, executor, workers, docs, seconds, manifest))
                print(
                    f"{name:14} {executor:5} workers={workers} {seconds:7.1f} s "
                    f"{docs / seconds:9,.0f} docs/s kept {manifest['counts']['kept']:,} "
                    f"fingerprint {manifest['fingerprint'][:12]}",
                    flush=True,
                )

        for workers in (1, 2):
            measure("local", workers, [*batch, "--workers", str(workers)])
            address = ray_cluster(workers, folder / f"ray{workers}")
            try:
                measure("ray", workers, [*batch, "--executor", "ray", "--address", address])
            finally:
                subprocess.run([str(BIN / "ray"), "stop", "--force"], capture_output=True)
        for name in loads:
            prints = {r[5]["fingerprint"] for r in rows if r[0] == name}
            assert len(prints) == 1, f"{name}: fingerprints differ: {prints}"
        web_bytes = sum(f.stat().st_size for f in web.iterdir())
        size = {"web-en": web_bytes, "minhash_dedup": near.stat().st_size}
        print(f"\nfastest of {args.rounds} rounds")
        print("\n| workload | executor | workers | documents | wall | docs/s | MB/s | vs 1 |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for name, executor, workers, docs, seconds, _ in rows:
            one = next(r[4] for r in rows if r[:2] == (name, executor) and r[2] == 1)
            print(
                f"| {name} | {executor} | {workers} | {docs:,} | {seconds:.1f} s | "
                f"{docs / seconds:,.0f} | {size[name] / seconds / 1e6:.2f} | {one / seconds:.2f}x |"
            )
        print("\nfingerprints identical across executors and workers: yes")


if __name__ == "__main__":
    main()
