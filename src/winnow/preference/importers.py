"""Read preference files (HH, ShareGPT and Alpaca DPO, TRL, ranked, rated, KTO) into one schema.

A row is `id, prompt, chosen, rejected, completion, label, source, margin`; prompt, chosen,
rejected and completion are message lists (`{role, content}`), the TRL explicit-prompt
conversational form. Paired rows have chosen/rejected and null completion/label; KTO rows are
unpaired: `completion` (the final assistant message) and `label`, with chosen/rejected null.
Earlier turns (`history` pairs, a `system` prompt, a conversation's first turns) are kept in
`prompt` before the last user turn, so a multi-turn record stays multi-turn.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from winnow.errors import WinnowError
from winnow.records import read_records as records_of

Message = dict[str, str]
Row = dict[str, Any]

LAYOUTS = {
    "hh": "chosen, rejected (whole Human/Assistant transcripts)",
    "sharegpt-dpo": "conversations, chosen, rejected (optional system)",
    "alpaca-dpo": "instruction, chosen, rejected (optional input, system, history)",
    "trl": "prompt, chosen, rejected; or prompt, completion, label; or chosen, rejected as "
    "message lists",
    "ranked": "instruction or prompt, output (a list, best first; optional input, system, history)",
    "rated": "instruction or prompt, answers (a list of {text, rating})",
    "kto": "messages, label; or instruction, output, kto_tag/tag/label (optional input, system, "
    "history)",
}
"""The keys each format reads, as error messages name them."""

FORMATS = tuple(LAYOUTS)
"""Formats `--format` accepts besides `auto`."""

KTO_TAGS = ("kto_tag", "tag", "label")
"""Keys that may hold the true/false judgement of an Alpaca-layout KTO row (LLaMA-Factory's
`kto_tag` column, whatever it is named)."""

PAIRINGS = ("best-worst", "adjacent")
"""How ranked outputs become pairs: best against worst, or every neighbouring pair."""

DETECT_RECORDS = 20
"""How many leading records format detection looks at."""

ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant"}
ROLES |= {"system": "system"}
"""ShareGPT/OpenAI speaker names mapped to chat roles."""

ASSISTANT = "\n\nAssistant:"
HH_TURN = re.compile(r"\n\n(Human|Assistant):")
"""Anthropic HH turn markers; the text after one marker up to the next is that turn."""
SPEAKER_TAG = re.compile(r"\b(?:Human|Assistant):")
"""A speaker tag left inside an HH answer (`Assistant: Human: ...`): whose words follow is
unknown, so the pair is quarantined rather than kept as a clean one."""

TEXT_KEYS = ("text", "response", "answer", "output", "content")
RATING_KEYS = ("rating", "score")
"""Keys of one rated answer: its text and its numeric rating."""


class Reject(Exception):
    """A record (or one pair from it) that cannot become a row, with a reason code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@dataclass
class Candidate:
    """One row an importer made, or the reason it could not, with where it came from."""

    line: int
    raw: Any
    row: Row | None = None
    reject: Reject | None = None
    file: str = ""


def read_records(path: Path) -> tuple[list[tuple[int, Any]], list[Candidate]]:
    """(record number, record) pairs of a JSON list or JSON Lines file (.gz allowed); JSON
    Lines lines that do not parse come back as rejected candidates."""
    records, broken = records_of(path, (".json", ".jsonl", ".parquet"))
    bad = [Candidate(n, raw, reject=Reject("bad_json", error)) for n, error, raw in broken]
    return records, bad


