"""`winnow curate synthesize`: prompt, parser, ROUGE-L, filter, generators and the command."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from tests.cli_helpers import run_cli
from tests.tiny_lm import SEEDS, build_tiny_lm, seed_task_lines
from winnow.errors import WinnowError
from winnow.synthesize.generators import EndpointGenerator, LocalGenerator, load_generator
from winnow.synthesize.prompt import Task, format_prompt, parse_reply, reply_text
from winnow.synthesize.rouge import Pool, lcs_length, rouge_l, words
from winnow.synthesize.run import load_seeds, synthesize_rows
from winnow.workspace import Workspace


@pytest.fixture(scope="session")
def tiny_lm(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    """An untrained 2-layer Llama with a byte-level BPE trained on the real seed tasks."""
    return build_tiny_lm(tmp_path_factory.mktemp("tiny-lm"), seed_task_lines(shared_data))


# A reply as an OpenAI-compatible model writes it: the next task, then another, then chatter.
REPLY = (
    "4. Instruction: Name three primary colors.\n"
    "4. Input:\n<noinput>\n"
    "4. Output:\nRed, yellow and blue.\n"
    "###\n"
    "5. Instruction: Give the plural of the given noun.\n"
    "5. Input:\nmouse\n"
    "5. Output:\nmice\n"
    "###\n"
    "6. Instruction: What is the relationship between the given pairs?\n"
    "6. Input:\nUp : Down\n"
    "6. Output:\nOpposites.\n"
    "###\n"
    "7. Instruction: Write a haiku about rain.\n"
    "7. Input:\n<noinput>\n"
)


# Prompt


def test_prompt_lists_numbered_seed_tasks_and_asks_for_the_next() -> None:
    """Seeds are numbered 1..k with <noinput> for empty inputs, then 'k+1. Instruction:'."""
    prompt = format_prompt([Task("Add the numbers.", "2, 3", "5"), Task("Say hi.", "", "Hi!")])
    assert prompt.startswith("You are asked to come up with a set of diverse task instructions.")
    assert "###\n1. Instruction: Add the numbers.\n1. Input:\n2, 3\n1. Output:\n5\n" in prompt
    assert "###\n2. Instruction: Say hi.\n2. Input:\n<noinput>\n2. Output:\nHi!\n" in prompt
    assert prompt.endswith("###\n3. Instruction:")


# Parser


def test_parser_reads_well_formed_blocks_and_noinput() -> None:
    """Each complete block is a task; <noinput> is the empty input; the `###` line is cut."""
    tasks, bad = parse_reply(REPLY)
    assert tasks[0] == Task("Name three primary colors.", "", "Red, yellow and blue.")
    assert tasks[1] == Task("Give the plural of the given noun.", "mouse", "mice")
    assert len(tasks) == 3
    assert [reason.split(":")[0] for reason, _ in bad] == ["missing_output"]
    assert bad[0][1].startswith("7. Instruction: Write a haiku about rain.")


def test_parser_continues_the_prompt_label_and_ignores_extra_text() -> None:
    """A raw continuation gets the prompt's last label back; text after the output's `###` goes."""
    prompt = format_prompt([Task("Say hi.", "", "Hi!")])
    reply = " Count to three.\n2. Input:\n\n2. Output:\n1, 2, 3\n###\nI hope these help!"
    tasks, bad = parse_reply(reply_text(prompt, reply))
    assert tasks == [Task("Count to three.", "", "1, 2, 3")]
    assert bad == []
    assert reply_text(prompt, REPLY) == REPLY


def test_parser_counts_text_without_blocks_and_blank_fields() -> None:
    """No numbered block at all, or a blank instruction or output, is a reason, never a row."""
    tasks, bad = parse_reply("Sure! Here are some tasks for you.")
    assert tasks == []
    assert bad == [
        ("no_task: the reply has no 'N. Instruction:' block", "Sure! Here are some tasks for you.")
    ]
    tasks, bad = parse_reply("1. Instruction:\n1. Output:\nx\n2. Instruction: Hi\n2. Output:\n \n")
    assert tasks == []
    assert [reason.split(":")[0] for reason, _ in bad] == ["empty_instruction", "empty_output"]


# ROUGE-L and the filter


def test_rouge_l_known_values() -> None:
    """LCS and F-measure on word lists worked by hand."""
    assert words("The cat, the HAT!") == ["the", "cat", "the", "hat"]
    a, b = words("the cat sat on the mat"), words("the cat on the mat")
    assert lcs_length(a, b) == 5
    assert rouge_l(b, a) == pytest.approx(2 * 1.0 * (5 / 6) / (1.0 + 5 / 6))
    assert lcs_length(words("a b c d e"), words("e d c b a")) == 1
    assert rouge_l(
        words("police killed the gunman"), words("the gunman kill police")
    ) == pytest.approx(0.5)
    assert rouge_l(words("x y"), words("p q")) == 0.0
    assert rouge_l([], words("p q")) == 0.0


def test_filter_drops_a_near_copy_and_an_exact_copy_of_a_seed(shared_data: Path) -> None:
    """A reworded seed instruction is too similar; the same words in other case are a duplicate."""
    seeds = load_seeds(str(shared_data / SEEDS), Workspace(shared_data / "none"))
    pool = Pool(0.7)
    for seed in seeds.tasks:
        pool.add(seed.task.instruction)
    relation = "What is the relation between the given pairs?"
    assert relation in pool.texts
    near = pool.reason("What is the relationship between the given pairs?")  # LCS 7 of 8 words
    assert near is not None and near.startswith("too_similar: ROUGE-L 0.875 > 0.7")
    assert pool.reason("WHAT is the relation  between the given pairs?").startswith("duplicate")
    assert pool.reason("Name three primary colors.") is None


# Seeds


def test_seeds_are_one_per_instruction_of_the_real_file(shared_data: Path) -> None:
    """The 175 self-instruct seed tasks load with their ids and source fingerprint."""
    seeds = load_seeds(str(shared_data / SEEDS), Workspace(shared_data / "none"))
    assert len(seeds.tasks) == 175
    first = seeds.tasks[0].task
    assert first.instruction.startswith("Is there anything I can eat for a breakfast")
    assert seeds.source["format"] == "self-instruct"
    assert seeds.source["files"] == [str(shared_data / SEEDS)]


# The OpenAI-compatible client


class Canned(BaseHTTPRequestHandler):
    """Answers /v1/chat/completions with REPLY and remembers the request bodies."""

    bodies: list[dict[str, Any]] = []
    headers_seen: list[str | None] = []

    def do_POST(self) -> None:  # noqa: N802
        """Record the body and answer a chat completion."""
        length = int(self.headers["Content-Length"])
        Canned.bodies.append(json.loads(self.rfile.read(length)))
        Canned.headers_seen.append(self.headers.get("Authorization"))
        if self.path != "/v1/chat/completions":
            self.send_error(404)
            return
        answer = {"choices": [{"index": 0, "message": {"role": "assistant", "content": REPLY}}]}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        """Keep the test output quiet."""


@pytest.fixture()
def endpoint() -> Iterator[str]:
    """A local OpenAI-compatible server on 127.0.0.1, stopped after the test."""
    Canned.bodies, Canned.headers_seen = [], []
    server = HTTPServer(("127.0.0.1", 0), Canned)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()
    thread.join()


def test_endpoint_client_sends_the_standard_body(
    endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """POST /chat/completions with model, one user message, sampling settings and the key."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    client = EndpointGenerator(endpoint, "tiny", 64)
    assert client.generate("PROMPT", 7) == REPLY
    assert Canned.bodies == [
        {
            "model": "tiny",
            "messages": [{"role": "user", "content": "PROMPT"}],
            "temperature": 1.0,
            "top_p": 1.0,
            "max_tokens": 64,
            "seed": 7,
        }
    ]
    assert Canned.headers_seen == ["Bearer sk-test"]
    wrong = EndpointGenerator(endpoint.removesuffix("/v1"), "tiny", 64)
    with pytest.raises(WinnowError, match="answered HTTP 404"):
        wrong.generate("PROMPT", 7)


