"""Helpers referenced from the task YAMLs with `!function utils.NAME`.

lm-eval imports this file from the folder of the YAML that names it, so it must sit next to
those YAMLs in the rendered include dir. Only numpy/datasets (both lm-eval dependencies).
"""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path

import datasets
import numpy as np

# ----------------------------------------------------------------------------- TruthfulQA


def _close(answer: str) -> str:
    # TruthfulQA's own utilities.format_best / split_multi_answer(close=True): strip, end with "."
    answer = answer.strip()
    return answer if answer.endswith(".") else answer + "."


def _split(field: str | None) -> list[str]:
    # "; "-separated answers; empty pieces (trailing ";") dropped, duplicates dropped in order
    out: list[str] = []
    for piece in (field or "").split(";"):
        if piece.strip():
            ans = _close(piece)
            if ans not in out:
                out.append(ans)
    return out


def _truthfulqa_row(row: dict) -> dict:
    best = _close(row["Best Answer"])
    correct = _split(row["Correct Answers"])
    if best not in correct:
        correct.insert(0, best)
    incorrect = _split(row["Incorrect Answers"])
    best_incorrect = (row.get("Best Incorrect Answer") or "").strip()
    if best_incorrect and _close(best_incorrect) not in incorrect:
        incorrect.insert(0, _close(best_incorrect))
    # 2 rows list "Unknown" as both correct and incorrect: the correct list wins
    incorrect = [a for a in incorrect if a not in correct]
    # as lm-eval's truthfulqa (HF truthful_qa/multiple_choice): the true answer(s) come first
    mc1 = [best] + incorrect
    mc2 = correct + incorrect
    return {
        "question": row["Question"].strip(),
        "mc1_choices": mc1,
        "mc2_choices": mc2,
        "mc2_labels": [1] * len(correct) + [0] * len(incorrect),
    }


def process_truthfulqa(dataset: datasets.Dataset) -> datasets.Dataset:
    return dataset.map(_truthfulqa_row, remove_columns=dataset.column_names)


def process_results_mc2(doc: dict, results: list) -> dict:
    # identical to lm_eval/tasks/truthfulqa/utils.py: normalized probability mass on true answers
    ll, _ = zip(*results, strict=True)
    probs = np.exp(np.array(ll))
    probs_norm = probs / np.sum(probs)
    labels = np.array(doc["mc2_labels"])
    return {"acc": float(np.sum(probs_norm[labels == 1]))}


# ----------------------------------------------------------------------------- HaluEval

HALUEVAL_SEED = "winnow-halueval-v1"


def _pick_hallucinated(index: int) -> bool:
    """Deterministic per row, independent of --limit and of the machine: sha256(seed:index)."""
    digest = hashlib.sha256(f"{HALUEVAL_SEED}:{index}".encode()).digest()
    return digest[0] % 2 == 1


def _halueval_qa_row(row: dict, index: int) -> dict:
    halluc = _pick_hallucinated(index)
    return {
        "knowledge": row["knowledge"].strip(),
        "question": row["question"].strip(),
        "answer": (row["hallucinated_answer"] if halluc else row["right_answer"]).strip(),
        "label": int(halluc),  # index into doc_to_choice ["No", "Yes"]
    }


def _halueval_dialogue_row(row: dict, index: int) -> dict:
    halluc = _pick_hallucinated(index)
    return {
        "knowledge": row["knowledge"].strip(),
        "dialogue": row["dialogue_history"].strip(),
        "response": (row["hallucinated_response"] if halluc else row["right_response"]).strip(),
        "label": int(halluc),
    }


def _halueval_general_row(row: dict) -> dict:
    return {
        "id": row["ID"],
        "query": row["user_query"].strip(),
        "response": row["chatgpt_response"].strip(),
        "label": int(row["hallucination"].strip().lower() == "yes"),
    }


def process_halueval_qa(dataset: datasets.Dataset) -> datasets.Dataset:
    return dataset.map(_halueval_qa_row, with_indices=True, remove_columns=dataset.column_names)


def process_halueval_dialogue(dataset: datasets.Dataset) -> datasets.Dataset:
    return dataset.map(
        _halueval_dialogue_row, with_indices=True, remove_columns=dataset.column_names
    )


def process_halueval_general(dataset: datasets.Dataset) -> datasets.Dataset:
    return dataset.map(_halueval_general_row, remove_columns=dataset.column_names)