def formats_of(record: Any) -> set[str]:
    """The formats whose keys a record has."""
    if not isinstance(record, dict):
        return set()
    found = set()
    if "chosen" in record and "rejected" in record:
        if "conversations" in record:
            found.add("sharegpt-dpo")
        elif "instruction" in record:
            found.add("alpaca-dpo")
        elif "prompt" in record or isinstance(record["chosen"], list):
            found.add("trl")
        else:
            found.add("hh")
    if {"prompt", "completion", "label"} <= record.keys():
        found.add("trl")
    if "messages" in record and "label" in record:
        found.add("kto")
    if (
        "instruction" in record
        and isinstance(record.get("output"), str)
        and any(isinstance(record.get(tag), bool) for tag in KTO_TAGS)
    ):
        found.add("kto")
    if "instruction" in record or "prompt" in record:
        if isinstance(record.get("output"), list):
            found.add("ranked")
        if isinstance(record.get("answers"), list):
            found.add("rated")
    return found


def keys_of(records: list[tuple[int, Any]]) -> list[str]:
    """The keys of the first records, sorted."""
    head = [record for _, record in records[:DETECT_RECORDS]]
    return sorted({key for record in head if isinstance(record, dict) for key in record})


def detect_format(records: list[tuple[int, Any]], where: str) -> str:
    """The one format the first records' keys match, or a one-line error naming the options."""
    head = [record for _, record in records[:DETECT_RECORDS]]
    found = set().union(*(formats_of(record) for record in head)) if head else set()
    if len(found) == 1:
        return found.pop()
    keys = keys_of(records)
    if not found:
        raise WinnowError(
            f"{where}: the first records' keys ({', '.join(keys) or 'none'}) match no "
            f"preference format; give --format {'|'.join(FORMATS)}, and --map TARGET=COLUMN "
            "to name columns the format reads."
        )
    raise WinnowError(
        f"{where}: the first records match several formats ({', '.join(sorted(found))}); "
        "choose one with --format."
    )


def text_field(record: dict[str, Any], key: str) -> str:
    """A required string field of a record."""
    value = record.get(key)
    if not isinstance(value, str):
        raise Reject("bad_row", f"'{key}' should be a string, found {type(value).__name__}")
    return value


def hh_turns(text: str) -> list[Message]:
    """Parse `\\n\\nHuman:` / `\\n\\nAssistant:` text into user/assistant messages."""
    parts = HH_TURN.split(text)
    if parts[0].strip():
        raise Reject("bad_row", "text before the first Human/Assistant turn")
    roles = {"Human": "user", "Assistant": "assistant"}
    return [
        {"role": roles[speaker], "content": content.strip()}
        for speaker, content in zip(parts[1::2], parts[2::2], strict=True)
    ]


def split_hh(chosen: str, rejected: str) -> tuple[list[Message], list[Message], list[Message]]:
    """Split two HH transcripts into (prompt, chosen answer, rejected answer).

    The prompt is the longest common prefix cut back to its last "\\n\\nAssistant:"; what
    follows on each side is that side's answer, which must hold no further turn (else the
    two sides had different prompts).
    """
    common = 0
    for a, b in zip(chosen, rejected, strict=False):
        if a != b:
            break
        common += 1
    cut = chosen[:common].rfind(ASSISTANT)
    if cut < 0:
        raise Reject("no_assistant_turn", 'the transcripts share no "\\n\\nAssistant:" turn')
    prompt = hh_turns(chosen[:cut])
    answers = []
    for side, text in (("chosen", chosen), ("rejected", rejected)):
        answer = text[cut + len(ASSISTANT) :]
        if HH_TURN.search(answer):
            raise Reject(
                "mismatched_prompts", f"the {side} transcript diverges before its final answer"
            )
        tag = SPEAKER_TAG.search(answer)
        if tag:
            raise Reject(
                "speaker_tag_in_answer",
                f"the {side} answer holds the speaker tag '{tag.group()}', so whose words "
                "follow it is unclear",
            )
        answers.append([{"role": "assistant", "content": answer.strip()}])
    return prompt, answers[0], answers[1]


def import_hh(record: dict[str, Any]) -> Iterator[Row]:
    """One pair from Anthropic HH `chosen`/`rejected` whole transcripts."""
    prompt, chosen, rejected = split_hh(
        text_field(record, "chosen"), text_field(record, "rejected")
    )
    yield {"prompt": prompt, "chosen": chosen, "rejected": rejected}


