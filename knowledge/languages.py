"""Which PostgreSQL text-search configuration (stemmer and stop words) a document's language takes.

BM25 indexes each document's lexemes with the configuration of its language, so a German help
centre is stemmed and stop-worded as German ("Rückerstattungen" and "Rückerstattung" meet). A
query is turned into lexemes with every configuration the tenant's documents use (knowledge/bm25.py).
Languages PostgreSQL has no stemmer for, and unknown codes, take ``simple``: lower-cased words, no
stemming, no stop words, which is right for any language rather than English rules applied to it.

A document's language is stored in one form, whoever gave it (``clean_language``,
``declared_language``): BCP 47's casing, ISO 639-1 codes for the ISO 639-2 codes and English names
of the languages above ("EN_us" → "en-US", "German" → "de", "English (UK)" → "en-GB").
"""

from __future__ import annotations

import re

from knowledge.pdf_text import LIGATURE_LETTERS
from supportai.quoted import Quoted

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
# ISO 639-2 codes of the same languages (bibliographic and terminology forms), each with the ISO
# 639-1 code of its language: the configuration is that code's, and stored languages take that code.
ISO_639_1_BY_639_2: dict[str, str] = {
    "ara": "ar",
    "arm": "hy",
    "baq": "eu",
    "cat": "ca",
    "dan": "da",
    "deu": "de",
    "dut": "nl",
    "ell": "el",
    "eng": "en",
    "eus": "eu",
    "fin": "fi",
    "fra": "fr",
    "fre": "fr",
    "ger": "de",
    "gle": "ga",
    "gre": "el",
    "hin": "hi",
    "hun": "hu",
    "hye": "hy",
    "ind": "id",
    "ita": "it",
    "lit": "lt",
    "nep": "ne",
    "nld": "nl",
    "nno": "nn",
    "nob": "nb",
    "nor": "no",
    "por": "pt",
    "ron": "ro",
    "rum": "ro",
    "rus": "ru",
    "spa": "es",
    "srp": "sr",
    "swe": "sv",
    "tam": "ta",
    "tur": "tr",
    "yid": "yi",
}
# Every ISO 639-1 code (184, Bihari's "bh", withdrawn in 2021, included): a typed language's primary
# subtag of two letters must be one of them ("zz", "xx-YY" are refused). One of three letters is an ISO
# 639-2/3 code (Filipino's "fil", Cantonese's "yue": about 7,900, too many to list) unless it is one of
# those that name no language (NOT_A_LANGUAGE).
# fmt: off
ISO_639_1_CODES = frozenset((
    "aa", "ab", "ae", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az", "ba", "be", "bg", "bh",
    "bi", "bm", "bn", "bo", "br", "bs", "ca", "ce", "ch", "co", "cr", "cs", "cu", "cv", "cy", "da",
    "de", "dv", "dz", "ee", "el", "en", "eo", "es", "et", "eu", "fa", "ff", "fi", "fj", "fo", "fr",
    "fy", "ga", "gd", "gl", "gn", "gu", "gv", "ha", "he", "hi", "ho", "hr", "ht", "hu", "hy", "hz",
    "ia", "id", "ie", "ig", "ii", "ik", "io", "is", "it", "iu", "ja", "jv", "ka", "kg", "ki", "kj",
    "kk", "kl", "km", "kn", "ko", "kr", "ks", "ku", "kv", "kw", "ky", "la", "lb", "lg", "li", "ln",
    "lo", "lt", "lu", "lv", "mg", "mh", "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my", "na", "nb",
    "nd", "ne", "ng", "nl", "nn", "no", "nr", "nv", "ny", "oc", "oj", "om", "or", "os", "pa", "pi",
    "pl", "ps", "pt", "qu", "rm", "rn", "ro", "ru", "rw", "sa", "sc", "sd", "se", "sg", "si", "sk",
    "sl", "sm", "sn", "so", "sq", "sr", "ss", "st", "su", "sv", "sw", "ta", "te", "tg", "th", "ti",
    "tk", "tl", "tn", "to", "tr", "ts", "tt", "tw", "ty", "ug", "uk", "ur", "uz", "ve", "vi", "vo",
    "wa", "wo", "xh", "yi", "yo", "za", "zh", "zu",
))
# fmt: on
# ISO 639-2's codes for undetermined, multiple, no linguistic content and uncoded languages.
NOT_A_LANGUAGE = frozenset({"und", "mul", "zxx", "mis"})
CONFIG_BY_CODE |= {code: CONFIG_BY_CODE[short] for code, short in ISO_639_1_BY_639_2.items()}
SEARCH_CONFIGS = frozenset(CONFIG_BY_CODE.values()) | {FALLBACK_CONFIG}
TAG_SEPARATORS = re.compile(r"[-_\s(]+")
# The ISO 639-1 code of each configuration's language, for its English name ("German" → "de").
CODE_BY_CONFIG: dict[str, str] = {config: code for code, config in CONFIG_BY_CODE.items() if len(code) == 2}
CODE_BY_CONFIG["norwegian"] = "no"  # the macrolanguage, whose two written forms are nb and nn
# ISO 3166-1 reserves UK for the United Kingdom, whose code (and BCP 47 region) is GB.
REGION_BY_ALIAS = {"UK": "GB"}


