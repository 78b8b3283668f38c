"""`winnow curate annotate`: prompts, the score rule, an endpoint that misbehaves, the reply
cache, the published dataset's lineage, a local model, and kappa against people's labels."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import polars as pl
import pytest
from sklearn.metrics import cohen_kappa_score

from tests.cli_helpers import run_cli
from tests.dashboard.helpers import labeller, texts
from tests.tiny_lm import build_tiny_lm, seed_task_lines
from winnow.annotate.agreement import machine_labels
from winnow.annotate.annotators import EndpointAnnotator
from winnow.annotate.cache import ReplyCache
from winnow.annotate.parse import parse_score
from winnow.annotate.prompts import load_prompt
from winnow.curate.recipes import load_recipe
from winnow.curate.runner import RunOptions, run_recipe
from winnow.curate.sources import resolve_source
from winnow.errors import WinnowError
from winnow.labels.agreement import agreement
from winnow.labels.items import Item
from winnow.labels.store import open_store
from winnow.labels.tasks import load_task
from winnow.workspace import Workspace


@dataclass
class Script:
    """What the fake endpoint answers for each document, found by a snippet of its text."""

    answers: dict[str, str] = field(default_factory=dict)
    calls: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def behaviour(self, prompt: str) -> tuple[str, str]:
        """(snippet, behaviour) of the document inside this prompt."""
        for snippet, what in self.answers.items():
            if snippet in prompt:
                return snippet, what
        return "", "score:2"


def reply_for(what: str, attempt: int) -> tuple[int, str | None]:
    """(HTTP status, message content) for a scripted behaviour on a given attempt."""
    kind, _, arg = what.partition(":")
    if kind == "score":
        return 200, f"The page explains its topic step by step.\nEducational score: {arg}"
    if kind == "garbage":
        return 200, "lorem ipsum dolor sit amet, the weather is nice"
    if kind == "refuse":
        return 200, "I'm sorry, but I cannot help with rating this content."
    if kind == "cut":  # the token limit stopped it inside the number: "12" read as "1"
        return 200, "Educational score: 12. Educational score: 1"
    if kind == "flaky":
        return (503, None) if attempt == 1 else (200, f"Educational score: {arg}")
    if kind == "down":
        return 500, None
    raise AssertionError(what)


@pytest.fixture()
def endpoint() -> Iterator[tuple[str, Script]]:
    """An OpenAI-compatible /v1 server on 127.0.0.1 that answers as its script says."""
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            assert body["temperature"] == 0 and self.path == "/v1/chat/completions"
            snippet, what = script.behaviour(body["messages"][0]["content"])
            with script.lock:
                script.calls[snippet] += 1
                attempt = script.calls[snippet]
            if what == "sleep":  # too slow for both tries of the first run, then quick
                if attempt <= 2:
                    time.sleep(1.5)
                what = "score:4"
            status, content = reply_for(what, attempt)
            finish = "length" if what == "cut" else "stop"
            message = {"role": "assistant", "content": content}
            payload = {"choices": [{"message": message, "finish_reason": finish}]}
            data = json.dumps(payload).encode() if status == 200 else b"{}"
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the timeout case)

        def log_message(self, *args: object) -> None:
            """Keep the test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", script
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    """An untrained local causal LM: it answers, but not to the rubric."""
    return build_tiny_lm(tmp_path_factory.mktemp("tiny-lm"), seed_task_lines(shared_data))


@pytest.fixture()
def docs(workspace: Path, shared_data: Path, tmp_path: Path) -> list[dict[str, str]]:
    """Ten Wikipedia paragraphs and ten C4 pages curated into dataset `docs` (normalized only),
    as the dataset holds them."""
    wiki = [line for line in (shared_data / "web" / "wiki_demo.txt").read_text().splitlines()]
    wiki = [line for line in wiki if len(line) > 200][:10]
    c4 = pl.read_ndjson(shared_data / "web" / "c4_demo.jsonl")["text"].to_list()[:10]
    rows = [{"id": f"wiki-{i}", "text": t} for i, t in enumerate(wiki)]
    rows += [{"id": f"c4-{i}", "text": t} for i, t in enumerate(c4)]
    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    ws = Workspace(workspace)
    made = run_recipe(
        ws, load_recipe("unfiltered"), resolve_source(str(path)), "docs", RunOptions()
    )
    return pl.read_parquet(made.path / "kept" / "*.parquet").select("id", "text").to_dicts()


def snippet(text: str) -> str:
    """A piece of a document that identifies it inside a prompt."""
    return text[:60]


