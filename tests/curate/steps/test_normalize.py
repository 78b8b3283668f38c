"""The normalize step: each rewriting rule on tiny inline documents, code, YAML and Markdown that
must come out unchanged, real web text against a reference of the documented rules, and its
drop reason."""

import re
import unicodedata
from pathlib import Path

import polars as pl
import pytest

from tests.curate.samples import read_texts
from winnow.curate.steps import build_step
from winnow.curate.steps.normalize import Normalize
from winnow.errors import WinnowError


def run(step: Normalize, *texts: str | None) -> list[dict]:
    """Score tiny documents and attach the reason, as the runner does."""
    df = pl.DataFrame({"id": [str(i) for i in range(len(texts))], "text": list(texts)})
    return step.score(df).with_columns(reason=step.reason()).to_dicts()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Cafe\u0301", "Caf\u00e9"),  # NFC composes
        ("a\x00b\x07c\x7f\x9bd\ufeff", "abcd"),  # C0/C1 controls and the BOM removed
        ("a\u200bb\u2060c", "abc"),  # zero-width space and word joiner removed
        ("👩\u200d💻 \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", None),  # ZWJ/ZWNJ kept
        ("a\r\nb\rc\u2028d", "a\nb\nc\nd"),  # line breaks unified
        ("a   b \t c", None),  # runs of spaces inside a line are kept
        ("a\t\tb", None),
        ("a\u00a0b\u3000c", "a b c"),  # other Unicode spaces become ' '
        ("  line one \n\t line two\t", "  line one\n\t line two"),  # line ends stripped
        ("line one  \nline two", None),  # two spaces before a newline: Markdown's hard break
        ("one\t  \ntwo", "one\ntwo"),  # a tab in the run: not a hard break
        ("end  ", "end"),  # nothing follows, so no break
        ("a\n   \n\t\nb", "a\n\n\nb"),  # whitespace-only lines emptied
        ("a\n\n\nb\n\n\n\n\n\nc", "a\n\n\nb\n\n\nc"),  # at most two blank lines in a row
        ("\n\n  text \n\n", "  text"),  # leading blank lines go, the first indent stays
        ("&amp; &lt;", None),  # entities stay unless html_unescape
        ("MiXeD", None),
        ("x² ﬁle ＡＢＣ ①", None),  # compatibility characters stay (NFKC is opt-in)
    ],
)
def test_default_rules(raw: str, expected: str | None) -> None:
    """`expected` None: the text must come out unchanged."""
    expected = raw if expected is None else expected
    [row] = run(Normalize(), raw)
    assert row["text"] == expected
    assert row["normalize_changed"] is (raw != expected)
    assert row["reason"] is None


PYTHON = '''\
def total(rows):
    """Sum the rows.  Two spaces kept."""
    result = 0
    for row in rows:
        if row:
            result += row  # aligned   comment


    return result
'''

YAML = """\
steps:
  - step: language
    languages: [en]
    nested:
      key:   value
  - step: c4
"""

MARKDOWN = """\
# Title

Some text with a hard break  
on the next line.

- item
  - nested item
    - deeper item
      continued
1. first
   1. sub

```python
if x:
    print("a    b")
```

    indented code block

| name   | value |
|--------|-------|
| a      |     1 |

> quote
>     code in a quote
"""


@pytest.mark.parametrize("text", [PYTHON.rstrip(), YAML.rstrip(), MARKDOWN.rstrip()])
def test_code_yaml_and_markdown_come_out_unchanged(text: str) -> None:
    [row] = run(Normalize(), text)
    assert row["text"] == text
    assert row["normalize_changed"] is False


def test_safe_rules_keep_indentation() -> None:
    """CRLF, trailing spaces, a zero-width space and a BOM go; every indent stays."""
    messy = "\ufeff" + PYTHON.replace("\n", "  \t\r\n").replace("result = 0", "result\u200b = 0")
    [row] = run(Normalize(), messy)
    assert row["text"] == PYTHON.rstrip()
    crlf_yaml = YAML.replace("\n", "\r\n")
    [row] = run(Normalize(), crlf_yaml)
    assert row["text"] == YAML.rstrip()


def test_nfkc_is_opt_in() -> None:
    text = "x² ﬁle ＡＢＣ Cafe\u0301"
    [row] = run(Normalize(unicode_form="NFKC"), text)
    assert row["text"] == "x2 file ABC Caf\u00e9"
    [row] = run(Normalize(unicode_form=None), text)
    assert row["text"] == text


