"""The instruct quality steps: planted rows, counts on real Alpaca/LIMA/Chinese sets, bad input."""

import json
from pathlib import Path

import polars as pl
import pytest

from winnow.curate.steps import build_step
from winnow.errors import WinnowError


def rows(*pairs: tuple[str | None, str | None], inputs: list[str | None] | None = None):
    """Instruction rows from (instruction, output) pairs, with an empty or given input."""
    return pl.DataFrame(
        {
            "id": [str(i) for i in range(len(pairs))],
            "instruction": [p[0] for p in pairs],
            "input": inputs or [""] * len(pairs),
            "output": [p[1] for p in pairs],
        },
        schema_overrides={"instruction": pl.Utf8, "input": pl.Utf8, "output": pl.Utf8},
    )


def judge(spec: dict, df: pl.DataFrame) -> pl.DataFrame:
    """Build a step from a recipe entry, score the rows and attach the reason."""
    step = build_step(spec, "recipe.yaml")
    scored = step.score(df)
    assert scored.columns[: df.width] == df.columns
    return scored.with_columns(reason=step.reason())


def real(shared_data: Path, name: str) -> pl.DataFrame:
    """The instruction, input and output columns of a real instruction file."""
    data = json.loads((shared_data / "instruct" / name).read_text(encoding="utf-8"))
    return pl.DataFrame(data).select("instruction", "input", "output")


def flagged(spec: dict, df: pl.DataFrame) -> pl.DataFrame:
    """The rows a step drops."""
    return judge(spec, df).filter(pl.col("reason").is_not_null())


# instruct_length


def test_length_bounds_in_order() -> None:
    """Each bound gives its own reason, instruction before output, min before max."""
    df = rows(
        ("Hi", "Hello there."),
        ("Name three primary colors.", ""),
        ("Name three primary colors.", "Red, yellow and blue are the three primary colors."),
        ("Name three primary colors.", "Red."),
        ("Describe " + "very " * 50 + "long things.", "Sure."),
        (None, None),
    )
    out = judge({"step": "instruct_length", "max_instruction_words": 20, "max_output_words": 5}, df)
    assert out["reason"].to_list() == [
        "instruction_too_short",
        "output_too_short",
        "output_too_long",
        None,
        "instruction_too_long",
        "instruction_too_short",
    ]
    assert out["instruct_length_output_words"].to_list() == [2, 0, 9, 1, 1, 0]
    assert out["instruct_length_instruction_chars"][0] == 2


def test_length_counts_characters_for_chinese() -> None:
    """A run of Chinese characters is one word, so Chinese is bounded by characters."""
    out = judge(
        {"step": "instruct_length", "max_output_chars": 10},
        rows(("解释为什么天空是蓝色的。", "因为空气散射蓝光比散射红光更多。")),
    )
    assert out["instruct_length_output_chars"][0] == 16
    assert out["instruct_length_output_words"][0] == 1
    assert out["reason"][0] == "output_too_long"


def test_length_on_real_sets(shared_data: Path) -> None:
    """Defaults flag only LIMA's 'Yes!' turn; a 1,000-word cap flags 132 LIMA answers."""
    assert (
        flagged({"step": "instruct_length"}, real(shared_data, "alpaca_en_demo.json")).height == 0
    )
    lima = real(shared_data, "lima.json")
    short = flagged({"step": "instruct_length"}, lima)
    assert short["instruction"].to_list() == ["Yes!"]
    assert short["reason"].to_list() == ["instruction_too_short"]
    long = flagged({"step": "instruct_length", "max_output_words": 1000}, lima)
    assert long["reason"].value_counts().sort("reason").rows() == [
        ("instruction_too_short", 1),
        ("output_too_long", 132),
    ]


# refusal


def test_refusal_planted_in_three_languages() -> None:
    """English, Korean and Chinese refusals match; innocent look-alikes do not."""
    df = rows(
        ("q", "As an AI language model, I cannot browse the web."),
        ("q", "I\u2019m sorry, but I can\u2019t help with that."),
        ("q", "죄송하지만 그 요청은 도와드릴 수 없습니다."),
        ("q", "AI 언어 모델로서 저는 의견이 없습니다."),
        ("q", "作为一个 AI 语言模型，我无法回答。"),
        ("q", "抱歉，我无法提供实时信息。"),
        ("q", "GPT-3 is a language model developed by OpenAI in 2020."),
        ("q", "The cat has an aim: as a hunter it waits."),
        ("q", "죄송하지만 오늘은 비가 옵니다. 내일은 갈 수 없습니다."),
        ("q", None),
    )
    out = judge({"step": "refusal"}, df)
    assert out["reason"].to_list() == ["refusal"] * 6 + [None] * 4
    assert out["refusal_match"].to_list()[:6] == [
        "as an ai language model",
        "i'm sorry, but i can't",
        "죄송하지만 그 요청은 도와드릴 수 없습니다",
        "ai 언어 모델로서",
        "作为一个 ai 语言模型",
        "抱歉,我无法",
    ]


