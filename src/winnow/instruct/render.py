"""Renders of an instruction row: the Stanford Alpaca prompt, chat messages, TRL columns."""

from __future__ import annotations

from typing import Any

PROMPT_INPUT = (
    "Below is an instruction that describes a task, paired with an input that provides further "
    "context. Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n"
)
"""Stanford Alpaca's prompt for rows with an input (train.py, PROMPT_DICT["prompt_input"])."""

PROMPT_NO_INPUT = (
    "Below is an instruction that describes a task. Write a response that appropriately "
    "completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Response:\n"
)
"""Stanford Alpaca's prompt for rows without one (PROMPT_DICT["prompt_no_input"])."""

Message = dict[str, str]


def alpaca_prompt(instruction: str, input_text: str) -> str:
    """The Alpaca prompt, with the input variant when the input is not empty."""
    if input_text:
        return PROMPT_INPUT.format_map({"instruction": instruction, "input": input_text})
    return PROMPT_NO_INPUT.format_map({"instruction": instruction})


def user_turn(instruction: str, input_text: str) -> str:
    """The last user message: the instruction, then the input on the next line (LLaMA-Factory)."""
    return f"{instruction}\n{input_text}" if input_text else instruction


def chat_messages(
    instruction: str, input_text: str, output: str, system: str, history: list[list[str]]
) -> list[Message]:
    """System (when set), the earlier turns, then the last user and assistant messages."""
    messages = [{"role": "system", "content": system}] if system else []
    for user, assistant in history:
        messages.append({"role": "user", "content": user})
        messages.append({"role": "assistant", "content": assistant})
    messages.append({"role": "user", "content": user_turn(instruction, input_text)})
    messages.append({"role": "assistant", "content": output})
    return messages


def render_row(row: dict[str, Any]) -> dict[str, Any]:
    """The `text`, `messages`, `prompt` and `completion` columns of one valid row.

    `text` is the single-turn Alpaca render (prompt + output; history is not in it), the
    conversational columns carry the history.
    """
    messages = chat_messages(
        row["instruction"], row["input"], row["output"], row["system"], row["history"]
    )
    return {
        "text": alpaca_prompt(row["instruction"], row["input"]) + row["output"],
        "messages": messages,
        "prompt": messages[:-1],
        "completion": messages[-1:],
    }