def search_config(language: str) -> str:
    """The text-search configuration for a language tag ("de", "pt-BR", "en_US", "deu") or an
    English language name ("German", "english-us", "English (UK)")."""
    primary = TAG_SEPARATORS.split(language.strip().lower(), maxsplit=1)[0]
    if primary in CONFIG_BY_CODE:
        return CONFIG_BY_CODE[primary]
    return primary if primary in SEARCH_CONFIGS else FALLBACK_CONFIG


LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{1,8})*")
LANGUAGE_MAX_LENGTH = 16  # Document.language
INVALID_LANGUAGE = (
    "language: {value!r} is not a language code; use an ISO 639-1 code such as en or de-CH, or an English name"
    " such as German"
)
# How much of a refused value the message quotes: enough to recognise it, not a pasted page.
QUOTED_LANGUAGE_CHARS = 40


def clean_language(value: str) -> str:
    """A language someone typed (a default for files that declare none), as it is stored: in the
    canonical form (``canonical_tag``; a configuration's name as its language's code, "German" →
    "de"); raises ``ValueError`` with ``INVALID_LANGUAGE`` for anything that is neither a tag nor a
    name of one of PostgreSQL's configurations, and for a tag whose primary subtag is no language
    (``_is_language_tag``: "zz", "xx-YY")."""
    tag = value.strip().replace("_", "-")
    known = _is_language_tag(tag) or tag.lower() in SEARCH_CONFIGS
    if not known or len(tag) > LANGUAGE_MAX_LENGTH:
        raise ValueError(INVALID_LANGUAGE.format(value=Quoted(value, QUOTED_LANGUAGE_CHARS)))
    return CODE_BY_CONFIG.get(tag.lower()) or canonical_tag(tag)


def _is_language_tag(tag: str) -> bool:
    """Whether ``tag`` (any case, "-" between subtags) is shaped as ``LANGUAGE_TAG`` and names a
    language: its primary subtag an ISO 639-1 code, or of three letters and not ``NOT_A_LANGUAGE``."""
    primary = tag.lower().split("-", 1)[0]
    known = primary in ISO_639_1_CODES if len(primary) == 2 else primary not in NOT_A_LANGUAGE
    return known and LANGUAGE_TAG.fullmatch(tag.lower()) is not None


# A language's English name, alone or with a region: "German", "English (UK)".
LANGUAGE_NAME = re.compile(r"[A-Za-z]+(?: \([A-Za-z ]+\))?")


def declared_language(value: str) -> str:
    """A language a file or page declares (front matter, ``<html lang>``, a PDF's /Lang, a CSV
    column, BEIR metadata), as it is stored: a tag or name as ``clean_language`` keeps it, or the
    English name of a language ``search_config`` knows, with a region ("English (UK)" → "en-GB",
    ``canonical_name``); "" (undeclared, so the default applies) for anything else, which would
    otherwise be stored as the document's language and shown as such. A tag too long for its
    column keeps its leading whole subtags (``_leading_subtags``); a name longer than the column
    is refused."""
    try:
        return clean_language(value)
    except ValueError:
        pass
    tag = value.strip().replace("_", "-")
    if _is_language_tag(tag):  # a tag too long to store: its leading subtags that fit
        return _leading_subtags(canonical_tag(tag))
    name = value.strip()
    known = LANGUAGE_NAME.fullmatch(name) and search_config(name) != FALLBACK_CONFIG
    return canonical_name(name) if known and len(name) <= LANGUAGE_MAX_LENGTH else ""


