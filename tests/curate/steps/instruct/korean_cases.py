"""Labelled Korean answers for the refusal and template_leftovers steps, written for Winnow.

Each case is (text, flagged?). The positives are written the way Korean chat assistants and
ChatGPT-generated Korean sets word refusals, AI disclaimers and template leftovers; the
negatives are near misses: polite apologies in normal answers, offers to help, answers that
teach how to decline (quoted), talk about AI rather than as one, facts about what someone else
cannot do, Markdown headings and UI names in brackets.
"""

REFUSALS: list[tuple[str, bool]] = [
    ("죄송하지만, 그 요청은 도와드릴 수 없습니다. 다른 질문이 있으시면 말씀해 주세요.", True),
    ("AI 언어 모델로서 저는 개인적인 의견을 가지고 있지 않습니다.", True),
    ("AI언어모델로서 정치적인 입장을 밝히기는 어렵습니다.", True),
    ("저는 인공지능이라서 직접 맛을 볼 수는 없지만, 이 요리는 보통 매콤한 편입니다.", True),
    ("죄송하지만 저는 실시간 정보에 접근할 수 없습니다. 환율은 은행 누리집에서 확인하세요.", True),
    ("해당 내용은 개인정보와 관련되어 있어 답변드리기 어렵습니다.", True),
    ("이 질문에는 답변을 드리기 어렵습니다. 전문가와 상담해 보시기 바랍니다.", True),
    ("저는 AI 언어 모델이기 때문에 내일의 주가를 예측할 수 없습니다.", True),
    ("죄송합니다만, 불법적인 활동에 대한 정보는 제공해 드릴 수 없습니다.", True),
    ("죄송합니다. 그런 내용의 글은 작성해 드릴 수 없습니다.", True),
    ("죄송하지만 해당 정보는 제공할 수 없습니다.", True),
    ("요청하신 내용은 윤리적인 문제로 도와드릴수 없습니다.", True),
    ("죄송하지만 제가 의학적인 진단을 내릴 수는 없습니다. 병원에 가 보세요.", True),
    ("죄송하지만 그런 요청에는 응할 수 없습니다.", True),
    ("저는 OpenAI에서 개발한 언어 모델입니다.", True),
    ("OpenAI의 콘텐츠 정책에 따라 폭력적인 내용은 작성할 수 없습니다.", True),
    ("저는 감정을 느낄 수 없지만, 슬플 때는 친구와 이야기하는 것이 도움이 됩니다.", True),
    ("개인적인 감정이나 의견이 없지만, 많은 사람들이 이 영화를 높이 평가합니다.", True),
    ("제 지식은 2021년 9월까지의 데이터에 기반하고 있어 최신 소식은 알지 못합니다.", True),
    ("인공지능으로서 저는 투표권이 없습니다.", True),
    ("저는 AI라서 직접 여행해 본 적은 없어요. 하지만 제주도는 봄에 가기 좋습니다.", True),
    ("저는 인공지능 언어 모델입니다. 도울 수 있는 일이 있다면 말씀해 주세요.", True),
    ("AI 어시스턴트로서 특정 후보를 추천하지는 않습니다.", True),
    ("사과할 때는 변명보다 '죄송합니다, 제 잘못입니다'라고 먼저 말하는 것이 좋습니다.", False),
    (
        "초대를 거절할 때는 '죄송하지만 이번 모임에는 참석할 수 없습니다'처럼 짧게 이유를 "
        "덧붙이세요.",
        False,
    ),
    ("“죄송하지만 도와드릴 수 없습니다”라는 답은 고객을 불쾌하게 할 수 있습니다.", False),
    ("죄송합니다, 앞에서 단위를 잘못 적었네요. 정답은 15킬로그램입니다.", False),
    ("물론이죠, 김치찌개 만드는 법을 도와드릴게요. 먼저 김치를 한입 크기로 썰어 주세요.", False),
    ("제가 도와드릴 수 있는 부분이 있다면 언제든지 말씀해 주세요.", False),
    ("죄송하지만 그 가게는 일요일에는 배달을 할 수 없습니다. 평일에 주문하세요.", False),
    ("죄송하지만 오늘은 비가 옵니다. 내일은 갈 수 없습니다.", False),
    ("AI 언어 모델은 대량의 텍스트로 학습한 통계적 모델입니다.", False),
    ("저는 인공지능이라는 주제에 관심이 많아서 관련 책을 자주 읽어요.", False),
    ("GPT-3는 OpenAI에서 개발한 언어 모델입니다.", False),
    ("OpenAI의 정책 변경은 개발자들 사이에서 큰 화제가 되었습니다.", False),
    ("은행은 고객의 동의 없이 개인 정보를 제공할 수 없습니다.", False),
    ("이 문제는 한마디로 답하기 어렵지만, 크게 세 가지 원인이 있습니다.", False),
    ("비행기 모드에서는 인터넷에 접속할 수 없습니다.", False),
    ("감정을 느낄 수 없는 상태가 오래가면 전문가의 상담을 받아 보세요.", False),
    ("'AI 언어 모델로서'라는 표현은 챗봇 답변에 자주 보이는 상투적인 문구입니다.", False),
    ("고객님, 주문하신 상품은 내일 도착할 예정입니다. 불편을 드려 죄송합니다.", False),
    ("저는 위로해드리는 로봇이에요.", False),
    ("죄송해하지 않아도 돼요.", False),
    ("아이가 혼자서 숙제를 할 수 없다면 옆에서 조금씩 도와주세요.", False),
]
"""Korean answers that are (True) or are not (False) refusals or AI boilerplate."""