def sharegpt_message(turn: Any) -> Message:
    """A ShareGPT `{from, value}` turn as a chat message."""
    if not isinstance(turn, dict) or not isinstance(turn.get("value"), str):
        raise Reject("bad_row", "a turn should be an object with a string 'value'")
    role = ROLES.get(str(turn.get("from")))
    if role is None:
        raise Reject("bad_row", f"unknown speaker '{turn.get('from')}' (human, gpt or system)")
    return {"role": role, "content": turn["value"]}


def sharegpt_side(value: Any) -> list[Message]:
    """A chosen/rejected side: one `{from, value}` turn or a list of them."""
    turns = value if isinstance(value, list) else [value]
    return [sharegpt_message(turn) for turn in turns]


def import_sharegpt_dpo(record: dict[str, Any]) -> Iterator[Row]:
    """One pair from LLaMA-Factory's ShareGPT DPO form (`conversations, chosen, rejected`), with
    its optional `system` column as the first prompt message."""
    conversations = record.get("conversations")
    if not isinstance(conversations, list):
        raise Reject("bad_row", "'conversations' should be a list of turns")
    prompt = [sharegpt_message(turn) for turn in conversations]
    system = optional_text(record, "system")
    if system and prompt and prompt[0]["role"] == "system":
        if prompt[0]["content"] != system:
            raise Reject("bad_row", "both a 'system' column and a different system turn")
    elif system:
        prompt.insert(0, {"role": "system", "content": system})
    yield {
        "prompt": prompt,
        "chosen": sharegpt_side(record.get("chosen")),
        "rejected": sharegpt_side(record.get("rejected")),
    }


def optional_text(record: dict[str, Any], key: str) -> str:
    """An optional string field: '' when absent or null, refused when of another type."""
    value = record.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Reject("bad_row", f"'{key}' should be a string, found {type(value).__name__}")
    return value


def history_messages(record: dict[str, Any]) -> list[Message]:
    """The `history` of an Alpaca-layout record, `[[user, assistant], ...]`, as messages."""
    history = record.get("history")
    if history is None:
        return []
    pairs = history if isinstance(history, list) else None
    if pairs is None or not all(
        isinstance(pair, list | tuple) and len(pair) == 2 and all(isinstance(t, str) for t in pair)
        for pair in pairs
    ):
        raise Reject("broken_history", "'history' should be a list of [user, assistant] strings")
    return [
        message
        for user, assistant in pairs
        for message in (
            {"role": "user", "content": user},
            {"role": "assistant", "content": assistant},
        )
    ]


def instruction_prompt(record: dict[str, Any]) -> list[Message]:
    """The prompt of an Alpaca-layout row: optional system, the `history` turns, then the
    instruction (or a string prompt) and its input on the next line as the last user turn, as
    LLaMA-Factory builds it. A `prompt` given as a list of messages is taken as it is."""
    given = record.get("prompt")
    if "instruction" not in record and isinstance(given, list):
        return role_messages(given, "prompt")
    text = text_field(record, "instruction" if "instruction" in record else "prompt")
    extra = optional_text(record, "input")
    if extra.strip():
        text = f"{text}\n{extra}"
    system = optional_text(record, "system")
    prompt = [{"role": "system", "content": system}] if system else []
    return [*prompt, *history_messages(record), {"role": "user", "content": text}]


def answer(text: str) -> list[Message]:
    """A single assistant message."""
    return [{"role": "assistant", "content": text}]


