"""The language a customer writes in, cheaply: by script, and for Latin script by its function words.

Japanese is any text with kana; Korean, Thai, Hindi (Devanagari), Greek and Arabic are their script;
Chinese is Han without kana, traditional (``zh-Hant``) when it uses characters only traditional
Chinese writes; Cyrillic is Russian unless it has Ukrainian letters. A script counts when it has at
least as many letters as the Latin ones (a Han character weighing two), so "Can I pay with 支付宝?"
stays English. Latin text is the language whose common short words it uses most (English on a tie
or with none), so a one-word message is English. No dictionary, no model: a guess for canned
phrases, not a classifier.
"""

from __future__ import annotations

import re
from collections import Counter

DEFAULT = "en"

_KANA = re.compile("[\u3040-\u30ff\u31f0-\u31ff]")
_SCRIPTS: tuple[tuple[str, re.Pattern[str], int], ...] = (
    ("ko", re.compile("[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]"), 2),
    ("zh", re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"), 2),
    ("th", re.compile("[\u0e00-\u0e7f]"), 1),
    ("hi", re.compile("[\u0900-\u097f]"), 1),
    ("ru", re.compile("[\u0400-\u04ff]"), 1),
    ("el", re.compile("[\u0370-\u03ff]"), 1),
    ("ar", re.compile("[\u0600-\u06ff]"), 1),
)
_LATIN = re.compile(r"[a-zA-Z\u00c0-\u024f]")
# Characters simplified Chinese writes differently (們 们, 這 这, 麼 么, ...): common in support questions.
_TRADITIONAL = re.compile("[們這個為嗎請會說問題時間買錢貨運費訂單號碼點麼與對於務將還無處實體帳戶]")
_UKRAINIAN = re.compile("[іїєґІЇЄҐ]")

_FUNCTION_WORDS_TEXT = {
    "en": "the is are do does can could how what where when why which my your you i to of and for with have "
    "there this it an will would please",
    "es": "el la los las es está están son cómo qué cuál cuáles cuándo dónde por para puedo puede mi mis tengo "
    "hay una y del con sin quiero usted su lo se ustedes venden",
    "fr": "le la les est sont comment quel quelle quels quelles quand où pourquoi je j vous mon ma mes pour "
    "avec sans une et des du au aux peux puis est-ce ce il ne pas d l qu",
    "de": "der die das ist sind wie was wann wo warum ich mein meine meinen sie du für mit ohne und ein eine "
    "einen kann können gibt es nicht zu den dem auf ihre ihren",
    "pt": "o os as é são está como qual quais quando onde posso pode meu minha eu você vocês para com sem um "
    "uma e do da dos das não tem há no na",
    "it": "il lo gli è sono come quale quali quando dove perché posso può mio mia io per con senza un una e "
    "del della non ci di che sua vostri vendete",
    "nl": "de het een is zijn hoe wat wanneer waar waarom ik mijn u je jij jullie voor met zonder en van kan "
    "kunnen niet er op te ook",
}
# Everyday English words that other rows list too ("No", "leave a comment", "I was charged", ".com"):
# they count for English as well, and English wins ties, so they alone never turn English into another language.
_ENGLISH_TOO = "no as o com comment d was die son come u est mon van"
_FUNCTION_WORDS = {language: frozenset(text.split()) for language, text in _FUNCTION_WORDS_TEXT.items()}
_FUNCTION_WORDS[DEFAULT] |= frozenset(_ENGLISH_TOO.split())
# Letters only one of these languages writes: they count alongside its words, since alone they are as
# likely an English writer's loanword, place or name ("Jalapeño", "Düsseldorf", "Müller order status").
_LETTERS = {"es": re.compile("[ñ]"), "pt": re.compile("[ãõ]"), "de": re.compile("[ßäöü]")}
# Marks only Spanish writes, which count on their own.
_MARKS = {"es": re.compile("[¿¡]")}
_LATIN_WORD = re.compile(r"[a-z\u00e0-\u024f]+(?:-[a-z]+)?")


def _latin_language(text: str) -> str:
    lowered = text.lower()
    words = _LATIN_WORD.findall(lowered)
    hits = Counter({language: sum(word in known for word in words) for language, known in _FUNCTION_WORDS.items()})
    for language, letters in _LETTERS.items():
        hits[language] += len(letters.findall(lowered)) if hits[language] else 0
    for language, marks in _MARKS.items():
        hits[language] += len(marks.findall(lowered))
    # most_common keeps insertion order on ties, and English is first
    language, count = hits.most_common(1)[0]
    return language if count else DEFAULT


def detect_language(text: str) -> str:
    """A language tag ("en", "ja", "zh-Hant", ...) for ``text``; ``DEFAULT`` when nothing tells."""
    if _KANA.search(text):
        return "ja"
    latin = len(_LATIN.findall(text))
    script, count = max(
        ((language, weight * len(pattern.findall(text))) for language, pattern, weight in _SCRIPTS),
        key=lambda pair: pair[1],
    )
    if count and count >= latin:
        if script == "zh" and _TRADITIONAL.search(text):
            return "zh-Hant"
        if script == "ru" and _UKRAINIAN.search(text):
            return "uk"
        return script
    return _latin_language(text)
