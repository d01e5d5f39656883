"""Text normalisation for the trigger rules: case, accents, apostrophes and common typos.

Customers type fast: "talk to an opertor", "filr a complaint". Words close to one of the trigger
vocabulary's key words (one edit away, at least five letters) are read as that word, so the rules
stay short and readable instead of listing misspellings.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Key words the rules depend on. Only these are corrected; everything else is left alone.
VOCABULARY = frozenset(
    {
        "talk",
        "talking",
        "speak",
        "speaking",
        "chatting",
        "contact",
        "contacting",
        "human",
        "humans",
        "person",
        "agent",
        "agents",
        "operator",
        "representative",
        "someone",
        "somebody",
        "assistant",
        "complaint",
        "complaints",
        "complain",
        "reclamation",
        "claim",
        "lodge",
        "lodging",
        "filing",
        "against",
        "customer",
        "consumer",
        "company",
        "business",
        "organization",
        "terrible",
        "horrible",
        "useless",
        "ridiculous",
        "unacceptable",
        "hacked",
        "unauthorized",
        "outage",
        "refund",
    }
)
# Real words of the other languages we serve that sit one edit away from an English key word.
NOT_TYPOS = frozenset(
    {
        "persona",
        "persone",
        "personne",
        "personen",
        "operatore",
        "operador",
        "operadora",
        "agente",
        "agenten",
        "agentes",
        "humano",
        "humana",
        "humain",
        "humaine",
        "umano",
        "contacto",
        "contato",
        "contatto",
        "claims",
    }
)
MIN_FUZZY_LENGTH = 5
_WORD = re.compile(r"[a-z0-9']+")
_SPACES = re.compile(r"\s+")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _one_edit_apart(a: str, b: str) -> bool:
    """True when ``a`` becomes ``b`` with one insertion, deletion, substitution or adjacent swap."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]
        )
    shorter, longer = (a, b) if len(a) < len(b) else (b, a)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))


@lru_cache(maxsize=8192)
def correct_word(word: str) -> str:
    if len(word) < MIN_FUZZY_LENGTH or word in VOCABULARY or word in NOT_TYPOS:
        return word
    for candidate in VOCABULARY:
        if len(candidate) >= MIN_FUZZY_LENGTH and _one_edit_apart(word, candidate):
            return candidate
    return word


def normalize(text: str) -> str:
    """Lower-case, accent-free, typo-corrected text with single spaces (punctuation kept)."""
    lowered = strip_accents(text).lower().replace("\u2019", "'").replace("\u2018", "'")
    lowered = lowered.replace("-", " ")
    corrected = _WORD.sub(lambda match: correct_word(match.group(0)), lowered)
    return _SPACES.sub(" ", corrected).strip()


def tokens(text: str) -> list[str]:
    return _WORD.findall(normalize(text))
