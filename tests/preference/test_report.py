"""Length bias and language mix of preference rows, checked against direct computations."""

from __future__ import annotations

from pathlib import Path

from winnow.preference.importers import import_records, read_records
from winnow.preference.report import language_mix, last_user_turn, length_bias
from winnow.preference.validate import check


def test_length_bias_matches_direct_count(shared_data: Path) -> None:
    """The share equals a plain count of chosen answers longer than rejected ones."""
    records, _ = read_records(shared_data / "preference/dpo_en_demo.json")
    rows = check(import_records(records, "sharegpt-dpo", "dpo")).kept
    direct = sum(
        len(r["chosen"][0]["content"]) > len(r["rejected"][0]["content"]) for r in rows
    ) / len(rows)
    bias = length_bias(rows)
    assert bias["pairs"] == 295
    assert bias["share_chosen_longer"] == round(direct, 4)
    assert bias["chosen_longer"] + bias["chosen_shorter"] + bias["equal_length"] == 295


def pair(chosen: str, rejected: str) -> dict:
    """A minimal paired row with one-message answers."""
    user = [{"role": "user", "content": "q"}]
    return {
        "prompt": user,
        "chosen": [{"role": "assistant", "content": chosen}],
        "rejected": [{"role": "assistant", "content": rejected}],
    }


def test_length_bias_on_inline_pairs() -> None:
    """Two of three pairs have the longer answer chosen; unpaired rows are not counted."""
    rows = [pair("long answer", "short"), pair("longer", "no"), pair("a", "bb")]
    rows.append({"prompt": [], "chosen": None, "rejected": None})
    bias = length_bias(rows)
    assert (bias["pairs"], bias["chosen_longer"], bias["share_chosen_longer"]) == (3, 2, 0.6667)


def test_language_mix_uses_last_user_turn() -> None:
    """The language is that of the prompt's last user message, not of earlier turns."""
    prompt = [
        {"role": "user", "content": "Bonjour, comment allez-vous aujourd'hui ?"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "Please write a short poem about the sea and the wind."},
    ]
    assert last_user_turn(prompt).startswith("Please write")
    german = [{"role": "user", "content": "Wie spät ist es, und wo ist der nächste Bahnhof?"}]
    assert language_mix([{"prompt": prompt}, {"prompt": german}]) == {"en": 1, "de": 1}
