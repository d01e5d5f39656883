"""Which PostgreSQL text-search configuration (stemmer and stop words) a document's language takes.

BM25 indexes each document's lexemes with the configuration of its language, so a German help
centre is stemmed and stop-worded as German ("Rückerstattungen" and "Rückerstattung" meet). A
query is turned into lexemes with every configuration the tenant's documents use (knowledge/bm25.py).
Languages PostgreSQL has no stemmer for, and unknown codes, take ``simple``: lower-cased words, no
stemming, no stop words, which is right for any language rather than English rules applied to it.
"""

from __future__ import annotations

import re

DEFAULT_LANGUAGE = "en"
FALLBACK_CONFIG = "simple"

# ISO 639-1 codes of the languages of the Snowball configurations shipped with PostgreSQL 15 and
# later (28 languages; PostgreSQL 18's estonian is left out, 15 lacks it).
CONFIG_BY_CODE: dict[str, str] = {
    "ar": "arabic",
    "ca": "catalan",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "es": "spanish",
    "eu": "basque",
    "fi": "finnish",
    "fr": "french",
    "ga": "irish",
    "hi": "hindi",
    "hu": "hungarian",
    "hy": "armenian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "nb": "norwegian",
    "ne": "nepali",
    "nl": "dutch",
    "nn": "norwegian",
    "no": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
    "yi": "yiddish",
}
# ISO 639-2 codes of the same languages (bibliographic and terminology forms).
CONFIG_BY_CODE |= {
    "ara": "arabic",
    "arm": "armenian",
    "baq": "basque",
    "cat": "catalan",
    "dan": "danish",
    "deu": "german",
    "dut": "dutch",
    "ell": "greek",
    "eng": "english",
    "eus": "basque",
    "fin": "finnish",
    "fra": "french",
    "fre": "french",
    "ger": "german",
    "gle": "irish",
    "gre": "greek",
    "hin": "hindi",
    "hun": "hungarian",
    "hye": "armenian",
    "ind": "indonesian",
    "ita": "italian",
    "lit": "lithuanian",
    "nep": "nepali",
    "nld": "dutch",
    "nno": "norwegian",
    "nob": "norwegian",
    "nor": "norwegian",
    "por": "portuguese",
    "ron": "romanian",
    "rum": "romanian",
    "rus": "russian",
    "spa": "spanish",
    "srp": "serbian",
    "swe": "swedish",
    "tam": "tamil",
    "tur": "turkish",
    "yid": "yiddish",
}
SEARCH_CONFIGS = frozenset(CONFIG_BY_CODE.values()) | {FALLBACK_CONFIG}
TAG_SEPARATORS = re.compile(r"[-_\s(]+")


def search_config(language: str) -> str:
    """The text-search configuration for a language tag ("de", "pt-BR", "en_US", "deu") or an
    English language name ("German", "english-us", "English (UK)")."""
    primary = TAG_SEPARATORS.split(language.strip().lower(), maxsplit=1)[0]
    if primary in CONFIG_BY_CODE:
        return CONFIG_BY_CODE[primary]
    return primary if primary in SEARCH_CONFIGS else FALLBACK_CONFIG


LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{1,8})*")
LANGUAGE_MAX_LENGTH = 16  # Document.language
INVALID_LANGUAGE = "{value!r} is not a language: give a tag such as en, de or pt-BR"
# How much of a refused value the message quotes: enough to recognise it, not a pasted page.
QUOTED_LANGUAGE_CHARS = 40


def clean_language(value: str) -> str:
    """A language someone typed (a default for files that declare none), as it is stored; raises
    ``ValueError`` with ``INVALID_LANGUAGE`` for anything that is neither a tag nor a name of one
    of PostgreSQL's configurations."""
    tag = value.strip().replace("_", "-")
    known = LANGUAGE_TAG.fullmatch(tag.lower()) or tag.lower() in SEARCH_CONFIGS
    if not known or len(tag) > LANGUAGE_MAX_LENGTH:
        quoted = value if len(value) <= QUOTED_LANGUAGE_CHARS else value[: QUOTED_LANGUAGE_CHARS - 1] + "…"
        raise ValueError(INVALID_LANGUAGE.format(value=quoted))
    return tag


# A language's English name, alone or with a region: "German", "English (UK)".
LANGUAGE_NAME = re.compile(r"[A-Za-z]+(?: \([A-Za-z ]+\))?")


def declared_language(value: str) -> str:
    """A language a file or page declares (front matter, ``<html lang>``, a PDF's /Lang, a CSV
    column, BEIR metadata), as it is stored: a tag as ``clean_language`` keeps it, or the English
    name of a language ``search_config`` knows ("English (UK)"); "" (undeclared, so the default
    applies) for anything else, which would otherwise be stored as the document's language and
    shown as such. A tag too long for its column keeps its leading whole subtags
    (``_leading_subtags``); a name too long to store whole is refused."""
    try:
        return clean_language(value)
    except ValueError:
        pass
    tag = value.strip().replace("_", "-")
    if LANGUAGE_TAG.fullmatch(tag.lower()):  # a tag too long to store: its leading subtags that fit
        return _leading_subtags(tag)
    name = value.strip()
    known = LANGUAGE_NAME.fullmatch(name) and search_config(name) != FALLBACK_CONFIG
    return name if known and len(name) <= LANGUAGE_MAX_LENGTH else ""


def _leading_subtags(tag: str) -> str:
    """``tag``'s leading whole subtags within ``LANGUAGE_MAX_LENGTH`` ("zh-Hant-TW-u-ca-chinese" →
    "zh-Hant-TW-u-ca"), without a trailing singleton ("x", "u"), which only introduces what follows it."""
    subtags = tag.split("-")
    kept = [subtags[0]]
    for subtag in subtags[1:]:
        if len("-".join([*kept, subtag])) > LANGUAGE_MAX_LENGTH:
            break
        kept.append(subtag)
    if len(kept) > 1 and len(kept[-1]) == 1:
        kept.pop()
    return "-".join(kept)


# Invisible characters PostgreSQL's parser glues to the word beside them ("parking" + RLM is no
# "parking", "val" + SOFT HYPHEN + "et" no "valet"), so lexemes are taken without them: in a question
# (``searchable_text``) and in a chunk (``bm25.CHILD_INSERT_SQL``, with ``LEXEME_INVISIBLES`` and
# ``LEXEME_SPACES`` as ``translate``'s arguments, which deletes what has no counterpart). The stored
# text keeps them. Read as spaces: the bidi controls that text from right-to-left contexts carries
# (LRM, RLM, ARABIC LETTER MARK, the embeddings and overrides U+202A-202E, the isolates U+2066-2069)
# and ZERO WIDTH SPACE (a break between words). Removed: what sits inside a word, SOFT HYPHEN (HTML's
# ``&shy;``), WORD JOINER and ZERO WIDTH NO-BREAK SPACE.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
INVISIBLE_BREAKS = BIDI_CONTROLS + "\u200b"
INVISIBLE_JOINS = "\u00ad\u2060\ufeff"
LEXEME_INVISIBLES = INVISIBLE_BREAKS + INVISIBLE_JOINS
LEXEME_SPACES = " " * len(INVISIBLE_BREAKS)
_AS_LEXEMES_READ = str.maketrans(INVISIBLE_BREAKS, LEXEME_SPACES, INVISIBLE_JOINS)


def searchable_text(text: str) -> str:
    """``text`` as keyword search reads it: invisible breaks become spaces, invisible joins go."""
    return text.translate(_AS_LEXEMES_READ)
