"""The Stanford Alpaca prompt byte for byte, and the chat and TRL renders."""

from __future__ import annotations

from winnow.instruct.render import alpaca_prompt, render_row

WITH_INPUT = (
    b"Below is an instruction that describes a task, paired with an input that provides "
    b"further context. Write a response that appropriately completes the request.\n\n"
    b"### Instruction:\nTranslate to French.\n\n### Input:\nGood {morning}\n\n### Response:\n"
)
NO_INPUT = (
    b"Below is an instruction that describes a task. Write a response that appropriately "
    b"completes the request.\n\n### Instruction:\nName a colour.\n\n### Response:\n"
)


def test_alpaca_prompt_with_input_bytes() -> None:
    """The with-input variant equals Stanford Alpaca's, braces in values left alone."""
    assert alpaca_prompt("Translate to French.", "Good {morning}").encode() == WITH_INPUT


def test_alpaca_prompt_without_input_bytes() -> None:
    """The no-input variant equals Stanford Alpaca's."""
    assert alpaca_prompt("Name a colour.", "").encode() == NO_INPUT


def test_render_row_columns() -> None:
    """text is prompt + output; messages carry system and history; prompt/completion split last."""
    row = {
        "instruction": "Translate to French.",
        "input": "Good {morning}",
        "output": "Bonjour",
        "system": "You translate.",
        "history": [["Hi", "Hello"]],
    }
    rendered = render_row(row)
    assert rendered["text"].encode() == WITH_INPUT + b"Bonjour"
    assert rendered["messages"] == [
        {"role": "system", "content": "You translate."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "Translate to French.\nGood {morning}"},
        {"role": "assistant", "content": "Bonjour"},
    ]
    assert rendered["prompt"] == rendered["messages"][:4]
    assert rendered["completion"] == [{"role": "assistant", "content": "Bonjour"}]