def test_prompt_catalog_and_score_rule() -> None:
    """The three catalog prompts load; the last in-scale match is the score, else a reason."""
    for name in ("fineweb-edu", "textbook", "fineweb-edu-ko"):
        prompt = load_prompt(name)
        assert prompt.scale == (0, 5) and "{text}" in prompt.template
        assert prompt.render("¤" * 10_000).count("¤") == prompt.max_chars
    edu = load_prompt("fineweb-edu")
    assert parse_score("Educational score: 2\nOn reflection, Educational score: **4**", edu) == (
        4,
        None,
    )
    assert parse_score("Educational score: 7", edu) == (None, "out_of_range")
    assert parse_score("Educational score: 1", edu, truncated=True) == (None, "truncated")
    assert parse_score("Educational score: 1\nThe", edu, truncated=True) == (1, None)
    assert parse_score("   \n", edu) == (None, "empty")
    assert parse_score("As an AI language model, I cannot judge this.", edu) == (None, "refused")
    assert parse_score("It is a nice page about cats.", edu) == (None, "no_score")
    korean = load_prompt("fineweb-edu-ko")
    assert parse_score("근거: 개념을 잘 설명한다.\n교육 점수: 3", korean) == (3, None)
    assert parse_score("죄송하지만 도와드릴 수 없습니다.", korean) == (None, "refused")
    assert edu.hash != korean.hash


def test_bad_prompts_say_what_to_fix(tmp_path: Path) -> None:
    """An unknown prompt lists the catalog; a file without a score group or {text} is named."""
    with pytest.raises(WinnowError, match="use one of: fineweb-edu, fineweb-edu-ko, textbook"):
        load_prompt("educational")
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: t\nscale: [0, 5]\npattern: 'score: [0-9]'\ntemplate: '{text}'\n")
    with pytest.raises(WinnowError, match=r"bad.yaml: key 'pattern' must have one group"):
        load_prompt(str(bad))
    bad.write_text("title: t\nscale: [5, 0]\npattern: '([0-9])'\ntemplate: '{text}'\n")
    with pytest.raises(WinnowError, match=r"key 'scale' must be \[low, high\]"):
        load_prompt(str(bad))
    bad.write_text("title: t\nscale: [0, 5]\npattern: '([0-9])'\ntemplate: 'no slot'\n")
    with pytest.raises(WinnowError, match=r"key 'template' must contain \{text\}"):
        load_prompt(str(bad))


def annotate(capsys: pytest.CaptureFixture[str], url: str, *extra: str) -> tuple[int, str]:
    """Run the command against the fake endpoint."""
    args = ["curate", "annotate", "docs", "--prompt", "fineweb-edu", "--annotator", url]
    return run_cli(capsys, *args, "--timeout", "1", "--retries", "1", *extra)


def test_endpoint_scores_quarantines_and_caches(
    capsys: pytest.CaptureFixture[str],
    workspace: Path,
    docs: list[dict[str, str]],
    endpoint: tuple[str, Script],
) -> None:
    """Planted scores come back; garbage, a refusal, an out-of-scale score and a timeout are
    quarantined with the raw reply; a 503 is retried; a rerun asks nothing again."""
    url, script = endpoint
    planted = {}
    for row in docs:
        planted[row["id"]] = 4 if row["id"].startswith("wiki") else 1
        script.answers[snippet(row["text"])] = f"score:{planted[row['id']]}"
    odd = {"c4-0": "garbage", "c4-1": "refuse", "c4-2": "score:9", "wiki-0": "sleep"}
    odd["wiki-1"], odd["c4-3"] = "flaky:5", "cut"
    by_id = {row["id"]: row["text"] for row in docs}
    for row_id, what in odd.items():
        script.answers[snippet(by_id[row_id])] = what
    planted["wiki-1"] = 5
    code, out = annotate(capsys, url, "--sample", "20", "--output", "edu", "--batch-size", "4")
    assert code == 0, out
    ws = Workspace(workspace)
    version = ws.dataset("edu")
    kept = pl.read_parquet(version.path / "kept" / "*.parquet")
    assert kept.columns == ["id", "text", "score", "reply", "prompt", "prompt_hash", "annotator"]
    wanted = {
        k: v for k, v in planted.items() if k not in ("c4-0", "c4-1", "c4-2", "c4-3", "wiki-0")
    }
    assert dict(kept.select("id", "score").iter_rows()) == wanted
    assert kept["text"].to_list() == [by_id[i] for i in kept["id"]]
    aside = pl.read_parquet(version.path / "quarantine" / "*.parquet")
    errors = {e.split(": ", 1)[0]: e.split(": ", 1)[1] for e in aside["error"]}
    assert errors["c4-0"] == "no_score" and errors["c4-1"] == "refused"
    assert errors["c4-2"] == "out_of_range" and errors["c4-3"] == "truncated"
    assert errors["wiki-0"].startswith("annotator error: ")
    assert "timeout (after 2 tries)" in errors["wiki-0"]
    raw = dict(zip([e.split(":")[0] for e in aside["error"]], aside["raw"], strict=True))
    assert raw["c4-0"] == "lorem ipsum dolor sit amet, the weather is nice"
    assert script.calls[snippet(by_id["wiki-1"])] == 2  # the 503 was asked again
    manifest = version.manifest
    section = manifest["annotate"]
    assert section["counts"] == {
        "sampled": 20,
        "error": 1,
        "no_score": 1,
        "out_of_range": 1,
        "refused": 1,
        "scored": 15,
        "truncated": 1,
    }
    assert manifest["kind"] == "annotations" and manifest["counts"]["quarantined"] == 5
    parent = ws.dataset("docs")
    assert manifest["parents"] == [
        {"name": "docs", "version": "v1", "fingerprint": parent.manifest["fingerprint"]}
    ]
    assert section["prompt"]["hash"] == load_prompt("fineweb-edu").hash
    assert section["annotator"]["url"] == url and section["cache"]["reused"] == 0
    assert "scored │ 15" in out and "refused │ 1" in out

    before = sum(script.calls.values())
    code, out = annotate(capsys, url, "--sample", "20", "--output", "edu", "--batch-size", "4")
    assert code == 0, out
    again = ws.dataset("edu@v2")
    # only the timed-out document is asked again: errors are never cached
    assert sum(script.calls.values()) - before == 1
    assert again.manifest["annotate"]["cache"]["reused"] == 19
    assert again.manifest["fingerprint"] != version.manifest["fingerprint"]  # wiki-0 now scored
    assert "wiki-0" in pl.read_parquet(again.path / "kept" / "*.parquet")["id"].to_list()


