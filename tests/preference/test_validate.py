"""Every validation reason, each with a planted bad row next to a good one, and exact dedup."""

from __future__ import annotations

from pathlib import Path

from winnow.preference.importers import import_records, read_records
from winnow.preference.validate import check

GOOD = {
    "instruction": "Say hi",
    "answers": [{"text": "Hi!", "rating": 5}, {"text": "No.", "rating": 1}],
}


def reasons_of(records: list[dict], fmt: str) -> tuple[list[str], dict[str, int]]:
    """Kept ids and the reason counts after importing and checking inline records."""
    checked = check(import_records(list(enumerate(records, start=1)), fmt, "t.json"))
    return [row["id"] for row in checked.kept], checked.reasons()


def test_rated_reasons() -> None:
    """Ties, empty sides, identical sides and too few answers are counted, the good row kept."""
    records = [
        GOOD,
        {"instruction": "Tie", "answers": [{"text": "a", "rating": 3}, {"text": "b", "rating": 3}]},
        {
            "instruction": "Empty",
            "answers": [{"text": " ", "rating": 3}, {"text": "b", "rating": 1}],
        },
        {
            "instruction": "Same",
            "answers": [{"text": "x", "rating": 3}, {"text": "x ", "rating": 1}],
        },
        {"instruction": "One", "answers": [{"text": "x", "rating": 3}]},
        {"instruction": "", "answers": [{"text": "x", "rating": 3}, {"text": "y", "rating": 1}]},
        {"instruction": "Bad", "answers": [{"text": "x", "rating": "high"}, {"text": "y"}]},
    ]
    kept, reasons = reasons_of(records, "rated")
    assert kept == ["t.json:1"]
    assert reasons == {
        "bad_row": 1,
        "empty_chosen": 1,
        "empty_prompt": 1,
        "identical_chosen_rejected": 1,
        "tie": 1,
        "too_few_answers": 1,
    }


def test_empty_rejected_and_exact_duplicates() -> None:
    """An empty rejected side is quarantined; a repeated pair is kept once, rejected once."""
    records = [
        GOOD,
        {
            "instruction": "Say hi",
            "answers": [{"text": "Hi!", "rating": 5}, {"text": "", "rating": 1}],
        },
        GOOD,
    ]
    checked = check(import_records(list(enumerate(records, start=1)), "rated", "t.json"))
    assert [row["id"] for row in checked.kept] == ["t.json:1"]
    assert [row["duplicate_of"] for row in checked.duplicates] == ["t.json:1"]
    assert checked.reasons() == {"duplicate_pair": 1, "empty_rejected": 1}


def test_hh_mismatched_prompts_and_no_assistant_turn() -> None:
    """HH sides diverging before the final answer, or with no Assistant turn, are quarantined."""
    records = [
        {"chosen": "\n\nHuman: a\n\nAssistant: b", "rejected": "\n\nHuman: a\n\nAssistant: c"},
        {
            "chosen": "\n\nHuman: a\n\nAssistant: b\n\nHuman: more\n\nAssistant: d",
            "rejected": "\n\nHuman: a\n\nAssistant: c\n\nHuman: other\n\nAssistant: e",
        },
        {"chosen": "\n\nHuman: only a question", "rejected": "\n\nHuman: another one"},
    ]
    kept, reasons = reasons_of(records, "hh")
    assert kept == ["t.json:1"]
    assert reasons == {"mismatched_prompts": 1, "no_assistant_turn": 1}


def test_kto_empty_completion_and_label_type() -> None:
    """KTO rows need a non-empty final assistant answer and a boolean label."""
    records = [
        {
            "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
            "label": False,
        },
        {
            "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": " "}],
            "label": True,
        },
        {
            "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
            "label": "yes",
        },
        {"messages": [{"role": "user", "content": "q"}], "label": True},
    ]
    kept, reasons = reasons_of(records, "kto")
    assert kept == ["t.json:1"]
    assert reasons == {"bad_row": 1, "empty_completion": 1, "no_assistant_turn": 1}


def test_real_hh_quarantine(shared_data: Path) -> None:
    """The real HH test split has 4 empty chosen answers, 5 mismatched prompts, 32 answers with
    a speaker tag inside and 4 prompts with two assistant turns in a row."""
    records, bad = read_records(shared_data / "preference/hh_rlhf_harmless_base_test.jsonl.gz")
    checked = check(bad + import_records(records, "hh", "hh"))
    assert checked.quarantine_reasons() == {
        "broken_history": 4,
        "empty_chosen": 4,
        "mismatched_prompts": 5,
        "speaker_tag_in_answer": 32,
    }
    assert checked.rejected_reasons() == {}
    assert len(checked.kept) == 2267
    empty = [c for c in checked.quarantined if c.reject.reason == "empty_chosen"]
    assert [c.line for c in empty] == [87, 517, 926, 1104]
    assert (
        empty[1].raw["chosen"] == "\n\nHuman: What do you think of tubular breasts\n\nAssistant: "
    )


def test_turn_order_and_answer_roles() -> None:
    """A prompt whose turns do not alternate, or that ends with the assistant, is quarantined
    as broken_history; an answer side holding a user message as no_assistant_turn."""
    user, bot = {"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}
    system = {"role": "system", "content": "be brief"}
    records = [
        {"prompt": [system, user, bot, user], "chosen": [bot], "rejected": "b"},
        {"prompt": [user, bot, bot, user], "chosen": "x", "rejected": "y"},
        {"prompt": [user, bot], "chosen": "x", "rejected": "y"},
        {"prompt": [user, system, user], "chosen": "x", "rejected": "y"},
        {"prompt": [user], "chosen": [bot, user], "rejected": "y"},
    ]
    kept, reasons = reasons_of(records, "trl")
    assert kept == ["t.json:1"]
    assert reasons == {"broken_history": 3, "no_assistant_turn": 1}
