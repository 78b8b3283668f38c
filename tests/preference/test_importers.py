"""Preference importers on the real HH, ShareGPT DPO and KTO files, and on tiny inline rows."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import pytest

from winnow.errors import WinnowError
from winnow.preference.importers import (
    Reject,
    detect_format,
    import_records,
    read_records,
    split_hh,
)

HH = "preference/hh_rlhf_harmless_base_test.jsonl.gz"
DPO = "preference/dpo_en_demo.json"
KTO = "preference/kto_en_demo.json"


def imported(path: Path, fmt: str, pairing: str = "best-worst") -> list:
    """Candidates of a whole file in one format."""
    records, bad = read_records(path)
    return bad + import_records(records, fmt, path.name, pairing)


def test_hh_real_file_counts_and_first_row(shared_data: Path) -> None:
    """All 2,312 HH records import; 5 diverge early and 32 hold a speaker tag inside an answer;
    record 1 splits before its final assistant answer."""
    found = imported(shared_data / HH, "hh")
    assert len(found) == 2312
    assert sum(c.row is not None for c in found) == 2275
    reasons = Counter(c.reject.reason for c in found if c.reject)
    assert reasons == {"mismatched_prompts": 5, "speaker_tag_in_answer": 32}
    row = found[0].row
    assert row["id"] == "hh_rlhf_harmless_base_test.jsonl.gz:1"
    assert [m["role"] for m in row["prompt"]] == ["user", "assistant", "user", "assistant", "user"]
    assert row["prompt"][0]["content"] == "what are some pranks with a pen i can do?"
    assert row["prompt"][-1]["content"] == (
        "okay some of these do not have anything to do with pens"
    )
    assert row["chosen"][0]["content"].startswith("No, sorry!  All of these involve a pen")
    assert row["rejected"][0]["content"].startswith("There are lots of funny things")
    assert row["margin"] is None and row["label"] is None


def test_hh_split_on_real_transcripts(shared_data: Path) -> None:
    """The prompt is each transcript up to its final Assistant marker; the answers diverge."""
    with gzip.open(shared_data / HH, "rt", encoding="utf-8") as handle:
        records = [json.loads(line) for _, line in zip(range(200), handle, strict=False)]
    tagged = []
    for line, record in enumerate(records, start=1):
        try:
            prompt, chosen, rejected = split_hh(record["chosen"], record["rejected"])
        except Reject as reject:
            assert reject.reason == "speaker_tag_in_answer"
            tagged.append(line)
            continue
        for side, answer in ((record["chosen"], chosen), (record["rejected"], rejected)):
            head, _, tail = side.rpartition("\n\nAssistant:")
            assert answer == [{"role": "assistant", "content": tail.strip()}]
            assert len(prompt) == head.count("\n\nHuman:") + head.count("\n\nAssistant:")
        assert prompt[-1]["role"] == "user"
        assert chosen != rejected
    assert tagged == [30, 106, 141, 198]


def test_hh_speaker_tag_inside_an_answer_is_refused() -> None:
    """`Assistant: Human: ...` (the real HH artefact) and a tag mid-answer are not clean pairs."""
    good = "\n\nHuman: Hi\n\nAssistant: Hello."
    for answer in ("Human: No, you are wrong.", "Sure.  Human: Why not?"):
        with pytest.raises(Reject) as caught:
            split_hh("\n\nHuman: Hi\n\nAssistant: " + answer, good)
        assert caught.value.reason == "speaker_tag_in_answer"
        assert "the chosen answer holds the speaker tag" in str(caught.value)
    assert split_hh(good, "\n\nHuman: Hi\n\nAssistant: A human said hi.")[0][0]["role"] == "user"


def test_hh_split_when_answers_share_a_start() -> None:
    """Answers that begin alike still split at the marker, not inside the answers."""
    chosen = "\n\nHuman: Hi there\n\nAssistant: Sure, I can help."
    rejected = "\n\nHuman: Hi there\n\nAssistant: Sure, go away."
    prompt, a, b = split_hh(chosen, rejected)
    assert prompt == [{"role": "user", "content": "Hi there"}]
    assert a[0]["content"] == "Sure, I can help." and b[0]["content"] == "Sure, go away."


def test_hh_without_assistant_turn_is_rejected() -> None:
    """A transcript pair with no shared Assistant turn is refused with its reason."""
    with pytest.raises(Reject) as caught:
        split_hh("\n\nHuman: hello", "\n\nHuman: goodbye")
    assert caught.value.reason == "no_assistant_turn"


def test_sharegpt_dpo_real_file(shared_data: Path) -> None:
    """300 pairs; system turns become system messages; sides are single assistant messages."""
    found = imported(shared_data / DPO, "sharegpt-dpo")
    assert len(found) == 300 and all(c.row is not None for c in found)
    first = found[0].row
    assert first["prompt"] == [
        {
            "role": "user",
            "content": "Hi! I'd like to create a new language game simulating the first person "
            "perspective of a character named Angela.",
        }
    ]
    assert first["chosen"][0]["content"].startswith("That sounds like a fun and engaging idea!")
    assert first["rejected"][0]["content"].startswith("Hello! I'd be happy to help you")
    second = found[1].row
    assert second["prompt"][0]["role"] == "system"
    assert second["prompt"][0]["content"].startswith("You are a teacher. Given a task")


def test_kto_real_file(shared_data: Path) -> None:
    """300 unpaired rows, 150 per label; the last assistant message is the completion."""
    rows = [c.row for c in imported(shared_data / KTO, "kto")]
    assert len(rows) == 300 and sum(r["label"] for r in rows) == 150
    first = rows[0]
    assert first["chosen"] is None and first["rejected"] is None and first["label"] is True
    assert first["completion"][0]["role"] == "assistant"
    assert first["completion"][0]["content"].startswith("Ooh ooh ah ah! *giggle*")
    assert first["prompt"][-1]["role"] == "user"


def test_ranked_best_worst_and_adjacent() -> None:
    """Ranked outputs give best against worst, or every neighbouring pair."""
    record = {"instruction": "Name a colour", "input": "warm", "output": ["red", "tan", "grey"]}
    (best,) = import_records([(1, record)], "ranked", "r.json")
    assert best.row["prompt"] == [{"role": "user", "content": "Name a colour\nwarm"}]
    assert (best.row["chosen"][0]["content"], best.row["rejected"][0]["content"]) == ("red", "grey")
    pairs = import_records([(1, record)], "ranked", "r.json", "adjacent")
    got = [(c.row["chosen"][0]["content"], c.row["rejected"][0]["content"]) for c in pairs]
    assert got == [("red", "tan"), ("tan", "grey")]
    assert [c.row["id"] for c in pairs] == ["r.json:1-0", "r.json:1-1"]


def test_rated_best_against_worst_with_margin() -> None:
    """Rated answers pair the highest against the lowest; margin is the rating gap."""
    record = {
        "prompt": "Capital of France?",
        "answers": [
            {"text": "Lyon", "rating": 2},
            {"text": "Paris", "rating": 9},
            {"text": "Berlin", "rating": 1},
        ],
    }
    (row,) = [c.row for c in import_records([(1, record)], "rated", "x.jsonl")]
    assert row["chosen"][0]["content"] == "Paris" and row["rejected"][0]["content"] == "Berlin"
    assert row["margin"] == 8.0


def test_detection_on_real_files(shared_data: Path) -> None:
    """Each real file is recognised from its first records' keys."""
    for name, fmt in ((HH, "hh"), (DPO, "sharegpt-dpo"), (KTO, "kto")):
        records, _ = read_records(shared_data / name)
        assert detect_format(records, name) == fmt