def test_sample_is_seeded_and_nested(
    capsys: pytest.CaptureFixture[str],
    workspace: Path,
    docs: list[dict[str, str]],
    endpoint: tuple[str, Script],
) -> None:
    """The same seed takes the same rows; a larger sample holds the smaller; another seed
    takes others; only new documents are asked."""
    url, script = endpoint
    assert annotate(capsys, url, "--sample", "5", "--output", "a")[0] == 0
    asked = sum(script.calls.values())
    assert annotate(capsys, url, "--sample", "12", "--output", "b")[0] == 0
    assert sum(script.calls.values()) - asked == 7
    assert annotate(capsys, url, "--sample", "5", "--output", "c", "--seed", "1")[0] == 0
    ws = Workspace(workspace)
    ids = {n: set(pl.read_parquet(ws.dataset(n).path / "kept" / "*.parquet")["id"]) for n in "abc"}
    assert len(ids["a"]) == 5 and ids["a"] < ids["b"] and ids["c"] != ids["a"]


def test_a_run_cut_short_resumes_from_the_cache(
    workspace: Path, docs: list[dict[str, str]], endpoint: tuple[str, Script]
) -> None:
    """Replies of the batches done before a crash are on disk (a torn last line is skipped),
    and the next run asks only for the rest."""
    from winnow.annotate.run import Plan, annotate_sample

    url, script = endpoint
    ws = Workspace(workspace)
    prompt = load_prompt("fineweb-edu")
    annotator = EndpointAnnotator(url, "m", batch_size=4)
    plan = Plan(ws.dataset("docs"), 20, 0, "edu")

    def crash(done: int, total: int) -> None:
        if done >= 8:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        annotate_sample(ws, plan, prompt, annotator, crash)
    assert ws.versions("edu") == []
    cache = ReplyCache(ws, annotator.settings(), prompt.record())
    assert len(cache.replies) == 8
    with cache.path.open("a", encoding="utf-8") as handle:
        handle.write('{"doc": "torn')  # as if killed while writing
    asked = sum(script.calls.values())
    made = annotate_sample(ws, plan, prompt, annotator, lambda done, total: None)
    assert sum(script.calls.values()) - asked == 12
    assert made.manifest["annotate"]["cache"] == {
        "path": str(cache.path),
        "reused": 8,
        "torn_lines": 1,
    }
    assert made.manifest["annotate"]["counts"]["scored"] == 20


def test_an_endpoint_that_never_answers_stops_in_one_line(
    capsys: pytest.CaptureFixture[str],
    workspace: Path,
    docs: list[dict[str, str]],
    endpoint: tuple[str, Script],
) -> None:
    """Every request failing (HTTP 500 after retries) publishes nothing and says what to do."""
    url, script = endpoint
    for row in docs:
        script.answers[snippet(row["text"])] = "down"
    code, out = annotate(capsys, url, "--sample", "4", "--output", "edu")
    assert code != 0
    assert "every one of 4 requests failed (first: HTTP 500 (after 2 tries))" in out
    assert Workspace(workspace).versions("edu") == []