def test_command_with_endpoint_publishes_rows_and_lineage(
    capsys: pytest.CaptureFixture[str], workspace: Path, shared_data: Path, endpoint: str
) -> None:
    """Two prompts: 2 tasks kept; the near-seed, the repeats and the cut blocks are out."""
    code, out = run_cli(
        capsys, "curate", "synthesize", "--seeds", str(shared_data / SEEDS),
        "--generator", endpoint, "--n", "2", "--output", "synth", "--max-new-tokens", "64",
    )  # fmt: skip
    assert code == 0, out
    assert "2 new rows from" in out
    version = Workspace(workspace).dataset("synth@v1")
    manifest = version.manifest
    section = manifest["synthesize"]
    assert section["generator"]["name"] == endpoint
    assert section["generator"]["kind"] == "openai-endpoint"
    assert section["seed"] == 0 and section["n"] == 2 and section["rouge_threshold"] == 0.7
    assert section["counts"] == {
        "duplicate": 2,
        "generations": 2,
        "kept": 2,
        "parsed": 6,
        "too_similar": 2,
        "unparseable": 2,
    }
    assert manifest["kind"] == "instruct"
    assert manifest["source"]["files"] == [str(shared_data / SEEDS)]
    kept = pl.read_parquet(version.split_glob("kept"))
    assert kept["instruction"].to_list() == [
        "Name three primary colors.",
        "Give the plural of the given noun.",
    ]
    assert kept["source"].unique().to_list() == [endpoint]
    assert kept["generator"].unique().to_list() == [endpoint]
    cited = json.loads(kept["prompt_seeds"][0])
    assert len(cited) == 3 and all(s.startswith("seed_task_") for s in cited)
    assert kept["text"][0].endswith("### Response:\nRed, yellow and blue.")
    quarantine = pl.read_parquet(version.split_glob("quarantine"))
    reasons = sorted(e.split(": ")[1].split(":")[0] for e in quarantine["error"].to_list())
    assert reasons == ["duplicate"] * 2 + ["missing_output"] * 2 + ["too_similar"] * 2
    assert len(Canned.bodies) == 2 and Canned.bodies[0]["seed"] != Canned.bodies[1]["seed"]


