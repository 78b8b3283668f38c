"""Read preference files (HH, ShareGPT DPO, ranked, rated, KTO) into one chosen/rejected schema.

A row is `id, prompt, chosen, rejected, completion, label, source, margin`; prompt, chosen,
rejected and completion are message lists (`{role, content}`), the TRL explicit-prompt
conversational form. Paired rows have chosen/rejected and null completion/label; KTO rows are
unpaired: `completion` (the final assistant message) and `label`, with chosen/rejected null.
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

FORMATS = ("hh", "sharegpt-dpo", "ranked", "kto", "rated")
"""Formats `--format` accepts besides `auto`."""

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
        found.add("sharegpt-dpo" if "conversations" in record else "hh")
    if "messages" in record and "label" in record:
        found.add("kto")
    if "instruction" in record or "prompt" in record:
        if isinstance(record.get("output"), list):
            found.add("ranked")
        if isinstance(record.get("answers"), list):
            found.add("rated")
    return found


def detect_format(records: list[tuple[int, Any]], where: str) -> str:
    """The one format the first records' keys match, or a one-line error naming the options."""
    head = [record for _, record in records[:DETECT_RECORDS]]
    found = set().union(*(formats_of(record) for record in head)) if head else set()
    if len(found) == 1:
        return found.pop()
    keys = sorted({key for record in head if isinstance(record, dict) for key in record})
    if not found:
        raise WinnowError(
            f"{where}: the first records' keys ({', '.join(keys) or 'none'}) match no "
            f"preference format; give --format {'|'.join(FORMATS)}."
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
    """One pair from LLaMA-Factory's ShareGPT DPO form (`conversations, chosen, rejected`)."""
    conversations = record.get("conversations")
    if not isinstance(conversations, list):
        raise Reject("bad_row", "'conversations' should be a list of turns")
    yield {
        "prompt": [sharegpt_message(turn) for turn in conversations],
        "chosen": sharegpt_side(record.get("chosen")),
        "rejected": sharegpt_side(record.get("rejected")),
    }


def instruction_prompt(record: dict[str, Any]) -> list[Message]:
    """The prompt of an instruction row: optional system, then instruction (+ input) as user."""
    key = "instruction" if "instruction" in record else "prompt"
    text = text_field(record, key)
    extra = record.get("input")
    if isinstance(extra, str) and extra.strip():
        text = f"{text}\n\n{extra}"
    system = record.get("system")
    prompt = [{"role": "system", "content": system}] if isinstance(system, str) and system else []
    return [*prompt, {"role": "user", "content": text}]


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

    The prompt is `instruction` (+ `input`, `system`), or `prompt` as a list of messages.
    """
    given = record.get("prompt")
    prompt = (
        role_messages(given, "prompt") if isinstance(given, list) else instruction_prompt(record)
    )
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
    """An unpaired row: the final assistant message is the completion, the rest the prompt."""
    messages = record.get("messages")
    label = record.get("label")
    if not isinstance(label, bool):
        raise Reject("bad_row", "'label' should be true or false")
    parsed = role_messages(messages, "messages")
    if parsed[-1]["role"] != "assistant":
        raise Reject("no_assistant_turn", "the last message is not an assistant answer")
    yield {"prompt": parsed[:-1], "completion": parsed[-1:], "label": label}


def importer(fmt: str, pairing: str = "best-worst") -> Callable[[dict[str, Any]], Iterator[Row]]:
    """The importer of one format."""
    table = {
        "hh": import_hh,
        "sharegpt-dpo": import_sharegpt_dpo,
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