def test_refusal_reads_only_the_chosen_fields_and_lists(tmp_path: Path) -> None:
    """The instruction is not read by default; extra lists add phrases; languages narrow."""
    df = rows(("As an AI language model, tell me a joke.", "Why did the chicken cross?"))
    assert judge({"step": "refusal"}, df)["reason"][0] is None
    both = {"step": "refusal", "fields": ["instruction", "output"]}
    assert judge(both, df)["reason"][0] == "refusal"
    extra = tmp_path / "mine.txt"
    extra.write_text("# house phrases\nchicken cross\n", encoding="utf-8")
    out = judge({"step": "refusal", "languages": ["ko"], "lists": [str(extra)]}, df)
    assert out["refusal_match"][0] == "chicken cross"


def test_refusal_on_real_sets(shared_data: Path) -> None:
    """Counts checked by reading every flagged answer: all are AI disclaimers or refusals."""
    alpaca = flagged({"step": "refusal"}, real(shared_data, "alpaca_en_demo.json"))
    assert alpaca.height == 15
    assert alpaca["refusal_match"].value_counts().sort("refusal_match").rows() == [
        ("as an ai assistant", 6),
        ("as an ai language model", 3),
        ("i am an ai language model", 3),
        ("i'm an ai language model", 1),
        ("i'm sorry, but i cannot", 1),
        ("i'm sorry, i cannot", 1),
    ]
    lima = flagged({"step": "refusal"}, real(shared_data, "lima.json"))
    assert lima.height == 4
    assert lima["output"][1].startswith("I am an AI language model developed by Meta.")
    assert flagged({"step": "refusal"}, real(shared_data, "alpaca_zh_demo.json")).height == 21
    assert flagged({"step": "refusal"}, real(shared_data, "oaast_sft_zh.json")).height == 16


# language_mismatch


def test_language_mismatch_planted() -> None:
    """A Korean answer to an English question is flagged; short, code and translations pass."""
    question = "Explain why the sky is blue to a small child."
    df = rows(
        (question, "하늘이 파란 이유는 햇빛이 공기 중의 작은 입자에 부딪혀 흩어지기 때문입니다."),
        (question, "The sky looks blue because air scatters blue sunlight more than red light."),
        ("What is two plus two? Answer with the number only.", "4"),
        (
            "Translate into French: the sky is blue today.",
            "Le ciel est bleu aujourd'hui, il fait beau.",
        ),
        (
            "Write a Python function that greets a user by name.",
            "```python\ndef greet(name):\n    print('Hola, bienvenido', name)\n```",
        ),
    )
    out = judge({"step": "language_mismatch"}, df)
    assert out["reason"].to_list() == ["language_mismatch", None, None, None, None]
    assert out["language_mismatch_instruction"].to_list()[:2] == ["en", "en"]
    assert out["language_mismatch_output"].to_list() == ["ko", "en", None, "fr", None]
    strict = judge({"step": "language_mismatch", "exempt_pattern": None}, df)
    assert strict["reason"][3] == "language_mismatch"


def test_language_mismatch_on_real_sets(shared_data: Path) -> None:
    """Alpaca: none; LIMA: the German answer to the 'mein hobby' prompt; alpaca_zh: one
    Chinese request answered in English."""
    spec = {"step": "language_mismatch"}
    assert flagged(spec, real(shared_data, "alpaca_en_demo.json")).height == 0
    lima = flagged(spec, real(shared_data, "lima.json"))
    assert lima["language_mismatch_output"].to_list() == ["de"]
    assert "mein hobby" in lima["instruction"][0]
    zh = flagged(spec, real(shared_data, "alpaca_zh_demo.json"))
    assert zh.select("language_mismatch_instruction", "language_mismatch_output").rows() == [
        ("zh", "en")
    ]


# template_leftovers


def test_template_leftovers_planted() -> None:
    """Template variables and markers are flagged outside code; code, LaTeX and sets pass."""
    outputs = [
        "Dear {{ customer.name }}, thanks for your order.",
        "Hello {customer_name}, your parcel is on its way.",
        "Our website is at [Insert Link].",
        "Lorem ipsum dolor sit amet.",
        "Use `f'{name}'` to format the greeting.",
        "```python\nprint(f'Hello {name}')\nd = {{'a': 1}}\n```",
        r"The ratio is $\frac{a}{b}$ and the square is x^{2}.",
        "The set {x} has one element; a dict looks like {key: value}.",
        "Best regards, [Your Name]",
    ]
    df = rows(*[("Write it.", o) for o in outputs])
    out = judge({"step": "template_leftovers"}, df)
    assert (
        out["template_leftovers_match"].to_list()
        == [
            "{{ customer.name }}",
            "{customer_name}",
            "[Insert Link]",
            "Lorem ipsum",
        ]
        + [None] * 5
    )
    assert out["reason"].to_list() == ["template_leftover"] * 4 + [None] * 5
    letters = judge({"step": "template_leftovers", "letter_blanks": True}, df)
    assert letters["template_leftovers_match"][8] == "[Your Name]"