def test_seeds_from_a_workspace_dataset(
    capsys: pytest.CaptureFixture[str], workspace: Path, shared_data: Path, endpoint: str
) -> None:
    """A published instruct dataset serves as seeds; its rows' instructions join the pool."""
    args = ["--generator", endpoint, "--n", "1", "--max-new-tokens", "64"]
    code, out = run_cli(
        capsys, "curate", "synthesize", "--seeds", str(shared_data / SEEDS), "--output", "a", *args
    )
    assert code == 0, out
    code, out = run_cli(capsys, "curate", "synthesize", "--seeds", "a@v1", "--output", "b", *args)
    assert code == 0, out
    manifest = Workspace(workspace).dataset("b@v1").manifest
    assert manifest["source"] == {"name": "a@v1", "dataset": "a@v1", "rows": 2}
    assert manifest["synthesize"]["seed_tasks"] == 2
    assert manifest["synthesize"]["counts"]["duplicate"] == 2
    assert manifest["synthesize"]["counts"]["kept"] == 1


# The local model


def test_local_model_counts_add_up(tiny_lm: Path, shared_data: Path) -> None:
    """An untrained model's replies are parsed or counted unparseable, with raw text kept."""
    seeds = load_seeds(str(shared_data / SEEDS), Workspace(shared_data / "none")).tasks
    model = LocalGenerator(str(tiny_lm), 24)
    assert model.settings()["kind"] == "local-causal-lm"
    first = synthesize_rows(seeds, model, str(tiny_lm), 3, 0, 3, 0.7)
    again = synthesize_rows(seeds, model, str(tiny_lm), 3, 0, 3, 0.7)
    counts = first.counts
    assert counts["generations"] == 3
    dropped = counts["duplicate"] + counts["too_similar"]
    assert counts["parsed"] == counts["kept"] + dropped
    assert len(first.quarantine) == counts["unparseable"] + dropped
    assert counts["unparseable"] + counts["parsed"] >= 3
    assert all(row["raw"] for row in first.quarantine)
    assert first.quarantine == again.quarantine and first.rows == again.rows


def test_command_with_local_model_keeps_rejected_generations(
    capsys: pytest.CaptureFixture[str], workspace: Path, shared_data: Path, tiny_lm: Path
) -> None:
    """With nothing kept no version is made and the rejected generations are written aside."""
    code, out = run_cli(
        capsys, "curate", "synthesize", "--seeds", str(shared_data / SEEDS),
        "--generator", str(tiny_lm), "--n", "2", "--output", "local", "--max-new-tokens", "16",
    )  # fmt: skip
    assert code == 2
    assert "no new rows to publish (generations 2, unparseable 2;" in out
    aside = workspace / "runs" / "synthesize" / "local-seed0-rejected.jsonl"
    rows = [json.loads(line) for line in aside.read_text(encoding="utf-8").splitlines()]
    assert [r["line"] for r in rows] == [1, 2]
    assert all(r["source_file"] == str(tiny_lm) and r["raw"] for r in rows)
    assert Workspace(workspace).versions("local") == []


# Bad input


def test_unknown_generator_path_is_one_line(
    capsys: pytest.CaptureFixture[str], workspace: Path, shared_data: Path, tmp_path: Path
) -> None:
    """A missing folder (and, offline, an uncached hub id) is one clear error."""
    code, out = run_cli(
        capsys, "curate", "synthesize", "--seeds", str(shared_data / SEEDS),
        "--generator", str(tmp_path / "no-model"), "--n", "1", "--output", "x",
    )  # fmt: skip
    assert code == 2
    assert "not a causal LM folder nor a cached hub id" in out
    assert "Traceback" not in out


def test_unreachable_url_is_one_line(shared_data: Path) -> None:
    """A URL where nothing listens fails with the endpoint named, not a traceback."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = load_generator(f"http://127.0.0.1:{port}/v1", "default", 8)
    with pytest.raises(WinnowError, match="cannot reach the endpoint"):
        client.generate("PROMPT", 0)


def test_unknown_seeds_is_one_line(capsys: pytest.CaptureFixture[str], workspace: Path) -> None:
    """Seeds that are neither a file nor a dataset name the two things tried."""
    code, out = run_cli(
        capsys, "curate", "synthesize", "--seeds", "nothing@v1", "--generator",
        "http://127.0.0.1:9/v1", "--n", "1", "--output", "x",
    )  # fmt: skip
    assert code == 2
    assert "--seeds nothing@v1: not a file nor a workspace dataset" in out
