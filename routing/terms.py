"""The terms of a text and its sentences, in any script: what grounding compares.

Spaced scripts (Latin, Cyrillic, Greek, Devanagari, ...) give words, minus English stopwords, through
a tiny English suffix stripper. Chinese, Japanese and Thai, written without spaces, give overlapping
character bigrams; Korean words lose their particles. Neither is stemmed.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from itertools import pairwise

import snowballstemmer

# Words of any script (Cyrillic, Greek, accented Latin, Thai, Devanagari, ...), not just ASCII: a
# question and its passages in Russian share terms like any English pair. Indic and Southeast Asian
# scripts write vowels as combining marks, which a word goes on through.
_VOWEL_SIGNS = "".join(c for c in map(chr, range(0x0900, 0x10A0)) if unicodedata.category(c) in ("Mn", "Mc"))
_LETTER = rf"(?:[^\W_]|[{_VOWEL_SIGNS}])"
_WORD = re.compile(rf"{_LETTER}+(?:['-]{_LETTER}+)*")
# Scripts written without spaces between words: Han (Chinese, Japanese kanji), kana and Thai. A word
# is cut where one of them starts or ends (Japanese also where kanji meets kana), and each run is
# read as overlapping character bigrams, as multilingual search engines do without a dictionary.
_HAN = "\u3005\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_KATAKANA = "\u30a0-\u30ff\u31f0-\u31ff"
_HIRAGANA = "\u3040-\u309f"
_THAI = "\u0e00-\u0e7f"
_UNSPACED = re.compile(f"[{_HAN}{_KATAKANA}{_HIRAGANA}{_THAI}]")
_UNSPACED_RUN = re.compile(f"([{_HAN}]+|[{_KATAKANA}]+|[{_HIRAGANA}]+|[{_THAI}]+)")
# Their stopwords. Japanese hiragana (particles, endings, most function words) is left out whole;
# Chinese and Thai function and question words cut a run where they stand.
_HIRAGANA_RUN = re.compile(f"[{_HIRAGANA}]+")
_UNSPACED_STOP = re.compile(
    "怎么办|怎么样|怎么|怎样|如何|什么|为什么|多少|多久|哪里|哪儿|哪些|哪个|可以|能否|是否|请问|我们|你们|您好|谢谢|需要|一下"
    # asking, not the topic: (please) tell me, I'd like to know, introduce, help me, about, information on
    "|请告诉|告诉|想知道|知道|想了解|了解|想问|请介绍|介绍一下|帮我|麻烦|关于|相关信息|的信息"
    "|[的了吗呢吧啊呀嘛我你您他她它是有能要何私和]"
    "|ได้ไหม|ไหม|เท่าไหร่|เท่าไร|อย่างไร|ยังไง|หรือไม่|เมื่อไหร่|อะไร|ที่ไหน|ทำไม|ครับ|ค่ะ|คะ"
)
# Japanese requests whose verb is written in kanji (教えて, 知りたい, お願い, ...): the hiragana around the
# kanji is left out anyway, so they go as whole phrases, before the text is cut into runs, and the
# same kanji in a topic word (教室, 通知, 願書) stays.
_JAPANESE_REQUEST = re.compile(
    "教えて|知りたい|知らせてください|お願い|願います|お聞きし|聞きたい|お伺い|伺いたい|お尋ね|尋ねたい"
    "|分かりま|下さい|質問です|質問があ|質問させ"
)
# A cluster: a letter with its vowel signs and tone marks (Thai writes them as combining marks).
_CLUSTER = re.compile(f".[{_VOWEL_SIGNS}]*")
# Korean puts spaces between words but attaches particles and endings to them: a word loses its
# particle and is read as the bigrams of its first three syllables (its stem; endings follow it).
_HANGUL_WORD = re.compile("[\uac00-\ud7a3]+")
_KOREAN_PARTICLES = (
    *("에서는", "으로는", "에게서", "으로", "에서", "에게", "까지", "부터", "처럼", "보다", "이나"),
    *("은", "는", "이", "가", "을", "를", "에", "의", "도", "만", "로", "와", "과"),
)
# Korean question words, the common verbs (있다, 없다, 되다, 하다, 받다) and the words of asking (알려 주세요,
# 알고 싶어요, 에 대해, 관련, 문의, 부탁) by their first syllables.
_KOREAN_STOP_TEXT = """
있 있나 있어 있습 있을 있는 있으 없 없나 없어 없습 되 되나 되어 되요 돼 돼요 됩니 될까 된 어떻 어떤 언제 어디
얼마 무엇 뭐 뭔가 왜 하 하나 할 할까 하면 해 해요 합니 하는 수 좀 제 저 저는 제가 그 이 나 나요 가요 주세 알려
궁금 안녕 감사 받 받나 받아 받을 받으 받는 받고
대해 대한 관해 관한 관련 문의 알고 싶 싶어 싶습 싶은 싶다 부탁 주시 주실
"""
KOREAN_STOPWORDS = frozenset(_KOREAN_STOP_TEXT.split())
# A sentence ends at . ! ? before a space and a capital, a digit, or a word of a script without
# capitals (Chinese, Japanese, Korean). The Chinese and Japanese full stop, question and exclamation
# marks (also full-width and half-width) and the Devanagari dandas need no space after them; a closing
# bracket or quote after one stays with its sentence.
_SENTENCE_START = f"A-Z0-9\"'(\uac00-\ud7a3{_HAN}{_KATAKANA}{_HIRAGANA}"
_FULL_STOPS = "\u3002\uff01\uff1f\uff0e\uff61\u0964\u0965"
_CLOSERS = '\u300d\u300f\u3011\u3015\uff09\u201d\u2019")'
_SENTENCE_END = re.compile(
    rf"(?<=[.!?])\s+(?=[{_SENTENCE_START}])|(?<=[{_FULL_STOPS}])\s*(?![{_FULL_STOPS}{_CLOSERS}])|\n+"
)
_STOPWORD_TEXT = """
a an the and or but if then else of to in on at by for with from into onto about as is are was were
be been being do does did doing have has had having i me my we our you your he she it its they them
their this that these those what which who whom whose when where why how can could should would will
shall may might must not no nor so than too very just also any some all each every there here up
down out over under again further once only own same such both few more most other s t don now am
please hi hello thanks thank want need get tell know like help
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_ENGLISH = snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball's English stemmer (Porter2): "refunds"/"refund", "booking"/"book", "cancelled"/"cancel"/
    "cancellation", "location"/"located", "treated"/"treat", "addresses"/"address" are one term each."""
    return _ENGLISH.stemWord(word)


def _bigrams(run: str) -> list[str]:
    clusters = _CLUSTER.findall(run)
    return clusters if len(clusters) == 1 else [first + second for first, second in pairwise(clusters)]


def _unspaced_terms(run: str) -> list[str]:
    if _HIRAGANA_RUN.fullmatch(run):
        return []
    return [bigram for piece in _UNSPACED_STOP.split(run) if piece for bigram in _bigrams(piece)]


def _korean_terms(word: str) -> list[str]:
    if word[:2] in KOREAN_STOPWORDS:
        return []
    particle = next((p for p in _KOREAN_PARTICLES if word.endswith(p) and len(word) > len(p)), "")
    return _bigrams(word[: len(word) - len(particle)][:3])


def _word_terms(word: str) -> list[str]:
    if _HANGUL_WORD.fullmatch(word):
        return _korean_terms(word)
    if not _UNSPACED.search(word):
        return [] if word in STOPWORDS else [stem(word)]
    # split() with a group: runs of the unspaced scripts at odd positions, what lies between at even ones
    pieces = _UNSPACED_RUN.split(word)
    return [
        term
        for position, piece in enumerate(pieces)
        if piece
        for term in (_unspaced_terms(piece) if position % 2 else _word_terms(piece))
    ]


def terms(text: str) -> list[str]:
    words = _WORD.findall(_JAPANESE_REQUEST.sub(" ", text.lower()))
    return [term for word in words for term in _word_terms(word)]


# A numbered list item's number, which the sentence split cuts off its item ("1. Open the app." ends at "1.").
_ITEM_NUMBER = re.compile(r"\d{1,3}\.")


def split_sentences(text: str) -> list[str]:
    sentences: list[str] = []
    for part in _SENTENCE_END.split(text):
        if not part or not part.strip():
            continue
        if sentences and _ITEM_NUMBER.fullmatch(sentences[-1]):
            sentences[-1] = f"{sentences[-1]} {part.strip()}"
        else:
            sentences.append(part.strip())
    return sentences


def without_unspaced(text: str) -> tuple[str, int]:
    """``text`` with the characters of the scripts written without spaces blanked out, and their number:
    what is left splits into words as any spaced text does, and two of those characters make a word."""
    return _UNSPACED.subn(" ", text)


def word_count(sentence: str) -> float:
    """Whitespace-separated words, with unspaced scripts counted at two characters a word."""
    spaced, unspaced = without_unspaced(sentence)
    return len(spaced.split()) + unspaced / 2


# A word of a spaced script (any letters or digits and apostrophes) or one character of an unspaced one.
_UNIT = re.compile(rf"({_UNSPACED.pattern})|(?:(?!{_UNSPACED.pattern})[^\W_]|['{_VOWEL_SIGNS}])+")


def half_words(text: str) -> list[str]:
    """``text`` lower-cased as a run of half-words: each word of a spaced script twice, each character
    of an unspaced script once (two make a word, as in ``word_count``). Any ``2n`` consecutive
    half-words two texts share mean ``n`` words in common, in any script."""
    return [
        unit
        for match in _UNIT.finditer(text.lower())
        for unit in ((match.group(),) if match.group(1) else (match.group(), match.group()))
    ]


STREAM_CHARACTERS = 4
# A word with the one space after it (as text.split(" ") cuts), or up to STREAM_CHARACTERS characters
# (each with its vowel signs and tone marks) of a script written without spaces, or a lone space.
_STREAM_PIECE = re.compile(
    rf"(?:{_UNSPACED.pattern}[{_VOWEL_SIGNS}]*){{1,{STREAM_CHARACTERS}}} ?|(?:(?!{_UNSPACED.pattern})[^ ])+ ?| "
)


def stream_pieces(text: str) -> list[str]:
    """``text`` cut for streaming, joining back to it exactly: word by word with the space after each,
    and Chinese, Japanese and Thai (no spaces between words) a few characters at a time."""
    return _STREAM_PIECE.findall(text)