def test_template_leftovers_reads_the_input() -> None:
    """Alpaca's `<noinput>` marker left in the input field is flagged."""
    df = rows(("Name five companies.", "Apple, Google."), inputs=["<noinput>"])
    assert judge({"step": "template_leftovers"}, df)["template_leftovers_match"][0] == "<noinput>"
    only_output = {"step": "template_leftovers", "fields": ["output"]}
    assert judge(only_output, df)["reason"][0] is None


def test_template_leftovers_on_real_sets(shared_data: Path) -> None:
    """Alpaca: '[insert date]' and '< noinput >'; LIMA: three [Insert/Add ...] slots; with
    letter blanks, the '[Your Name]' letters too."""
    spec = {"step": "template_leftovers"}
    alpaca = flagged(spec, real(shared_data, "alpaca_en_demo.json"))
    assert sorted(alpaca["template_leftovers_match"]) == ["< noinput >", "[insert date]"]
    lima = flagged(spec, real(shared_data, "lima.json"))
    assert sorted(lima["template_leftovers_match"]) == [
        "[Insert Link]",
        "[Insert number]",
        "[add sources]",
    ]
    letters = {"step": "template_leftovers", "letter_blanks": True}
    assert flagged(letters, real(shared_data, "lima.json")).height == 26
    assert flagged(letters, real(shared_data, "alpaca_en_demo.json")).height == 9


# answer_repetition


def test_answer_repetition_planted() -> None:
    """Looping sentences, lines and phrases are flagged; a normal answer and code pass."""
    code = "```c\n" + "x++;\n" * 30 + "```\nThis loop adds one to x thirty times in a row."
    df = rows(
        ("q", "The answer is yes. " * 30),
        ("q", "I love you.\n" * 20 + "The end."),
        ("q", "the cat sat on the mat and the dog " * 10),
        ("q", "我爱你。" * 20),
        ("q", "Photosynthesis turns light, water and carbon dioxide into sugar and oxygen."),
        ("q", code),
        ("q", "yes yes yes"),
    )
    out = judge({"step": "answer_repetition"}, df)
    assert out["reason"].to_list() == ["degenerate_repetition"] * 4 + [None] * 3
    assert out["answer_repetition_dup_line_char_frac"][5] == 0.0


def test_answer_repetition_on_real_sets(shared_data: Path) -> None:
    """No Alpaca, LIMA or alpaca_zh answer loops; OpenAssistant-zh has three repeat-me turns."""
    spec = {"step": "answer_repetition"}
    for name in ("alpaca_en_demo.json", "lima.json", "alpaca_zh_demo.json"):
        assert flagged(spec, real(shared_data, name)).height == 0, name
    oasst = flagged(spec, real(shared_data, "oaast_sft_zh.json"))
    assert [o.split("\n")[0] for o in oasst["output"]] == [
        "I like apple.",
        "我喜欢吃苹果。",
        "I like apples",
    ]


# bad input


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ({"step": "instruct_length", "min_output_chars": -1}, "min_output_chars"),
        ({"step": "instruct_length", "min_output_words": 9, "max_output_words": 3}, "is above"),
        ({"step": "instruct_length", "max_instruction_chars": "10"}, "whole number"),
        ({"step": "refusal", "languages": ["fr"]}, "languages must be"),
        ({"step": "refusal", "languages": "en"}, "must be a list of strings"),
        ({"step": "refusal", "lists": ["/no/such/list.txt"]}, "not a file"),
        ({"step": "refusal", "fields": ["text"]}, "fields must be"),
        ({"step": "language_mismatch", "min_score": 1.5}, "between 0 and 1"),
        ({"step": "language_mismatch", "min_letters": 0}, "min_letters"),
        ({"step": "language_mismatch", "exempt_pattern": "(unclosed"}, "not a valid regular"),
        ({"step": "template_leftovers", "fields": []}, "fields must be"),
        ({"step": "template_leftovers", "letter_blanks": "yes"}, "true or false"),
        ({"step": "answer_repetition", "top_n": 0}, "top_n"),
        ({"step": "answer_repetition", "max_dup_ngram_frac": 2}, "max_dup_ngram_frac"),
        ({"step": "answer_repetition", "colour": 2}, "no parameter 'colour'"),
    ],
)
def test_bad_parameters_fail_in_one_line(spec: dict, needle: str) -> None:
    """Each bad parameter is refused at recipe load with one line naming it."""
    with pytest.raises(WinnowError) as info:
        build_step(spec, "recipe.yaml")
    assert needle in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "name",
    ["instruct_length", "refusal", "language_mismatch", "template_leftovers", "answer_repetition"],
)
def test_rows_without_instruction_columns_fail_in_one_line(name: str) -> None:
    """A web-text frame (only `text`) is refused with a line pointing at instruction sets."""
    step = build_step({"step": name}, "recipe.yaml")
    with pytest.raises(WinnowError, match="no column .*instruction dataset") as info:
        step.score(pl.DataFrame({"id": ["a"], "text": ["hello"]}))
    assert "\n" not in str(info.value)
