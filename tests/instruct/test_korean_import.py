"""Korean instruction layouts: KoAlpaca v1.0 and v1.1 (files written here) detected as Alpaca
with v1.1's url kept in `meta`, and ChatbotData.csv's label kept the same way."""

from __future__ import annotations

import json
from pathlib import Path

from winnow.instruct.build import SCHEMA, import_file
from winnow.instruct.importers import parse_map

KOALPACA_V11 = [
    {
        "instruction": "양파는 어떤 식물 부위인가요? 그리고 고구마는 뿌리인가요?",
        "output": "양파는 잎이 변한 비늘줄기이고, 고구마는 뿌리가 부푼 덩이뿌리입니다.",
        "url": "https://kin.naver.com/qna/detail.naver?d1id=11&dirId=1116&docId=55320268",
    },
    {
        "instruction": "스웨터의 유래는 어디에서 시작되었나요?",
        "output": "스웨터는 땀을 흘리게 하는 운동복에서 이름이 유래했습니다.",
        "url": "https://kin.naver.com/qna/detail.naver?d1id=11&dirId=11&docId=251489640",
    },
    {"instruction": 42, "output": "숫자 질문입니다.", "url": "https://kin.naver.com/qna/1"},
    {
        "instruction": "빈 답변은 어떻게 되나요?",
        "output": "  ",
        "url": "https://kin.naver.com/qna/2",
    },
    {"instruction": "답이 없는 질문", "url": "https://kin.naver.com/qna/3"},
]
"""KoAlpaca v1.1 rows (`instruction, output, url`, as KoAlpaca_v1.1.jsonl), two of them bad."""

KOALPACA_V10 = [
    {
        "instruction": "건강을 유지하기 위한 세 가지 팁을 알려주세요.",
        "input": "",
        "output": "1. 균형 잡힌 식사를 하세요. 2. 규칙적으로 운동하세요. 3. 충분히 주무세요.",
    },
    {
        "instruction": "홀수 중 하나를 밝히세요.",
        "input": "트위터, 인스타그램, 텔레그램",
        "output": "텔레그램입니다.",
    },
]
"""KoAlpaca v1.0 rows (`instruction, input, output`, as ko_alpaca_data.json)."""


def test_koalpaca_v11_keeps_url_and_sets_bad_rows_aside(tmp_path: Path) -> None:
    """v1.1 is detected as Alpaca without --map; url lands in meta; bad rows are counted."""
    path = tmp_path / "KoAlpaca_v1.1.jsonl"
    lines = [json.dumps(r, ensure_ascii=False) for r in KOALPACA_V11]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = import_file(path)
    assert result.format == "alpaca"
    assert result.rows.columns == list(SCHEMA)
    assert (result.rows.height, result.quarantine.height) == (2, 3)
    assert result.reasons == {"empty_output": 1, "missing_output": 1, "non_string": 1}
    first = result.rows.row(0, named=True)
    assert first["input"] == ""
    assert first["instruction"] == KOALPACA_V11[0]["instruction"]
    assert json.loads(first["meta"]) == {"url": KOALPACA_V11[0]["url"]}
    assert set(result.rows["lang"]) == {"ko"}
    assert "kin.naver.com" in result.quarantine["raw"][0]


def test_koalpaca_v10_is_plain_alpaca(tmp_path: Path) -> None:
    """v1.0 keeps its input; a record with no extra columns has no meta."""
    path = tmp_path / "ko_alpaca_data.json"
    path.write_text(json.dumps(KOALPACA_V10, ensure_ascii=False), encoding="utf-8")
    result = import_file(path)
    assert (result.format, result.rows.height) == ("alpaca", 2)
    assert result.rows["input"].to_list() == ["", "트위터, 인스타그램, 텔레그램"]
    assert result.rows["meta"].to_list() == [None, None]
    assert result.rows["text"][1].endswith(
        "### Input:\n트위터, 인스타그램, 텔레그램\n\n### Response:\n텔레그램입니다."
    )


def test_chatbot_data_keeps_its_label(shared_data: Path) -> None:
    """ChatbotData.csv through --map: Q and A become the row, label stays in meta as found."""
    path = shared_data / "korean" / "ChatbotData.csv"
    result = import_file(path, mapping=parse_map("question=Q,answer=A"))
    assert (result.format, result.rows.height, result.quarantine.height) == ("qa-csv", 11823, 0)
    labels = result.rows["meta"].str.json_path_match("$.label").value_counts().sort("meta")
    assert labels.rows() == [("0", 5290), ("1", 3570), ("2", 2962), ("2   ", 1)]
    alpaca = import_file(path, mapping=parse_map("instruction=Q,output=A"))
    assert alpaca.format == "alpaca"
    assert alpaca.rows.select("instruction", "output", "meta").equals(
        result.rows.select("instruction", "output", "meta")
    )
