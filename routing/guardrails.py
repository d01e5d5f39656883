"""Guardrails: input checks (prompt injection, role override, system-prompt extraction) and output
checks (system-prompt leakage, citations to passages not provided, secrets and others' contact data).

Input detection is a set of weighted patterns (English, German, Spanish, French — the languages of
our evaluation set — and a few for Japanese, Chinese, Korean, Russian, Portuguese and Italian); a
message is flagged when its score reaches ``INPUT_THRESHOLD``. The patterns look for *instructions
to the assistant*, not topics, so ordinary support questions ("cancel my order", "ignore my previous
email", "前の注文を無視してください") stay clear. ``manage.py evaluate_guardrails`` reports precision,
recall and the false-positive rate on ordinary support utterances.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from routing.contracts import ContextPassage
from routing.language import DEFAULT
from routing.phrases import PHRASES, Phrases
from routing.terms import half_words

FLAG_INJECTION = "prompt_injection"
FLAG_ROLE_OVERRIDE = "role_override"
FLAG_PROMPT_EXTRACTION = "prompt_extraction"
FLAG_PROMPT_LEAK = "system_prompt_leak"
FLAG_BAD_CITATION = "citation_not_provided"
FLAG_SECRET = "secret_in_output"
FLAG_FOREIGN_CONTACT = "contact_not_in_context"

INPUT_THRESHOLD = 1.0
_I = re.IGNORECASE

_OVERRIDE = (
    r"\b(ignore|disregard|forget|drop|skip|override|bypass)\b[^.?!\n]{0,40}\b(instructions?|rules?|tasks?|"
    r"assignments?|orders?|prompts?|everything|context|documents?|articles?|above|before that)\b",
    r"\b(vergiss|vergessen sie|ignorier(e|en)?|missachte)\b[^.?!\n]{0,40}\b(alle|alles|vorherig\w*|obig\w*|bisherig\w*|"
    r"anweisung\w*|aufgabe\w*|aufträge|befehle|davor|informationen)\b",
    r"\b(olvida|olvide|ignora)\b[^.?!\n]{0,30}\b(todo|todas|instrucciones|anteriores)\b",
    r"\b(oubliez|oublie|ignorez|ignore)\b[^.?!\n]{0,30}\b(toutes?|tout|instructions|précédentes)\b",
    r"\bzaboravi sve\b",
    r"\b(now|nun|jetzt)\b[^.?!\n]{0,30}\b(new|neue)\s+(task|tasks|instructions?|aufgabe\w*|anweisung\w*)\b",
    r"\b(new|neue)\s+(task|aufgabe)\b\s*[:,]",
    r"\b(start over|from the front|von vorne|von neu)\b",
    r"\bleave all the previous\b|\bremove all previous\b|\bhinter sich\b",
    r"\b(do not|don'?t|don'nt)\s+(answer|look)\b[^.?!\n]{0,40}\b(question|documents?|articles?)\b",
    r"\b(answer|antworte)\b[^.?!\n]{0,30}\bby your own knowledge\b|\bnot by the articles\b",
    r"\bdisregarding the (articles|documents|context)\b",
    r"\b(stop|stopp)\s*[:,!-]",
    r"\babweichend zu vorherigen\b",
    r"\badditional instruction\b",
    r"\byour instructions are now\b",
    # Chinese, Japanese and Korean (no \b between their characters): the object must be our instructions
    # (指示, 指令, 지시, ...), never an order or a message, which a customer may well ask us to disregard,
    # and the verb an imperative (a courier who 指示を無視しました is a complaint).
    r"(指示|命令|指令|ルール|制約|プロンプト)[^。\uff1f\uff01\n]{0,12}"
    r"(無視し|忘れ)(て(?!い|しま|た)|ろ|なさい)|無視せよ",
    r"(忽略|无视|忘记|忘掉|忘了|不要理会|不要遵守|抛开)[^。\uff1f\uff01\n]{0,10}(之前|以前|先前|上面|以上|上述|前面|所有|全部|一切|你的)"
    r"的?(所有|全部|一切)?的?(指令|指示|提示词|命令|设定|约束|规则)",
    r"(지시|지침|명령|규칙|프롬프트)[^.?!\n]{0,12}(무시하고|무시해(?!서)|무시하세요|무시하라|잊어(버려|줘|라)|잊고)",
    r"\b(игнорируй(те)?|проигнорируй(те)?|забудь(те)?)\b[^.?!\n]{0,40}(инструкци|указани|правил|промпт)",
    r"\b(ignore|ignora|ignorem|esqueça|esqueca|desconsidere)\b[^.?!\n]{0,30}\b(instruções|instrucoes|regras|comandos)\b",
    r"\b(ignora|ignori|ignorate|dimentica|dimentichi)\b[^.?!\n]{0,30}\b(istruzioni|regole|comandi)\b",
)
_ROLE = (
    r"\b(i want you to|ich möchte, dass sie|ich möchte, dass du)\b[^.?!\n]{0,20}\b(act|fungieren|agieren)\b",
    r"\b(pretend|imagine) you (can|could|have)\b",
    r"\b(change|replace) your instructions\b|\babandon all your thoughts\b|\brepeat after me\b",
    r"\byou are (three|two|a group of)\b|\byou are no\b",
    r"^\s*act as\b",
    r"\b(pretend|imagine) (you are|you're|to be)\b|\bstell dir vor, du bist\b",
    r"\b(now|from now on)\b[^.?!\n]{0,10}\byou are\b|\b(jetzt|nun) bist du\b",
    r"\byou are now\b|\bdu bist (jetzt|nun)\b",
    r"\b(role-?play(ing)?|rollenspiel|in deiner rolle)\b",
    r"\b(dan mode|developer mode|jailbreak)\b",
    r"\bin the style of\b|\bim stil(e)? (eine[sr]?|des|der)\b|\bantworte im stil\b",
    r"\b[Yy]ou are (the )?[A-Za-z]*[A-Z][\w-]*(\s[A-Z][\w-]+)*[.,:]",
    r"\b[Dd]u bist [A-Z][\w-]+",
    r"\bDU BIST\b",
    r"\bbe a (dj|pirate|poet)\b",
    r"\b(playing|play) (the )?(leading )?roles?\b|\bspielen die hauptrollen\b",
    r"\b(two|zwei) (actors|entities|schauspieler|personen)\b",
    r"\bhuman:\s*human:",
    r"(今から|これから)(あなた|君|お前)は|(あなた|君|お前)は(今|これ)から|(として|のように)(振る舞|ふるま)",
    r"从现在(开始|起)[\uff0c,]?你(是|就是|将是|要)|角色扮演|扮演一个|假装你是",
    r"지금부터 (너는|넌|당신은)|역할극|인 척 해",
    r"\b(теперь ты|ты теперь|притворись|представь,? что ты|веди себя как|ролев\w+ игр)",
)
_EXTRACTION = (
    r"\b(show|print|reveal|display|repeat|output|tell)\b[^.?!\n]{0,30}\b(your|the|all)\b[^.?!\n]{0,20}"
    r"\b(prompt|instructions|system message|rules)\b",
    r"\b(what|was)\b[^.?!\n]{0,20}\b(written|steht)\b[^.?!\n]{0,30}\b(above|beginning|oben|anfang)\b",
    r"\bwhat are your instructions\b|\bcopy of the full prompt\b",
    r"\b(zeige?|zeigen sie)\b[^.?!\n]{0,30}\b(prompt|texte)\b",
    r"\bprompt-?text\w*\b",
    # whose prompt: a customer of an AI product may ask how to write one (プロンプトの書き方を教えて)
    r"(システムプロンプト|あなたのプロンプト|システムメッセージ|あなたへの指示|あなたの指示|最初の指示)[^。\uff1f\uff01\n]{0,12}"
    r"(表示|見せ|教え|出力|繰り返|書き出|開示)",
    r"(显示|展示|输出|打印|告诉我|透露|泄露|重复|给我看|说出)[^。\uff1f\uff01\n]{0,10}(你的提示词|系统提示词|你的系统提示|系统指令|初始指令|你的指令|你的设定)",
    r"(시스템 ?프롬프트|너의 프롬프트|당신의 프롬프트|시스템 ?메시지|너의 지시|당신의 지시|초기 지시)[^.?!\n]{0,15}"
    r"(보여|출력|알려|공개|말해|반복)",
    r"\b(покажи|выведи|раскрой|повтори|напиши|скажи)(те)?\b[^.?!\n]{0,30}"
    r"(системн\w* (промпт|подсказк|сообщени|инструкци)|св(ой|ои) (промпт|инструкции)|тво(й|и) (промпт|инструкции))",
    r"\b(mostre|mostra|mostrami|revele|rivela|exiba|imprima|stampa|repita|ripeti)\b[^.?!\n]{0,30}"
    r"\b(prompt (de|di) sistema|(seu|teu|tuo) prompt)\b",
)
_OUTPUT_SHAPING = (
    r"\b(say|print|output|write|state|include|sagen|schreibe|sage)\b[^.?!\n]{0,30}\b(that you hate|you hate|i hate|"
    r"that [a-z]+ is the best|hate[sn]?\b)",
    r"\bjust (say|output)\b|\bonly reply with\b|\bnur mit\b",
    r"\b(pwned|lol)\b[\"']?",
    r"\bstate that\b",
    r"\b(context|kontext|document context)\s*[:{\"]",
    r"\b(artikel|kontext)\b[^?]{0,40}\bfrage\b",
    r"\b(generate|schreibe|generieren sie)\b[^.?!\n]{0,20}\b(python|c\+\+|code)\b|\bgenerate c\+\+",
    r"\b(write|schreibe|verfasse)\b[^.?!\n]{0,30}\b(poem|essay|manifesto|manifest|gedicht|plädoyer|essay|headline|"
    r"überschrift|begründung)\b",
    r"\buntrue headline\b|\bunwahre überschrift\b",
    r"\bmake something up\b|\boffensive rhyme\b|\bswearwords\b",
    r"\bor you (die|will die)\b|\boder du stirbst\b|\bo tu muertes\b",
    r"(?:\b\w ){6,}",  # s p a c e d - o u t text
    r"(\\n\s*){4,}|(\\ n\s*){4,}",
)
_STRONG_SHAPING = (
    r"\bstate that\b|\bsay yes\b|\bpwned\b|\bmake something up\b|\boffensive rhyme\b|\bswearwords\b",
    r"\b(untrue|unwahre) (headline|überschrift)\b|\b(manifesto|manifest zur)\b",
    r"\bor you (die|will die)\b|\boder du stirbst\b|\bo tu muertes\b",
    r"(?:\b\w ){6,}",
    r"(\\\s?n\s*){4,}",
    r"\binstruction:|\\nblame\b|\$documents?:",
    r"\b(context|kontext|document context)\s*[:{\"]|^\s*(artikel|kontext)\b",
    r"\b(include|say|sag)\b[^.?!\n]{0,20}\byou hate\b|\bdo you hate\b",
    r"\bwrite (me )?a reason why\b|\bschreibe (mir )?(ein|eine) begründung\b",
    r"\b(generate|generieren sie|schreibe)\b[^.?!\n]{0,20}\b(python|c\+\+)",
    r"\bformulate an untrue\b|\bhate speech\b",
    r"\b(forget|vergiss|olvidar|zaboravi|забудьте)\b[^.?!\n]{0,30}\b(all|alles|todo|sve|все)\b",
    r"\b(alle (vorherigen|bisherigen) informationen)\b|\bignorieren und\b",
    r"\bprompt\b[^.?!\n]{0,20}\banswer this question\b|\bsentences before the text\b",
    r"\b(nicht an die dinge zu erinnern|not to remember the things)\b|\bmy name is cheese\b|\bmein name sei\b",
)
_WEIGHTED = (
    (FLAG_INJECTION, 1.0, _STRONG_SHAPING),
    (FLAG_INJECTION, 1.0, _OVERRIDE),
    (FLAG_ROLE_OVERRIDE, 1.0, _ROLE),
    (FLAG_PROMPT_EXTRACTION, 1.0, _EXTRACTION),
    (FLAG_INJECTION, 0.6, _OUTPUT_SHAPING),
)
_COMPILED = tuple((flag, weight, tuple(re.compile(p, _I) for p in patterns)) for flag, weight, patterns in _WEIGHTED)
_CASE_SENSITIVE = {
    r"\b[Yy]ou are (the )?[A-Za-z]*[A-Z][\w-]*(\s[A-Z][\w-]+)*[.,:]",
    r"\b[Dd]u bist [A-Z][\w-]+",
    r"\bDU BIST\b",
}
_COMPILED_CS = tuple(re.compile(p) for p in _CASE_SENSITIVE)


@dataclass(frozen=True)
class InputVerdict:
    flags: tuple[str, ...]
    score: float

    @property
    def flagged(self) -> bool:
        return self.score >= INPUT_THRESHOLD


def check_input(text: str) -> InputVerdict:
    score = 0.0
    flags: list[str] = []
    for flag, weight, patterns in _COMPILED:
        for pattern in patterns:
            matcher = next((cs for cs in _COMPILED_CS if cs.pattern == pattern.pattern), pattern)
            if matcher.search(text):
                score += weight
                if flag not in flags:
                    flags.append(flag)
                break
    return InputVerdict(tuple(flags) if score >= INPUT_THRESHOLD else (), round(score, 2))


# --- output -------------------------------------------------------------------------------------

_CITATION = re.compile(r"\[(\d{1,3})\]")
_SECRET_PATTERNS = (
    re.compile(r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}"),
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"\b(?:sai|sk_live|rk_live|whsec)_[A-Za-z0-9_]{12,}"),
    re.compile(r"\bAIza[0-9A-Za-z_-]{30,}"),
)
_CARD = re.compile(r"\b(?:\d[ -]?){13,19}\b")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_PHONE = re.compile(r"(?<!\w)\+?\d[\d ()-]{7,}\d\b")
LEAK_WINDOW = 8  # this many consecutive words of our instructions in an answer count as a leak (any script)


def citation_indexes(text: str) -> tuple[int, ...]:
    """The passage numbers ``text`` cites as ``[n]``, first citation first, each once."""
    return tuple(dict.fromkeys(int(n) for n in _CITATION.findall(text)))


def uncited(text: str) -> str:
    """Knowledge text as an answer or a prompt may quote it: its own ``[n]`` (a footnote, a Markdown
    reference link ``[form][2]``) in full-width brackets (U+FF3B, U+FF3D), so that only the platform's
    markers cite a passage; a quoted ``[2]`` would list another document as a source, or be reported as a
    citation to a passage not provided."""
    return _CITATION.sub(lambda match: f"\uff3b{match.group(1)}\uff3d", text)


@dataclass(frozen=True)
class OutputVerdict:
    text: str  # the text to keep (citations cleaned, contacts redacted, or the safe reply)
    flags: tuple[str, ...]
    cited_indexes: tuple[int, ...]
    replaced: bool


def masked(text: str) -> str:
    """``text`` with what the output check calls a secret (keys, tokens, a card number whose digits
    pass Luhn) replaced by ``[secret]``: how a flagged text may be kept for staff to review."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub("[secret]", text)

    def card(match: re.Match[str]) -> str:
        number = match.group().rstrip(" -")  # the pattern takes the separator after the last digit too
        return "[secret]" + match.group()[len(number) :] if _luhn_ok(re.sub(r"\D", "", number)) else match.group()

    return _CARD.sub(card, text)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


