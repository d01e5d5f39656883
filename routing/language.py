"""The language a customer writes in, cheaply: by script, and for Latin script by its function words.

Japanese is any text with kana; Korean, Thai, Hindi (Devanagari), Greek and Arabic are their script;
Chinese is Han without kana, traditional (``zh-Hant``) when it uses characters only traditional
Chinese writes; Cyrillic is Russian unless it has Ukrainian letters. Latin text is the language whose
common short words it uses most (English on a tie or with none), so a one-word message is English.

A message that mixes Latin with another script (the one with the most letters; Han and kana together
when there is kana) is read by this rule:

* Latin words without a single function word or greeting of a Latin language are names, products
  or codes: the other script decides ("我想买iPhone 15", "iPhone 15 Pro Max有货吗").
* Latin words with one are a sentence: the other script decides only when it has at least as many
  letters as the Latin ones (a Han or Hangul character weighing two, so "Can I pay with 支付宝?" stays
  English) *and* is more than a name: a name is at most two words, and when it is written without
  spaces (Han, kana, Hangul, Thai) at most ``NAME_CHARACTERS`` of them ("Hi 李", "Hello 王小明",
  "Hi 田中さん", "Hi Андрей" stay English).

No dictionary, no model: a guess for canned phrases, not a classifier.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

DEFAULT = "en"

_KANA = re.compile("[\u3040-\u30ff\u31f0-\u31ff]")
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# A name is at most two words; in a script written without spaces, at most this many characters
# (李, 王小明, 田中さん, 김민수; a Thai name with its vowel signs is longer).
NAME_WORDS = 2
NAME_CHARACTERS = 4


@dataclass(frozen=True)
class _Script:
    language: str
    runs: re.Pattern[str]  # a run of its letters: a word, or for an unspaced script a stretch of text
    weight: int  # a character of Han or Hangul carries about as much as two Latin letters
    name_characters: int | None = None  # the longest name in a script written without spaces


_JAPANESE = _Script("ja", re.compile(f"[\u3040-\u30ff\u31f0-\u31ff{_HAN}]+"), 2, NAME_CHARACTERS)
_SCRIPTS: tuple[_Script, ...] = (
    _Script("ko", re.compile("[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]+"), 2, NAME_CHARACTERS),
    _Script("zh", re.compile(f"[{_HAN}]+"), 2, NAME_CHARACTERS),
    _Script("th", re.compile("[\u0e00-\u0e7f]+"), 1, 3 * NAME_CHARACTERS),
    _Script("hi", re.compile("[\u0900-\u097f]+"), 1),
    _Script("ru", re.compile("[\u0400-\u04ff]+"), 1),
    _Script("el", re.compile("[\u0370-\u03ff]+"), 1),
    _Script("ar", re.compile("[\u0600-\u06ff]+"), 1),
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
# Greetings show Latin words are a sentence ("Hi 李"), without telling which language.
_GREETINGS_TEXT = "hi hello hey dear thanks thank hallo hola bonjour salut ciao olá oi hoi"
_GREETINGS = frozenset(_GREETINGS_TEXT.split())
_FUNCTION_WORDS = {language: frozenset(text.split()) for language, text in _FUNCTION_WORDS_TEXT.items()}
_FUNCTION_WORDS[DEFAULT] |= frozenset(_ENGLISH_TOO.split())
# Letters only one of these languages writes: they count alongside its words, since alone they are as
# likely an English writer's loanword, place or name ("Jalapeño", "Düsseldorf", "Müller order status").
_LETTERS = {"es": re.compile("[ñ]"), "pt": re.compile("[ãõ]"), "de": re.compile("[ßäöü]")}
# Marks only Spanish writes, which count on their own.
_MARKS = {"es": re.compile("[¿¡]")}
_LATIN_WORD = re.compile(r"[a-z\u00e0-\u024f]+(?:-[a-z]+)?")


def _latin_hits(text: str) -> Counter[str]:
    """Per Latin language, how many of its function words, marks and letters ``text`` has."""
    lowered = text.lower()
    words = _LATIN_WORD.findall(lowered)
    hits = Counter({language: sum(word in known for word in words) for language, known in _FUNCTION_WORDS.items()})
    for language, letters in _LETTERS.items():
        hits[language] += len(letters.findall(lowered)) if hits[language] else 0
    for language, marks in _MARKS.items():
        hits[language] += len(marks.findall(lowered))
    return hits


def _latin_language(hits: Counter[str]) -> str | None:
    """The language with the most hits, None without any."""
    # most_common keeps insertion order on ties, and English is first
    language, count = hits.most_common(1)[0]
    return language if count else None


def _latin_is_a_sentence(text: str, hits: Counter[str]) -> bool:
    """Whether the Latin words are a sentence (a function word or a greeting), not only names or codes."""
    return any(hits.values()) or any(word in _GREETINGS for word in _LATIN_WORD.findall(text.lower()))


def _is_a_name(script: _Script, runs: list[str]) -> bool:
    if len(runs) > NAME_WORDS:
        return False
    return script.name_characters is None or sum(map(len, runs)) <= script.name_characters


def _script_language(script: _Script, text: str) -> str:
    if script.language == "zh" and _TRADITIONAL.search(text):
        return "zh-Hant"
    if script.language == "ru" and _UKRAINIAN.search(text):
        return "uk"
    return script.language


def detect_language(text: str) -> str:
    """A language tag ("en", "ja", "zh-Hant", ...) for ``text``; ``DEFAULT`` when nothing tells.

    The rule for a message mixing Latin with another script is in the module docstring.
    """
    return language_told(text) or DEFAULT


def language_told(text: str) -> str | None:
    """``detect_language``'s tag for ``text``, or None when nothing in it tells a language: Latin text
    without a function word, mark or letter of ours ("OK", "10:00", "Danke", a name or a code), which
    ``detect_language`` reads as English. A conversation keeps its language over such a message
    (``chat.selectors.conversation_language``)."""
    scripts = (_JAPANESE,) if _KANA.search(text) else _SCRIPTS
    script, runs = max(((script, script.runs.findall(text)) for script in scripts), key=lambda pair: _weighted(*pair))
    hits = _latin_hits(text)
    if not runs:
        return _latin_language(hits)
    latin = len(_LATIN.findall(text))
    if not latin or not _latin_is_a_sentence(text, hits):
        return _script_language(script, text)
    if _weighted(script, runs) >= latin and not _is_a_name(script, runs):
        return _script_language(script, text)
    return _latin_language(hits) or DEFAULT  # a greeting with a name ("Hi 李") is English


# Function words, marks and letters of another Latin language a message needs to move a conversation from
# the Latin language it is in: one word is as likely a word of the conversation's own language that another
# row lists ("um 10 Uhr" in German; "Non merci", "No, gracias" where French and Spanish say no).
SWITCH_HITS = 2


def next_language(current: str | None, text: str) -> str | None:
    """The conversation's language once the customer has written ``text``, when it was ``current`` (None:
    they had not written, or no message told one). A message that tells none keeps ``current``, as does a
    Latin one whose hits for ``current`` match those of the language it tells, or that tells another Latin
    language by fewer than ``SWITCH_HITS`` hits; another script tells its language at once."""
    told = language_told(text)
    if told is None or current is None or told == current:
        return told or current
    if current in _FUNCTION_WORDS and told in _FUNCTION_WORDS:
        hits = _latin_hits(text)
        if hits[current] >= hits[told] or hits[told] < SWITCH_HITS:
            return current
    return told


def _weighted(script: _Script, runs: list[str]) -> int:
    return script.weight * sum(map(len, runs))
