"""Helpers referenced from the task YAMLs with `!function utils.NAME`.

lm-eval imports this file from the folder of the YAML that names it, so it must sit next to
those YAMLs in the rendered include dir. Only numpy/datasets (both lm-eval dependencies).
"""

from __future__ import annotations

import hashlib
import re

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
    """1 for Yes, 0 for No; None when the answer says both or neither (HaluEval's own rule,
    on whole words and in any case)."""
    words = set(re.findall(r"[a-z]+", text.lower()))
    if ("yes" in words) == ("no" in words):
        return None
    return int("yes" in words)


def process_results_judgment(doc: dict, results: list) -> dict:
    # free generation: an unparseable answer is wrong, and counted apart
    verdict = parse_judgment(results[0])
    return {"acc": float(verdict == doc["label"]), "unparseable": float(verdict is None)}
