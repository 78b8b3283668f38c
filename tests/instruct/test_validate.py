"""Every validation reason, each with a planted bad row beside a good one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tokenizers import Tokenizer, models, pre_tokenizers

from winnow.errors import WinnowError
from winnow.instruct.build import import_file
from winnow.instruct.validate import char_tokens, tokenizer_counter

GOOD = {"instruction": "Name a colour.", "input": "", "output": "Blue."}


def reasons_of(tmp_path: Path, bad: list[Any], **options: Any) -> list[str]:
    """Import GOOD then the bad records; check GOOD survives, return the quarantine errors."""
    path = tmp_path / "rows.json"
    path.write_text(json.dumps([GOOD, *bad]))
    result = import_file(path, **options)
    assert result.rows["instruction"].to_list() == ["Name a colour."]
    assert result.quarantine.height == len(bad)
    assert sum(result.reasons.values()) == len(bad)
    assert result.quarantine["line"].to_list() == list(range(2, len(bad) + 2))
    return result.quarantine["error"].to_list()


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"output": "x"}, "missing_instruction: no instruction"),
        ({"instruction": "  ", "output": "x"}, "empty_instruction: the instruction is blank"),
        ({"instruction": "x", "output": None}, "missing_output: no output"),
        ({"instruction": "x", "output": ""}, "empty_output: the output is blank"),
        ({"instruction": 3, "output": "x"}, "non_string: instruction is a int, not a string"),
        ({"instruction": "x", "output": ["a"]}, "non_string: output is a list, not a string"),
        ({"instruction": "x", "input": {"a": 1}, "output": "y"}, "non_string: input is a dict"),
        ({"instruction": "x", "output": "y", "history": "hi"}, "broken_history: history is a str"),
        (
            {"instruction": "x", "output": "y", "history": [["only user"]]},
            "broken_history: turn 1 is not a [user, assistant] pair",
        ),
        (
            {"instruction": "x", "output": "y", "history": [["a", 5]]},
            "broken_history: turn 1 holds a non-string",
        ),
    ],
)
def test_alpaca_reasons(tmp_path: Path, record: dict[str, object], reason: str) -> None:
    """Each broken Alpaca record is quarantined with its reason and line, never dropped."""
    (error,) = reasons_of(tmp_path, [record])
    assert error.startswith(f"line 2: {reason}")


def test_broken_conversations(tmp_path: Path) -> None:
    """Odd turns, a conversation ending with the user, and unknown roles are broken history."""
    good = {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}
    odd = {"messages": [{"role": "user", "content": "a"}]}
    user_last = {"messages": [*good["messages"], {"role": "user", "content": "c"}]}
    twice = {"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]}
    tool = {"messages": [{"role": "tool", "content": "a"}, {"role": "assistant", "content": "b"}]}
    not_text = {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": 1}]}
    path = tmp_path / "chats.jsonl"
    records = [good, odd, user_last, twice, tool, not_text]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n{broken\n")
    result = import_file(path)
    assert result.rows.height == 1
    errors = result.quarantine["error"].to_list()
    assert errors[0].startswith("line 2: broken_history: turns must alternate")
    assert errors[1].startswith("line 3: broken_history: turns must alternate")
    assert errors[2].startswith("line 4: broken_history: turns must alternate")
    assert errors[3].startswith("line 5: broken_history: unknown role 'tool'")
    assert errors[4].startswith("line 6: non_string: output is a int")
    assert errors[5].startswith("line 7: invalid_json")
    assert result.reasons == {"broken_history": 4, "invalid_json": 1, "non_string": 1}


def test_not_a_record(tmp_path: Path) -> None:
    """A list item that is not an object is quarantined as not_a_record."""
    (error,) = reasons_of(tmp_path, ["just a string"])
    assert error.startswith("line 2: not_a_record")


def test_token_budget_characters(tmp_path: Path) -> None:
    """Without a tokenizer a row counts ceil(characters / 4) over all its text."""
    assert char_tokens(["Name a colour.", "Blue."]) == 5  # 19 characters
    long = {"instruction": "x" * 20, "output": "y" * 5}  # 25 characters: 7 tokens
    (error,) = reasons_of(tmp_path, [long], max_tokens=6)
    assert error.startswith("line 2: over_token_budget: 7 tokens > --max-tokens 6")


def test_token_budget_with_tokenizer(tmp_path: Path) -> None:
    """With --tokenizer the pieces' token counts are summed (a word-level toy tokenizer)."""
    vocab = {"[UNK]": 0, "Name": 1, "a": 2, "colour": 3, ".": 4, "Blue": 5}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.save(str(tmp_path / "tokenizer.json"))
    count = tokenizer_counter(str(tmp_path / "tokenizer.json"))
    assert count(["Name a colour.", "Blue."]) == 6
    wordy = {"instruction": "one two three four five six", "output": "seven"}
    (error,) = reasons_of(tmp_path, [wordy], max_tokens=6, count=count)
    assert error.startswith("line 2: over_token_budget: 7 tokens > --max-tokens 6")


def test_budget_must_be_positive(tmp_path: Path) -> None:
    """A budget below one token is refused before reading."""
    with pytest.raises(WinnowError, match="--max-tokens 0: must be at least 1"):
        import_file(tmp_path / "missing.json", max_tokens=0)


def test_seed_task_without_instances(tmp_path: Path) -> None:
    """A self-instruct task with no instances has no output to train on."""
    path = tmp_path / "seeds.jsonl"
    tasks = [
        {"id": "a", "instruction": "Add.", "instances": [{"input": "1+1", "output": "2"}]},
        {"id": "b", "instruction": "Subtract.", "instances": []},
    ]
    path.write_text("\n".join(json.dumps(t) for t in tasks) + "\n")
    result = import_file(path)
    assert result.rows["id"].to_list() == ["a-0"]
    assert result.quarantine["error"][0].startswith("line 2: missing_output: the task has no")
