"""The README's commands, their help texts, and every bad-input case, as a user runs them."""

import gzip
import json
import re
from pathlib import Path

import polars as pl
import pytest

from tests.cli_helpers import run_cli


def test_demo_then_every_data_command(
    workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run_cli(capsys, "demo", "--quick")
    assert code == 0, out
    assert "demo-web@v1: steps" in out and "exact_dedup" in out and "duplicate" in out
    assert "--executor ray: the same dataset, fingerprint" in out
    assert "quarantined" in out and "line 13" in out
    assert "near_duplicate │ 1 │ [demo-near-bees]" in out and "clusters of 2 │ 1" in out
    assert "input 15 = kept 10 + rejected 4 + quarantined 1" in out and "empty_output" in out
    assert "refusal │ refusal │ 1" in out and "template_leftover │ 1" in out
    preference = json.loads((workspace / "datasets/demo-preference/v1/manifest.json").read_text())
    assert preference["counts"]["kept"] == 22 and preference["counts"]["quarantined"] == 2
    runs = {p.name: json.loads((p / "run.json").read_text()) for p in workspace.glob("runs/*")}
    assert {"demo-base", "demo-sft", "demo-reward", "demo-sample", "demo-dpo"} <= set(runs)
    assert runs["demo-dpo"]["inputs"][0]["name"] == "demo-sample-pairs"
    assert runs["demo-dpo"]["base"]["run"]["name"] == "demo-sft"
    for model in ("demo-base", "demo-sft", "demo-dpo"):
        scores = runs[f"eval-{model}"]
        assert scores["status"] == "completed" and scores["tasks"]["winnow_arc_easy"]["task_hash"]
        assert f"eval run eval-{model}: {model}" in out
    assert re.search(r"eval-demo-sft \[limit \d+\] \(delta\).*eval-demo-dpo \[limit \d+\]", out)
    assert "scored on a subset of each task (--limit)" in out and "best" in out
    assert "demo stages" in out and "total" in out and "dashboard -w" in out
    assert re.search(r"base, SFT and DPO \(acc ± stderr; a subset: --limit \d+\)", out)
    assert "│ DPO │ eval-demo-dpo │" in out
    ablation = json.loads((workspace / "ablations/demo-ablation/ablation.json").read_text())
    assert ablation["status"] == "completed" and len(ablation["units"]) == 4
    assert ablation["datasets"]["demo"]["reused"] is True
    assert ablation["datasets"]["demo"]["dataset"] == "demo-web@v1"
    assert "Verdict of demo-ablation" in out and "demo minus unfiltered" in out
    assert all(" ".join(line.split()) in out for line in ablation["verdict"])
    card = json.loads((workspace / "models/demo-quality-embed/card.json").read_text())
    assert card["encoder"]["name"] == "minilm"
    assert card["classes"]["positive"]["usable"] == card["classes"]["negative"]["usable"] == 20
    model = json.loads((workspace / "datasets/demo-web-model/v1/manifest.json").read_text())
    assert model["parents"][0]["name"] == "demo-web"
    assert [s["step"] for s in model["steps"]] == ["embed_classifier", "semantic_dedup"]
    assert model["counts"]["kept"] + model["counts"]["rejected"] == model["counts"]["input"] == 14
    assert f"demo-web-model@v1 keeps {model['counts']['kept']}" in out
    manifest = json.loads(next(workspace.glob("datasets/demo-web/v1/manifest.json")).read_text())
    counts = manifest["counts"]
    assert counts["input"] == 29 and counts["quarantined"] == 2
    assert counts["input"] == counts["kept"] + counts["rejected"] + counts["quarantined"]

    code, out = run_cli(capsys, "data", "list")
    assert code == 0 and "demo-web@v1" in out and "demo" in out
    code, out = run_cli(capsys, "data", "show", "demo-web")
    assert code == 0 and "kept schema" in out and "fingerprint" in out
    code, out = run_cli(capsys, "data", "head", "demo-web", "-n", "2", "--split", "rejected")
    assert code == 0 and "reason" in out
    code, out = run_cli(
        capsys, "data", "sql", 'SELECT step, count(*) AS n FROM "demo-web_rejected" GROUP BY step'
    )
    assert code == 0 and "exact_dedup" in out
    for name in ("kept.parquet", "rejected.jsonl", "quarantine.jsonl"):
        split = name.split(".")[0]
        target = tmp_path / name
        code, out = run_cli(
            capsys, "data", "export", "demo-web@v1", "--split", split, "--output", str(target)
        )
        assert code == 0, out
    assert pl.read_parquet(tmp_path / "kept.parquet").height == counts["kept"]
    rejected = pl.read_ndjson(tmp_path / "rejected.jsonl")
    assert rejected.height == counts["rejected"] and {"step", "reason"} <= set(rejected.columns)
    assert pl.read_ndjson(tmp_path / "quarantine.jsonl")["line"].to_list() == [13, 21]

    code, out = run_cli(
        capsys, "curate", "run", "web-en", "--source", "demo-web@v1", "--output", "again"
    )
    assert code == 0, out
    again = json.loads(next(workspace.glob("datasets/again/v1/manifest.json")).read_text())
    assert again["parents"] == [
        {"name": "demo-web", "version": "v1", "fingerprint": manifest["fingerprint"]}
    ]
    assert again["counts"]["input"] == counts["kept"]


def listed_names(listing: str) -> list[str]:
    """What a listing must name: every command, registered step or catalog recipe."""
    import typer.main

    from winnow.catalogs import list_entries
    from winnow.cli import app
    from winnow.curate.steps import STEPS

    if listing == "commands":
        return list(typer.main.get_command(app).commands)
    if listing == "steps":
        return [f"{name} v" for name in STEPS]
    return list(list_entries("recipes"))


@pytest.mark.parametrize(
    ("args", "shown", "listing"),
    [
        (["--help"], ["Usage: winnow [OPTIONS] COMMAND"], "commands"),
        (
            ["curate", "run", "--help"],
            ["Usage: winnow curate run", "--source", "--output", "Example: winnow curate run"],
            None,
        ),
        (
            ["data", "export", "--help"],
            ["--split", "plain", "trl", "llama-factory", "Example: winnow data export"],
            None,
        ),
        (["demo", "--help"], ["--quick", "Example: winnow demo"], None),
        (["curate", "steps"], ["recipe steps"], "steps"),
        (["curate", "recipes"], ["demo-instruct"], "recipes"),
    ],
)
def test_help_texts(
    args: list[str], shown: list[str], listing: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each help text shows its usage, options and example; the top level lists every
    command, `curate steps` every registered step and `curate recipes` every catalog recipe."""
    code, out = run_cli(capsys, *args)
    assert code == 0, out
    names = listed_names(listing) if listing else []
    if listing:
        assert len(names) >= 6, names
    missing = [text for text in [*shown, *names] if text not in out]
    assert not missing, out


def corpus(tmp_path: Path, lines: list[bytes]) -> Path:
    """A JSONL file with the given raw lines."""
    path = tmp_path / "raw.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


GOOD = json.dumps({"id": "ok", "text": "A fine sentence with enough words."}).encode()


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (b'{"id": "x", "text": "cut', "line 2"),
        (b'{"id": "x", "text": "caf\xe9"}', "UTF-8"),
        (b'{"id": "x", "body": "no text here"}', "text"),
    ],
)
def test_bad_rows_are_quarantined_and_counted(
    workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: bytes, error: str
) -> None:
    source = corpus(tmp_path, [GOOD, bad, GOOD.replace(b'"ok"', b'"ok2"')])
    code, out = run_cli(
        capsys, "curate", "run", "web-en", "--source", str(source), "--output", "bad"
    )
    assert code == 0, out
    assert "quarantined 1" in out and "line 2" in out
    manifest = json.loads(next(workspace.glob("datasets/bad/v1/manifest.json")).read_text())
    assert manifest["counts"]["input"] == 3 and manifest["counts"]["quarantined"] == 1
    quarantine = pl.read_parquet(workspace / "datasets/bad/v1/quarantine/*.parquet")
    assert quarantine["line"].to_list() == [2] and error in quarantine["error"][0]


def test_strict_stops_at_first_bad_row(
    workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = corpus(tmp_path, [GOOD, b"{not json"])
    code, out = run_cli(
        capsys, "curate", "run", "web-en", "--source", str(source), "--output", "strict", "--strict"
    )
    assert code == 2 and "raw.jsonl: line 2" in out and "--strict" in out


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "missing.jsonl"),
        ("empty", "empty"),
        ("recipe", "unknown step 'gopher'"),
        ("param", "has no parameter 'min_wordz'"),
    ],
)
def test_bad_input_gets_one_clear_line(
    workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], setup: str, message: str
) -> None:
    source, recipe = corpus(tmp_path, [GOOD]), "web-en"
    if setup == "missing":
        source = tmp_path / "missing.jsonl"
    elif setup == "empty":
        source = tmp_path / "empty.jsonl"
        source.write_bytes(b"")
    elif setup == "recipe":
        recipe = str(tmp_path / "r.yaml")
        Path(recipe).write_text("steps:\n  - step: gopher\n")
    else:
        recipe = str(tmp_path / "r.yaml")
        Path(recipe).write_text("steps:\n  - step: c4\n    min_wordz: 3\n")
    code, out = run_cli(capsys, "curate", "run", recipe, "--source", str(source), "--output", "x")
    assert code == 2 and message in out and "Traceback" not in out


def test_gzip_source_and_unknown_dataset(
    workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "docs.jsonl.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(GOOD + b"\n")
    code, out = run_cli(capsys, "curate", "run", "web-en", "--source", str(path), "--output", "gz")
    assert code == 0, out
    code, out = run_cli(capsys, "data", "show", "nothing")
    assert code == 2 and "no dataset 'nothing'" in out


def test_bad_sql_names_the_problem(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_cli(capsys, "data", "sql", "SELECT * FROM nowhere")
    assert code == 2 and "the query failed" in out and "nowhere" in out


def test_text_mode_reads_a_document_per_file(
    workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.txt").write_text("First line of a.\nSecond line of a.\n")
    (folder / "b.txt").write_text("Only line of b.\n")
    recipe = tmp_path / "dedup.yaml"
    recipe.write_text("steps:\n  - step: exact_dedup\n")
    args = ["curate", "run", str(recipe), "--source", str(folder), "--output"]
    assert run_cli(capsys, *args, "per-file", "--text-mode", "file")[0] == 0
    assert run_cli(capsys, *args, "per-line")[0] == 0
    counts = {
        name: json.loads(next(workspace.glob(f"datasets/{name}/v1/manifest.json")).read_text())[
            "counts"
        ]["input"]
        for name in ("per-file", "per-line")
    }
    assert counts == {"per-file": 2, "per-line": 3}