# A sentence the instructions quote is one they tell the model to say (the handoff sentence): saying
# it follows them, so the windows of the instructions are read around what they quote.
_QUOTED = re.compile(r'"[^"\n]*"')


@lru_cache(maxsize=64)  # the instructions recur on every turn of a tenant
def _instruction_windows(instructions: str) -> frozenset[tuple[str, ...]]:
    return frozenset().union(*(_word_windows(part, LEAK_WINDOW) for part in _QUOTED.split(instructions)))


def _word_windows(text: str, size: int) -> frozenset[tuple[str, ...]]:
    """Every run of ``size`` words, read in any script (``terms.half_words``: two characters of Chinese,
    Japanese or Thai make a word)."""
    units = half_words(text)
    return frozenset(tuple(units[i : i + 2 * size]) for i in range(len(units) - 2 * size + 1))


def check_output(
    text: str,
    *,
    instructions: str,
    passages: tuple[ContextPassage, ...],
    allowed_context: str = "",
    phrases: Phrases = PHRASES[DEFAULT],
) -> OutputVerdict:
    """Check an answer; ``allowed_context`` is text whose contacts may be repeated (question, customer).

    A replaced answer becomes ``phrases.withheld``, in the customer's language."""
    flags: list[str] = []
    if _word_windows(text, LEAK_WINDOW) & _instruction_windows(instructions):
        flags.append(FLAG_PROMPT_LEAK)
    if any(p.search(text) for p in _SECRET_PATTERNS) or any(
        _luhn_ok(re.sub(r"\D", "", m.group())) for m in _CARD.finditer(text)
    ):
        flags.append(FLAG_SECRET)
    if flags:
        return OutputVerdict(phrases.withheld, tuple(flags), (), True)
    provided = {p.index for p in passages}
    source_text = " ".join(p.text for p in passages) + " " + allowed_context

    def keep_citation(match: re.Match[str]) -> str:
        return match.group() if int(match.group(1)) in provided else ""

    cleaned = _CITATION.sub(keep_citation, text)
    if cleaned != text:
        flags.append(FLAG_BAD_CITATION)
    known = {m.group().lower() for m in _EMAIL.finditer(source_text)}
    known_phones = {re.sub(r"\D", "", m.group()) for m in _PHONE.finditer(source_text)}
    redacted = _EMAIL.sub(lambda m: m.group() if m.group().lower() in known else "[contact removed]", cleaned)
    redacted = _PHONE.sub(
        lambda m: m.group() if re.sub(r"\D", "", m.group()) in known_phones else "[contact removed]", redacted
    )
    if redacted != cleaned:
        flags.append(FLAG_FOREIGN_CONTACT)
    return OutputVerdict(redacted, tuple(flags), citation_indexes(redacted), False)