def parse_judgment(text: str) -> int | None:
    """1 for Yes, 0 for No; None when the answer says both or neither, on whole words and in
    any case (the knowledge-grounded variant's looser reading of HaluEval's rule)."""
    words = set(re.findall(r"[a-z]+", text.lower()))
    if ("yes" in words) == ("no" in words):
        return None
    return int("yes" in words)


def judgment_metrics(verdict: int | None, label: int) -> dict:
    """acc (an unparseable answer is wrong), the unparseable share, and the Yes/No balance of
    the answers and of the truth: a model answering one way only scores the truth's share."""
    return {
        "acc": float(verdict == label),
        "unparseable": float(verdict is None),
        "answered_yes": float(verdict == 1),
        "truth_yes": float(label),
    }


def process_results_judgment(doc: dict, results: list) -> dict:
    # free generation, knowledge-grounded variant: whole words in any case
    return judgment_metrics(parse_judgment(results[0]), doc["label"])


def process_results_choice(doc: dict, results: list) -> dict:
    # log-likelihood of " No" (choice 0) against " Yes" (choice 1): the likelier one is the answer
    (no, _), (yes, _) = results
    found = judgment_metrics(int(yes > no), doc["label"])
    del found["unparseable"]
    return found


# ------------------------------------------------------------------- HaluEval, by the book
# The prompts and the answer rule of the HaluEval paper's own evaluation script: Li et al.,
# "HaluEval: A Large-Scale Hallucination Evaluation Benchmark for Large Language Models",
# EMNLP 2023, arXiv:2305.11747; RUCAIBox/HaluEval evaluation/evaluate.py at b7253db (MIT, see
# halueval_prompts/LICENSE). The instruction files are byte-exact copies. The prompt is the
# script's completion-model prompt; the script's unseeded random pick of the right or the
# hallucinated text is replaced by the seeded one above.

PROMPTS = Path(__file__).parent / "halueval_prompts"

PAPER_FIELDS = {
    "qa": ("#Question#", "question", "#Answer#", "right_answer", "hallucinated_answer"),
    "dialogue": (
        "#Dialogue History#",
        "dialogue_history",
        "#Response#",
        "right_response",
        "hallucinated_response",
    ),
    "summarization": (
        "#Document#",
        "document",
        "#Summary#",
        "right_summary",
        "hallucinated_summary",
    ),
}


@functools.cache
def paper_instruction(task: str) -> str:
    """The script's instruction file, read once."""
    return (PROMPTS / f"{task}_evaluation_instruction.txt").read_text(encoding="utf-8")


def paper_prompt(task: str, first: str, second: str) -> str:
    """evaluate.py's prompt: instruction, the two fields, then "#Your Judgement#:"."""
    instruction = paper_instruction(task)
    name, _, other, _, _ = PAPER_FIELDS[task]
    return f"{instruction}\n\n{name}: {first}\n{other}: {second}\n#Your Judgement#:"


def _paper_rows(task: str):
    name, field, _, right, hallucinated = PAPER_FIELDS[task]

    def row(doc: dict, index: int) -> dict:
        halluc = _pick_hallucinated(index)
        judged = doc[hallucinated] if halluc else doc[right]
        return {"prompt": paper_prompt(task, doc[field], judged), "label": int(halluc)}

    return row


def process_halueval_qa_paper(dataset: datasets.Dataset) -> datasets.Dataset:
    return dataset.map(_paper_rows("qa"), with_indices=True, remove_columns=dataset.column_names)


def process_halueval_dialogue_paper(dataset: datasets.Dataset) -> datasets.Dataset:
    return dataset.map(
        _paper_rows("dialogue"), with_indices=True, remove_columns=dataset.column_names
    )


def process_halueval_summarization_paper(dataset: datasets.Dataset) -> datasets.Dataset:
    return dataset.map(
        _paper_rows("summarization"), with_indices=True, remove_columns=dataset.column_names
    )


def parse_paper_judgment(text: str) -> int | None:
    """evaluate.py's rule: dots removed, then case-sensitive substrings; both "Yes" and "No"
    or neither is a failed answer (None), which the paper counts as wrong."""
    text = text.replace(".", "")
    if ("Yes" in text) == ("No" in text):
        return None
    return int("Yes" in text)


def process_results_paper(doc: dict, results: list) -> dict:
    # free generation, by the book
    return judgment_metrics(parse_paper_judgment(results[0]), doc["label"])