def ranked_importer(pairing: str) -> Callable[[dict[str, Any]], Iterator[Row]]:
    """An importer for `output: [best, ..., worst]` rows making pairs as `pairing` says."""

    def import_ranked(record: dict[str, Any]) -> Iterator[Row]:
        """Best against worst, or each output against the next one down."""
        prompt = instruction_prompt(record)
        outputs = record.get("output")
        if not isinstance(outputs, list) or not all(isinstance(o, str) for o in outputs):
            raise Reject("bad_row", "'output' should be a list of strings, best first")
        if len(outputs) < 2:
            raise Reject("too_few_answers", f"{len(outputs)} output(s); a pair needs two")
        if pairing == "best-worst":
            pairs = [(0, len(outputs) - 1)]
        else:
            pairs = [(i, i + 1) for i in range(len(outputs) - 1)]
        for better, worse in pairs:
            yield {
                "prompt": prompt,
                "chosen": answer(outputs[better]),
                "rejected": answer(outputs[worse]),
            }

    return import_ranked


def rated_answer(item: Any) -> tuple[str, float]:
    """(text, rating) of one `{text, rating}` answer (also response/answer/output, score)."""
    if not isinstance(item, dict):
        raise Reject("bad_row", "each answer should be an object with a text and a rating")
    text = next((item[k] for k in TEXT_KEYS if isinstance(item.get(k), str)), None)
    rating = next((item[k] for k in RATING_KEYS if k in item), None)
    if text is None or isinstance(rating, bool) or not isinstance(rating, int | float):
        raise Reject("bad_row", "each answer needs a string text and a numeric rating")
    return text, float(rating)


def import_rated(record: dict[str, Any]) -> Iterator[Row]:
    """Best-rated answer against worst-rated; margin is their rating difference.

    The prompt is `instruction` (+ `input`, `system`, `history`), or `prompt` as a list of
    messages.
    """
    prompt = instruction_prompt(record)
    answers = [rated_answer(item) for item in record.get("answers") or []]
    if len(answers) < 2:
        raise Reject("too_few_answers", f"{len(answers)} answer(s); a pair needs two")
    best = max(answers, key=lambda a: a[1])
    worst = min(answers, key=lambda a: a[1])
    if best[1] == worst[1]:
        raise Reject("tie", f"every answer is rated {best[1]:g}")
    yield {
        "prompt": prompt,
        "chosen": answer(best[0]),
        "rejected": answer(worst[0]),
        "margin": best[1] - worst[1],
    }


def role_messages(messages: Any, key: str) -> list[Message]:
    """OpenAI-style `[{role, content}]` as chat messages, or the reason they are not."""
    if not isinstance(messages, list) or not messages:
        raise Reject("bad_row", f"'{key}' should be a non-empty list")
    parsed = []
    for message in messages:
        if not isinstance(message, dict) or not isinstance(message.get("content"), str):
            raise Reject("bad_row", "each message should have a string 'content'")
        role = ROLES.get(str(message.get("role")))
        if role is None:
            raise Reject("bad_row", f"unknown role '{message.get('role')}'")
        parsed.append({"role": role, "content": message["content"]})
    return parsed


def import_kto(record: dict[str, Any]) -> Iterator[Row]:
    """An unpaired row. `messages, label`: the final assistant message is the completion, the
    rest the prompt. LLaMA-Factory's Alpaca layout `instruction, output, kto_tag` (or `tag`,
    `label`), with optional `input`, `system`, `history`: the output is the completion."""
    if "messages" not in record and "instruction" in record:
        key = next((k for k in KTO_TAGS if k in record), None)
        if key is None:
            raise Reject("bad_row", f"no true/false tag ({', '.join(KTO_TAGS)})")
        label = record[key]
        if not isinstance(label, bool):
            raise Reject("bad_row", f"'{key}' should be true or false")
        prompt = instruction_prompt(record)
        yield {"prompt": prompt, "completion": answer(text_field(record, "output")), "label": label}
        return
    messages = record.get("messages")
    label = record.get("label")
    if not isinstance(label, bool):
        raise Reject("bad_row", "'label' should be true or false")
    parsed = role_messages(messages, "messages")
    if parsed[-1]["role"] != "assistant":
        raise Reject("no_assistant_turn", "the last message is not an assistant answer")
    yield {"prompt": parsed[:-1], "completion": parsed[-1:], "label": label}