def clean_characters(text: str) -> str:
    """The documented character rules: NFC, line breaks, invisible characters, wide spaces."""
    text = unicodedata.normalize("NFC", text)
    text = re.sub(r"\r\n|[\r\x0b\x0c\x85\u2028\u2029]", "\n", text)
    text = "".join(
        c
        for c in text
        if c not in "\ufeff\u200b\u2060" and (unicodedata.category(c) != "Cc" or c in "\t\n")
    )
    return "".join(" " if unicodedata.category(c) == "Zs" else c for c in text)


def reference(text: str, max_blank_lines: int = 2) -> str:
    """The documented default rules written line by line in plain Python."""
    lines = clean_characters(text).split("\n")
    out = []
    for number, line in enumerate(lines):
        body = line.rstrip(" \t")
        tail = line[len(body) :]
        hard_break = body and len(tail) >= 2 and set(tail) == {" "} and number < len(lines) - 1
        out.append(line if hard_break else body)
    while out and out[0] == "":
        out.pop(0)
    kept, blank = [], 0
    for line in out:
        blank = blank + 1 if line == "" else 0
        if blank <= max_blank_lines:
            kept.append(line)
    return "\n".join(kept).rstrip()


def indents(text: str) -> list[str]:
    """The indentation of every line with content."""
    return [re.match(r"[ \t]*", line).group() for line in text.split("\n") if line.strip()]


def test_real_web_text_follows_the_documented_rules(shared_data: Path) -> None:
    """Every real web document comes out exactly as the reference says; those no rule
    applies to come out unchanged, and no line loses its indentation."""
    web = shared_data / "web"
    texts = []
    for name in (
        "c4_demo.jsonl",
        "multiple_files_cc_en_head-0091.jsonl",
        "multiple_files_cc_en_head-0174.jsonl",
        "CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz",
        "wiki_demo.txt",
    ):
        texts += read_texts(web / name)
    rows = run(Normalize(), *texts)
    untouched = indented = 0
    for raw, row in zip(texts, rows, strict=True):
        assert row["text"] == reference(raw)
        if reference(raw) == raw:
            untouched += 1
            assert row["text"] == raw and row["normalize_changed"] is False
        if re.search(r"(?m)^[ \t]+\S", raw):
            indented += 1
            assert indents(row["text"]) == indents(clean_characters(raw))
    assert len(texts) == 1047 and untouched >= 600 and indented >= 200


def test_html_unescape_and_lowercase() -> None:
    step = Normalize(html_unescape=True, lowercase=True)
    [row] = run(step, "Tom &amp; Jerry&#39;s &#x27;Caf&eacute;&#x27;&nbsp;&nbsp;x &amp;lt; &bogus;")
    assert row["text"] == "tom & jerry's 'caf\u00e9'  x &lt; &bogus;"
    assert row["normalize_changed"] is True


def test_max_blank_lines_zero() -> None:
    [row] = run(Normalize(max_blank_lines=0), "a\n\nb\n \nc")
    assert row["text"] == "a\nb\nc"


def test_empty_after_normalize_keeps_rows_and_columns() -> None:
    df = pl.DataFrame(
        {"id": ["a", "b", "c", "d"], "text": ["ok", " \x01\t\n ", None, ""], "extra": [1, 2, 3, 4]}
    )
    step = Normalize()
    out = step.score(df)
    assert out.columns == ["id", "text", "extra", "normalize_changed"]
    assert out["id"].to_list() == ["a", "b", "c", "d"]
    assert out["extra"].to_list() == [1, 2, 3, 4]
    assert out.select(step.reason()).to_series().to_list() == [
        None,
        "empty_after_normalize",
        "empty_after_normalize",
        "empty_after_normalize",
    ]
    assert out["normalize_changed"].to_list() == [False, True, True, False]


def test_recipe_parameters() -> None:
    step = build_step({"step": "normalize", "lowercase": True}, "recipe.yaml")
    assert isinstance(step, Normalize) and step.lowercase
    with pytest.raises(WinnowError, match="max_blank_lines"):
        build_step({"step": "normalize", "max_blank_lines": -1}, "recipe.yaml")
    with pytest.raises(WinnowError, match="unicode_form must be NFC, NFKC or null"):
        build_step({"step": "normalize", "unicode_form": "NFD"}, "recipe.yaml")
