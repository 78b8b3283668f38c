"""Importers on the real instruction files, tiny inline files for the other formats, bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from winnow.errors import WinnowError
from winnow.instruct.build import SCHEMA, import_file, stable_id
from winnow.instruct.importers import import_candidates, parse_map


def write(path: Path, records: Any) -> Path:
    """Write records as a JSON file (or JSONL when the name says so)."""
    if path.suffix == ".jsonl":
        path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    else:
        path.write_text(json.dumps(records))
    return path


def test_alpaca_en_demo(shared_data: Path) -> None:
    """999 Alpaca rows, all valid, with the input-bearing row 6 exact and ids stable."""
    result = import_file(shared_data / "instruct" / "alpaca_en_demo.json")
    assert result.format == "alpaca"
    assert (result.rows.height, result.quarantine.height) == (999, 0)
    assert result.rows.columns == list(SCHEMA)
    row = result.rows.row(5, named=True)
    assert row["instruction"] == "Given the parameters of a triangle, find out its perimeter."
    assert row["input"] == "Side 1 = 4\nSide 2 = 6\nSide 3 = 8"
    assert row["output"].endswith("the perimeter of the triangle is 18 units.")
    assert row["id"] == stable_id("alpaca_en_demo.json", "6")
    assert (row["system"], row["history"], row["lang"]) == ("", [], "en")
    assert result.rows["id"].n_unique() == 999


def test_lima_history(shared_data: Path) -> None:
    """LIMA's 1,029 rows; 29 carry history, the first of them (record 1001) exactly."""
    rows = import_file(shared_data / "instruct" / "lima.json").rows
    assert rows.height == 1029
    assert rows.filter(rows["history"].list.len() > 0).height == 29
    row = rows.row(1000, named=True)
    assert row["instruction"].startswith("Could you elaborate on the unintuitive bit?")
    assert len(row["history"]) == 1
    user, assistant = row["history"][0]
    assert user.startswith("Most of the books I read give examples u")
    assert assistant.startswith("When tutoring young CS students, user in")
    assert [m["role"] for m in row["messages"]] == ["user", "assistant", "user", "assistant"]
    assert row["messages"][0]["content"] == user
    assert row["completion"] == [{"role": "assistant", "content": row["output"]}]


def test_openassistant_zh(shared_data: Path) -> None:
    """689 Chinese OpenAssistant rows; record 26 has two earlier turns."""
    rows = import_file(shared_data / "instruct" / "oaast_sft_zh.json").rows
    assert rows.height == 689
    assert rows.row(0, named=True)["instruction"] == "布洛芬和对乙酰氨基酚的区别是？"
    assert rows["lang"].value_counts().sort("count")["lang"][-1] == "zh"
    row = rows.row(25, named=True)
    assert row["instruction"].startswith("你最喜欢以上哪一首")
    assert [pair[0] for pair in row["history"]] == [
        "有哪些关于雪的古诗词？",
        "再讲几个有关雪的古诗词，并解释它们所蕴含的感情。",
    ]
    assert len(row["prompt"]) == 5


def test_self_instruct_seed_tasks(shared_data: Path) -> None:
    """175 seed tasks with one instance each become 175 rows with the task's id."""
    result = import_file(shared_data / "instruct" / "self_instruct_seed_tasks.jsonl")
    assert result.format == "self-instruct"
    assert result.rows.height == 175
    row = result.rows.row(1, named=True)
    assert row["id"] == "seed_task_1-0"
    assert row["instruction"] == "What is the relation between the given pairs?"
    assert row["input"] == "Night : Day :: Right : Left"
    assert row["output"] == "The relation between the given pairs is that they are opposites."


def test_self_instruct_one_row_per_instance(tmp_path: Path) -> None:
    """A task with two instances gives two rows, ids numbered by instance."""
    task = {
        "id": "t",
        "instruction": "Add.",
        "instances": [{"input": "1+1", "output": "2"}, {"input": "2+2", "output": "4"}],
    }
    rows = import_file(write(tmp_path / "seeds.jsonl", [task])).rows
    assert rows.select("id", "input", "output").rows() == [("t-0", "1+1", "2"), ("t-1", "2+2", "4")]


def test_chatbot_csv_with_map(shared_data: Path) -> None:
    """11,823 Korean Q/A rows through --map question=Q,answer=A; first and last exact."""
    mapping = parse_map("question=Q,answer=A")
    result = import_file(shared_data / "korean" / "ChatbotData.csv", mapping=mapping)
    assert (result.format, result.rows.height, result.quarantine.height) == ("qa-csv", 11823, 0)
    first, last = result.rows.row(0, named=True), result.rows.row(-1, named=True)
    assert (first["instruction"], first["output"]) == ("12시 땡!", "하루가 또 가네요.")
    assert (last["instruction"], last["output"]) == (
        "힘들어서 결혼할까봐",
        "도피성 결혼은 하지 않길 바라요.",
    )
    assert set(result.rows["lang"]) == {"ko"}