def import_alpaca_dpo(record: dict[str, Any]) -> Iterator[Row]:
    """One pair from LLaMA-Factory's Alpaca preference layout: `instruction, chosen, rejected`
    strings with optional `input`, `system` and `history`."""
    yield {
        "prompt": instruction_prompt(record),
        "chosen": answer(text_field(record, "chosen")),
        "rejected": answer(text_field(record, "rejected")),
    }


def trl_side(record: dict[str, Any], key: str, role: str) -> list[Message]:
    """A TRL column: a string (standard form, one `role` message) or a list of messages."""
    value = record.get(key)
    if isinstance(value, str):
        return [{"role": role, "content": value}]
    return role_messages(value, key)


def import_trl(record: dict[str, Any]) -> Iterator[Row]:
    """TRL's preference layouts: explicit prompt (`prompt, chosen, rejected`), implicit prompt
    (`chosen, rejected` conversations whose shared first messages are the prompt) and unpaired
    (`prompt, completion, label`); each column a string or a list of messages. A pair's
    optional `margin` (TRL's reward trainer reads it) is kept."""
    if "chosen" not in record and "completion" in record:
        label = record.get("label")
        if not isinstance(label, bool):
            raise Reject("bad_row", "'label' should be true or false")
        prompt = trl_side(record, "prompt", "user")
        yield {
            "prompt": prompt,
            "completion": trl_side(record, "completion", "assistant"),
            "label": label,
        }
        return
    chosen = trl_side(record, "chosen", "assistant")
    rejected = trl_side(record, "rejected", "assistant")
    margin = record.get("margin")
    if margin is not None and (isinstance(margin, bool) or not isinstance(margin, int | float)):
        raise Reject("bad_row", f"'margin' should be a number, found {type(margin).__name__}")
    margin = None if margin is None else float(margin)
    if "prompt" in record:
        prompt = trl_side(record, "prompt", "user")
        yield {"prompt": prompt, "chosen": chosen, "rejected": rejected, "margin": margin}
        return
    shared = 0
    while shared < min(len(chosen), len(rejected)) and chosen[shared] == rejected[shared]:
        shared += 1
    if shared == len(chosen) == len(rejected):
        raise Reject("identical_chosen_rejected", "chosen and rejected conversations are the same")
    yield {
        "prompt": chosen[:shared],
        "chosen": chosen[shared:],
        "rejected": rejected[shared:],
        "margin": margin,
    }


def importer(fmt: str, pairing: str = "best-worst") -> Callable[[dict[str, Any]], Iterator[Row]]:
    """The importer of one format."""
    table = {
        "hh": import_hh,
        "sharegpt-dpo": import_sharegpt_dpo,
        "alpaca-dpo": import_alpaca_dpo,
        "trl": import_trl,
        "ranked": ranked_importer(pairing),
        "kto": import_kto,
        "rated": import_rated,
    }
    return table[fmt]


def import_records(
    records: list[tuple[int, Any]], fmt: str, source: str, pairing: str = "best-worst"
) -> list[Candidate]:
    """Every record as candidate rows (several for adjacent ranked pairs) or a rejected one."""
    parse = importer(fmt, pairing)
    found: list[Candidate] = []
    for number, record in records:
        if not isinstance(record, dict):
            reject = Reject("bad_row", f"expected an object, found {type(record).__name__}")
            found.append(Candidate(number, record, reject=reject))
            continue
        try:
            rows = list(parse(record))
        except Reject as reject:
            found.append(Candidate(number, record, reject=reject))
            continue
        for k, row in enumerate(rows):
            suffix = f"-{k}" if len(rows) > 1 else ""
            full = {
                "id": f"{source}:{number}{suffix}",
                "prompt": row["prompt"],
                "chosen": row.get("chosen"),
                "rejected": row.get("rejected"),
                "completion": row.get("completion"),
                "label": row.get("label"),
                "source": source,
                "margin": row.get("margin"),
            }
            found.append(Candidate(number, record, row=full))
    return found
