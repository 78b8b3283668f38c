"""Korean stop words for Gopher's stop-word rule, by word split.

Gopher keeps a document only if it holds at least two distinct stop words, the function
words any running prose is full of and a list, a menu or a run of tags lacks. English
writes those words apart; Korean attaches its particles and endings to the stem, so which
tokens are function words depends on the split:

- eojeol (the fast split): whole eojeol that are function words in themselves, matched
  exactly: bound nouns with or without a particle (것, 수, 등, 때, 경우에는), determiners and
  pronouns (이, 그, 모든, 이런, 저는), conjunctions and function adverbs (및, 또는, 그리고,
  하지만, 더, 잘, 너무), postpositional verb forms (위해, 통해, 대한, 의하여, 따라) and the
  auxiliary, copula and light-verb forms of 있다, 없다, 하다, 되다, 이다, 아니다, 않다 and
  같다. They are the commonest function eojeol of the Korean files under ../shared/data
  (KLUE news and policy sentences, the constitution, chatbot answers). An eojeol is never
  matched by its last syllable: 효과, 지도, 도로 and 회의 end in a particle's syllable but
  are nouns, so a bare list of nouns finds no stop word.
- kiwi: every morpheme Kiwi tags as a particle (J...), an ending (E...), the copula (VCP,
  VCN), an auxiliary predicate (VX) or a verb- or adjective-making suffix (XSV, XSA), the
  morphemes fineweb-2's Korean stop-word list is made of (의, 는, 을, 다, 고, 하, 되...).
"""

from __future__ import annotations

KOREAN_STOP_WORDS = (
    # bound nouns, alone or with a particle
    "것", "것이", "것은", "것을", "것도", "것으로", "것이다", "것입니다", "거", "거예요", "게",
    "건", "걸", "수", "수가", "수는", "수도", "등", "등을", "등이", "등의", "때", "때에",
    "때는", "때에는", "중", "중에", "중에서", "바", "바에", "바와", "데", "데에", "뿐",
    "만큼", "경우", "경우에", "경우에는",
    # determiners and pronouns
    "이", "그", "저", "이런", "그런", "저런", "이러한", "그러한", "모든", "각", "다른",
    "어떤", "무슨", "이를", "이에", "그것", "그것은", "이것", "이것은", "저는", "제가", "나는",
    "내가", "우리", "우리는", "우리가",
    # conjunctions and function adverbs
    "및", "또", "또는", "또한", "그리고", "하지만", "그러나", "그래서", "따라서", "그런데",
    "그러면", "즉", "다만", "특히", "더", "잘", "안", "못", "다", "좀", "너무", "아주", "매우",
    "정말", "가장", "많이", "다시", "이미", "아직", "함께", "같이", "바로", "모두", "기타",
    # postpositional verb forms
    "위해", "위하여", "위한", "통해", "통하여", "대한", "대해", "대하여", "관한", "관하여",
    "의한", "의해", "의하여", "따라", "따른", "인해", "인한", "때문에", "같은", "있어서",
    # auxiliary, copula and light-verb forms
    "있다", "있는", "있고", "있어", "있어요", "있을", "있으며", "있습니다", "있었다",
    "있었습니다", "있으면", "없다", "없는", "없이", "없어요", "없습니다", "하다", "하는",
    "한다", "했다", "하고", "하며", "하여", "해", "해요", "할", "한", "합니다", "했습니다",
    "하면", "하지", "된다", "되는", "된", "될", "되어", "되고", "됩니다", "돼요", "이다",
    "입니다", "아니다", "아닌", "아니라", "아니한다", "않는다", "않고", "않은", "않는",
    "않아요", "같아요",
)  # fmt: skip

KIWI_STOP_TAGS = (
    "JKS", "JKC", "JKG", "JKO", "JKB", "JKV", "JKQ", "JX", "JC",
    "EP", "EF", "EC", "ETN", "ETM", "VCP", "VCN", "VX", "XSV", "XSA",
)  # fmt: skip