LEFTOVERS: list[tuple[str, bool]] = [
    ("### 응답:\n서울은 대한민국의 수도입니다.", True),
    ("파리는 프랑스의 수도입니다.\n\n### 명령어:\n독일의 수도는 어디인가요?", True),
    ("### Response(응답):\n물은 1기압에서 100도에 끓습니다.", True),
    ("### 답변: 풋옵션은 정해진 값에 팔 수 있는 권리입니다.", True),
    ("부산까지는 KTX로 약 2시간 30분 걸립니다.\n### 질문: 요금은 얼마인가요?", True),
    ("답변: 네, 여권만 있으면 가능합니다.", True),
    ("응답: 한국의 국화는 무궁화입니다.", True),
    ("질문: 오늘 날씨 어때?\n답변: 맑아요.", True),
    ("{이름}님, 주문해 주셔서 감사합니다.", True),
    ("안녕하세요, {회사 이름}입니다. 문의에 답변드립니다.", True),
    ("자세한 내용은 [링크 삽입]에서 확인하세요.", True),
    ("안녕하세요, [이름을 입력하세요]님. 회의는 3시에 시작합니다.", True),
    ("[여기에 회사 주소]로 방문해 주세요.", True),
    ("질문에 답하자면, 네, 가능합니다.", False),
    ("답변이 늦어서 죄송합니다. 회의는 3시입니다.", False),
    ("키보드의 [입력] 키를 누르면 줄이 바뀝니다.", False),
    ("메뉴에서 [삽입] 탭을 선택한 뒤 [그림]을 누르세요.", False),
    ("속도는 $\\text{거리}/\\text{시간}$으로 구합니다.", False),
    ("집합 {사과, 배, 포도}의 원소는 세 개입니다.", False),
    ("다음은 면접 예시입니다.\n질문: 자기소개를 해 주세요.\n답변: 저는 개발자입니다.", False),
    ("## 입력 데이터 형식\n입력은 CSV 파일입니다.", False),
    ("### 응답 시간을 줄이는 방법\n캐시를 사용하세요.", False),
    ("코드 예시: `print(f'{이름}님 안녕하세요')`", False),
    ("편지 끝에는 [이름] 대신 실제 이름을 적으세요.", False),
]
"""Korean answers that do (True) or do not (False) hold an unfilled template marker."""

LETTER_BLANKS: list[str] = [
    "[이름] 드림",
    "[회사명] 인사팀 귀중",
    "[날짜]까지 회신 부탁드립니다.",
]
"""Korean letter blanks, flagged only with letter_blanks (like "[Your Name]")."""