def test_local_model_replies_are_quarantined_with_their_text(
    capsys: pytest.CaptureFixture[str],
    workspace: Path,
    docs: list[dict[str, str]],
    tiny_lm: Path,
    tmp_path: Path,
) -> None:
    """An untrained local model answers nonsense: each reply is quarantined as no_score with
    its raw text, and the manifest names the model's fingerprint."""
    prompt = tmp_path / "short.yaml"
    prompt.write_text(
        "title: short\nscale: [0, 5]\npattern: 'score: ([0-9])'\nmax_new_tokens: 6\n"
        "max_chars: 300\ntemplate: 'Rate: {text}'\n"
    )
    args = ["curate", "annotate", "docs", "--prompt", str(prompt), "--annotator", str(tiny_lm)]
    code, out = run_cli(capsys, *args, "--sample", "3", "--output", "local", "--batch-size", "2")
    assert code == 0, out
    version = Workspace(workspace).dataset("local")
    aside = pl.read_parquet(version.path / "quarantine" / "*.parquet")
    assert aside.height == 3 and all(e.endswith(": no_score") for e in aside["error"])
    assert all(len(raw) > 0 for raw in aside["raw"])
    annotator = version.manifest["annotate"]["annotator"]
    assert annotator["kind"] == "local-causal-lm" and len(annotator["fingerprint"]) == 16
    assert version.manifest["warnings"] == ["no reply gave a score; see the quarantine"]


def test_kappa_against_people_who_labelled_the_same_items(
    capsys: pytest.CaptureFixture[str],
    workspace: Path,
    docs: list[dict[str, str]],
    endpoint: tuple[str, Script],
) -> None:
    """Two people label the annotated items with edu-0to5; `winnow labels agreement` puts the
    LLM beside them, with scikit-learn's kappa on the same pairs."""
    url, script = endpoint
    for k, row in enumerate(docs):
        script.answers[snippet(row["text"])] = f"score:{k % 6}"
    assert annotate(capsys, url, "--sample", "20", "--output", "edu")[0] == 0
    ws = Workspace(workspace)
    task = load_task("edu-0to5")
    store = open_store(ws, "edu", task)
    llm = dict(
        pl.read_parquet(ws.dataset("edu").path / "kept" / "*.parquet")
        .select("id", "score")
        .iter_rows()
    )
    people = {"ana": {}, "bo": {}}
    for n, (row_id, score) in enumerate(sorted(llm.items())):
        people["ana"][row_id] = str(score if n % 4 else (score + 1) % 6)
        if n < 12:
            people["bo"][row_id] = str(score if n % 3 else 0)
    for name, labels in people.items():
        for row_id, value in labels.items():
            store.append(Item(row_id, ""), name, value)
    code, out = run_cli(capsys, "labels", "agreement", "edu", "--task", "edu-0to5")
    assert code == 0, out
    result = agreement(store, machine_labels(ws.dataset("edu"), task))
    pairs = {(p["a"], p["b"]): p for p in result["pairs"]}
    for name, labels in people.items():
        ids = sorted(labels)
        expected = cohen_kappa_score([labels[i] for i in ids], [str(llm[i]) for i in ids])
        pair = pairs[(name, "llm:default")]
        assert pair["items"] == len(ids) and pair["kappa"] == pytest.approx(expected, abs=1e-4)
        assert f"{name} / llm:default" in out and f"{expected:.3f}" in out
    assert result["annotators"] == {"ana": 20, "bo": 12, "llm:default": 20}


def test_the_label_page_compares_people_with_the_llm(
    capsys: pytest.CaptureFixture[str],
    workspace: Path,
    docs: list[dict[str, str]],
    endpoint: tuple[str, Script],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Labels clicked on the dashboard's Label page sit beside the LLM's scores of the same
    items in its agreement table."""
    url, script = endpoint
    for row in docs:
        script.answers[snippet(row["text"])] = "score:3"
    assert annotate(capsys, url, "--sample", "6", "--output", "edu")[0] == 0
    ana = labeller(monkeypatch, workspace, "edu-0to5", "ana", "edu@v1")
    for value in ("3", "3", "1"):
        ana.button(key=f"choice-{value}").click().run()
    ana.run()
    assert not ana.exception, ana.exception
    pairs = next(f.value for f in ana.dataframe if "kappa" in f.value.columns)
    row = pairs.to_dict("records")[0]
    assert (row["a"], row["b"], row["items"]) == ("ana", "llm:default", 3)
    assert row["agreement"] == pytest.approx(2 / 3, abs=1e-3)
    assert "llm:default: the scores of the LLM that made this dataset" in texts(ana)