def canonical_tag(tag: str) -> str:
    """``tag`` (a tag ``LANGUAGE_TAG`` reads, any case, "-" or "_" between subtags) in one form:
    BCP 47's casing (RFC 5646 2.1.1: lower case, but before any singleton a two-letter subtag, the
    region, in upper case and a four-letter one, the script, in title case: "zh-Hant-TW",
    "en-CA-x-ca"), a language with an ISO 639-1 code given it ("deu-CH" → "de-CH") and the United
    Kingdom's region as GB ("en-uk" → "en-GB", as "English (UK)")."""
    primary, *subtags = tag.strip().replace("_", "-").lower().split("-")
    cased = [ISO_639_1_BY_639_2.get(primary, primary)]
    extended = False  # after a singleton ("u", "x"): the extension's own subtags, lower case
    for subtag in subtags:
        extended = extended or len(subtag) == 1
        if not extended and subtag.isalpha() and len(subtag) == 2:
            subtag = REGION_BY_ALIAS.get(subtag.upper(), subtag.upper())
        elif not extended and subtag.isalpha() and len(subtag) == 4:
            subtag = subtag.capitalize()
        cased.append(subtag)
    return "-".join(cased)


def canonical_name(name: str) -> str:
    """A language's name that ``declared_language`` accepts as its tag: the language's code, with
    the region when the name gives its two-letter code ("English (UK)" → "en-GB", "german (at)" →
    "de-AT"); a region named in words ("English (Canada)") is left out rather than guessed."""
    language, _, region = name.partition("(")
    language = language.strip().lower()
    code = CODE_BY_CONFIG.get(language) or ISO_639_1_BY_639_2.get(language, language)
    region = region.rstrip(")").strip().upper()
    if len(region) == 2:
        return f"{code}-{REGION_BY_ALIAS.get(region, region)}"
    return code


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
# "parking", "val" + SOFT HYPHEN + "et" no "valet"), so lexemes are taken without them, and with
# typographic ligatures spelt out ("ﬁnd" is no "find"; ``pdf_text.LIGATURE_LETTERS``): in a question
# (``searchable_text``) and in a chunk (``searchable_sql`` in ``bm25_index.CHILD_INSERT_SQL``). The stored
# text keeps them. Read as spaces: the bidi controls that text from right-to-left contexts carries
# (LRM, RLM, ARABIC LETTER MARK, the embeddings and overrides U+202A-202E, the isolates U+2066-2069)
# and ZERO WIDTH SPACE (a break between words). Removed: what sits inside a word, SOFT HYPHEN (HTML's
# ``&shy;``), WORD JOINER and ZERO WIDTH NO-BREAK SPACE.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
INVISIBLE_BREAKS = BIDI_CONTROLS + "\u200b"
INVISIBLE_JOINS = "\u00ad\u2060\ufeff"
LEXEME_INVISIBLES = INVISIBLE_BREAKS + INVISIBLE_JOINS
LEXEME_SPACES = " " * len(INVISIBLE_BREAKS)
_AS_LEXEMES_READ = str.maketrans(
    LIGATURE_LETTERS | dict.fromkeys(INVISIBLE_BREAKS, " ") | dict.fromkeys(INVISIBLE_JOINS, None)
)


def searchable_text(text: str) -> str:
    """``text`` as keyword search reads it: invisible breaks become spaces, invisible joins go,
    ligatures become their letters."""
    return text.translate(_AS_LEXEMES_READ)


def searchable_sql(expression: str, *, invisible: str, spaces: str) -> str:
    """SQL of the text ``expression`` read as ``searchable_text`` reads it; ``invisible`` and
    ``spaces`` are the placeholders of ``LEXEME_INVISIBLES`` and ``LEXEME_SPACES`` (``translate``
    deletes the characters that have no counterpart)."""
    for ligature, letters in LIGATURE_LETTERS.items():
        expression = f"replace({expression}, '{ligature}', '{letters}')"
    return f"translate({expression}, {invisible}, {spaces})"
