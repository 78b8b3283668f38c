"""The self-instruct (Alpaca-style) prompt of numbered seed tasks, and the parser of replies.

A prompt lists `k` seed tasks as `N. Instruction:`, `N. Input:` and `N. Output:` lines and ends
with `k+1. Instruction:`, so the generator writes the next task. A reply is split into numbered
blocks; a block is a task when it has a non-empty instruction and output. An input of
`<noinput>` (or none) is the empty string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HEADER = (
    "You are asked to come up with a set of diverse task instructions. These task instructions "
    "will be given to a language model and we will evaluate the language model for completing "
    "the instructions.\n\n"
    "Here are the requirements:\n"
    "1. Try not to repeat the verb for each instruction to maximize diversity.\n"
    "2. The language used for the instruction also should be diverse.\n"
    "3. The type of instructions should be diverse.\n"
    "4. An instruction should be 1 to 2 sentences long.\n"
    "5. Not all instructions require input; then write <noinput> as the input.\n"
    "6. The output should be an appropriate response to the instruction and the input.\n\n"
    "List of tasks:\n"
)
"""The opening of every prompt, after Alpaca's prompt.txt."""

NO_INPUT = "<noinput>"
"""How a task without an input is written."""

BLOCK = re.compile(r"^[ \t]*(\d+)\.[ \t]*Instruction:", re.MULTILINE)
INPUT = re.compile(r"^[ \t]*\d+\.[ \t]*Input:", re.MULTILINE)
OUTPUT = re.compile(r"^[ \t]*\d+\.[ \t]*Output:", re.MULTILINE)
SEPARATOR = re.compile(r"^[ \t]*###[ \t]*$", re.MULTILINE)
"""Numbered field labels and the `###` line between tasks."""


@dataclass(frozen=True)
class Task:
    """One instruction, its input ("" when none) and its output."""

    instruction: str
    input: str
    output: str


def format_prompt(seeds: list[Task]) -> str:
    """The prompt listing `seeds` as numbered tasks and asking for the next one."""
    parts = [HEADER]
    for number, task in enumerate(seeds, start=1):
        parts.append(
            f"###\n{number}. Instruction: {task.instruction}\n"
            f"{number}. Input:\n{task.input or NO_INPUT}\n"
            f"{number}. Output:\n{task.output}\n"
        )
    parts.append(f"###\n{len(seeds) + 1}. Instruction:")
    return "".join(parts)


def reply_text(prompt: str, reply: str) -> str:
    """The reply as numbered blocks: the prompt's last label is put back unless it is repeated."""
    if BLOCK.match(reply.lstrip()):
        return reply
    return prompt.rsplit("###\n", 1)[-1] + reply


def parse_block(block: str) -> Task | str:
    """A task from one `N. Instruction:` block, or why it is not one."""
    body = BLOCK.sub("", block, count=1)
    body = SEPARATOR.split(body)[0]
    output_at = OUTPUT.search(body)
    if output_at is None:
        return "missing_output: the block has no 'N. Output:' line"
    head, output = body[: output_at.start()], body[output_at.end() :]
    input_at = INPUT.search(head)
    instruction = head[: input_at.start()] if input_at else head
    input_text = head[input_at.end() :].strip() if input_at else ""
    instruction, output = instruction.strip(), output.strip()
    if not instruction:
        return "empty_instruction: the block's instruction is blank"
    if not output:
        return "empty_output: the block's output is blank"
    if input_text.lower() == NO_INPUT:
        input_text = ""
    return Task(instruction, input_text, output)


def parse_reply(text: str) -> tuple[list[Task], list[tuple[str, str]]]:
    """Tasks of a reply in order, and (reason, block text) of each block that is not a task."""
    starts = [m.start() for m in BLOCK.finditer(text)]
    if not starts:
        return [], [("no_task: the reply has no 'N. Instruction:' block", text)]
    tasks: list[Task] = []
    bad: list[tuple[str, str]] = []
    for begin, end in zip(starts, [*starts[1:], len(text)], strict=True):
        block = text[begin:end]
        parsed = parse_block(block)
        if isinstance(parsed, Task):
            tasks.append(parsed)
        else:
            bad.append((parsed, block))
    return tasks, bad