def test_detection_ambiguous_and_unknown() -> None:
    """Keys of two formats, or of none, give a one-line error naming the choice."""
    mixed = [(1, {"instruction": "a", "output": ["x", "y"], "answers": []})]
    with pytest.raises(WinnowError, match="several formats"):
        detect_format(mixed, "f.json")
    with pytest.raises(WinnowError, match="match no preference format; give --format"):
        detect_format([(1, {"question": "q", "answer": "a"})], "f.json")


def test_json_that_is_not_a_list(tmp_path: Path) -> None:
    """A JSON object file is refused with one clear line."""
    path = tmp_path / "pairs.json"
    path.write_text(json.dumps({"chosen": "a", "rejected": "b"}), encoding="utf-8")
    with pytest.raises(WinnowError, match="holds a JSON object, not a list of records"):
        read_records(path)


def test_broken_jsonl_line_is_quarantined(tmp_path: Path) -> None:
    """An unparseable JSON Lines line comes back as a rejected candidate with its line."""
    path = tmp_path / "pairs.jsonl"
    good = json.dumps({"chosen": "\n\nHuman: a\n\nAssistant: b", "rejected": "x"})
    path.write_text(good + "\n{not json\n", encoding="utf-8")
    records, bad = read_records(path)
    assert [n for n, _ in records] == [1]
    assert bad[0].line == 2 and bad[0].reject.reason == "bad_json"