def test_sharegpt(tmp_path: Path) -> None:
    """ShareGPT turns: system first, earlier pairs into history, the last pair as the row."""
    record = {
        "id": "c1",
        "conversations": [
            {"from": "system", "value": "Be brief."},
            {"from": "human", "value": "Hi"},
            {"from": "gpt", "value": "Hello!"},
            {"from": "human", "value": "Capital of France?"},
            {"from": "gpt", "value": "Paris."},
        ],
    }
    result = import_file(write(tmp_path / "chats.json", [record]))
    assert result.format == "sharegpt"
    row = result.rows.row(0, named=True)
    assert row["id"] == "c1"
    assert (row["system"], row["instruction"], row["output"]) == (
        "Be brief.",
        "Capital of France?",
        "Paris.",
    )
    assert row["history"] == [["Hi", "Hello!"]]
    assert [m["role"] for m in row["messages"]] == [
        "system",
        "user",
        "assistant",
        "user",
        "assistant",
    ]


def test_openai_messages(tmp_path: Path) -> None:
    """OpenAI messages map the same way as ShareGPT turns."""
    record = {
        "messages": [
            {"role": "user", "content": "2+2?"},
            {"role": "assistant", "content": "4"},
        ]
    }
    result = import_file(write(tmp_path / "msgs.jsonl", [record]))
    assert result.format == "messages"
    row = result.rows.row(0, named=True)
    assert (row["instruction"], row["output"], row["history"]) == ("2+2?", "4", [])
    assert row["prompt"] == [{"role": "user", "content": "2+2?"}]


def test_dolly(tmp_path: Path) -> None:
    """Dolly's context becomes the input, its response the output."""
    record = {"instruction": "Summarize.", "context": "A long text.", "response": "Short."}
    result = import_file(write(tmp_path / "dolly.jsonl", [record]))
    assert result.format == "dolly"
    row = result.rows.row(0, named=True)
    assert (row["instruction"], row["input"], row["output"]) == (
        "Summarize.",
        "A long text.",
        "Short.",
    )


def test_ambiguous_format_names_candidates(tmp_path: Path) -> None:
    """Keys fitting two formats stop with one line naming both."""
    record = {"conversations": [], "messages": []}
    with pytest.raises(WinnowError, match="ambiguous, its keys fit sharegpt, messages"):
        import_file(write(tmp_path / "both.json", [record]))


def test_no_format_fits(tmp_path: Path) -> None:
    """Keys fitting no format list the formats and the keys found."""
    with pytest.raises(WinnowError, match=r"no format fits its keys \(prompt, reply\)"):
        import_file(write(tmp_path / "odd.json", [{"prompt": "a", "reply": "b"}]))


def test_explicit_format_overrides_detection(tmp_path: Path) -> None:
    """--format picks the importer even when detection would find it ambiguous."""
    record = {"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}]}
    record["messages"] = []
    used, rows = import_candidates(write(tmp_path / "both.json", [record]), "sharegpt")
    assert used == "sharegpt"
    assert (rows[0]["instruction"], rows[0]["output"]) == ("a", "b")


def test_unknown_format(tmp_path: Path) -> None:
    """An unknown --format is refused with the known ones listed."""
    with pytest.raises(WinnowError, match="--format 'vicuna' is unknown; use auto or one of"):
        import_file(write(tmp_path / "x.json", []), "vicuna")


def test_json_not_a_list(tmp_path: Path) -> None:
    """A JSON object instead of a list of records is one clear error."""
    with pytest.raises(WinnowError, match="holds a JSON object, not a list of records"):
        import_file(write(tmp_path / "obj.json", {"instruction": "a", "output": "b"}))


def test_csv_without_mapped_columns(shared_data: Path) -> None:
    """A --map naming columns the CSV lacks lists the columns it has."""
    mapping = parse_map("question=question,answer=A")
    with pytest.raises(WinnowError, match=r"no column question=question .*columns: A, Q, label"):
        import_file(shared_data / "korean" / "ChatbotData.csv", mapping=mapping)


def test_csv_without_map_fits_no_format(shared_data: Path) -> None:
    """Without --map the Q/A columns fit no format, and the error says to use --map."""
    with pytest.raises(WinnowError, match="--map to name the columns"):
        import_file(shared_data / "korean" / "ChatbotData.csv")


def test_bad_map_syntax() -> None:
    """A --map part without '=' is refused."""
    with pytest.raises(WinnowError, match="'question' is not TARGET=COLUMN"):
        parse_map("question")
