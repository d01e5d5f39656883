"""The phrasings each text trigger recognises (English, Spanish, French, German, Portuguese,
Italian, Dutch). Patterns run on ``normalize``d text: lower case, no accents, typos corrected.

Rules of thumb: a *person* word alone never escalates ("I'm a human resources manager"); it needs a
contact verb or a request around it. A problem word alone ("down", "claim", "privacy") needs the
thing it is about.
"""

from __future__ import annotations

import re


def _any(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


_ART = (
    r"(?:(?:a|an|the|one|some|your|one of your|any|real|live|actual|proper|human|customer service|support"
    r"|bloody|fucking|freaking|damn|goddamn|flipping)\s+)*"
)
_PERSON_EN = (
    r"(?:human(?:s)?(?!\s+(?:resources|rights|error|nature|hair|body|free))(?:\s+being)?|person|people"
    r"|someone|somebody|anyone|anybody|operator|agent|agents|representative|rep|staff(?: member)?|employee"
    r"|advisor|adviser|assistant|associate|manager|supervisor|team member|member of (?:your|the) (?:team|staff))\b"
)
_HUMAN_ONLY = (
    r"(?:human(?! resources| rights| error)|real person|live person|actual person|live agent|human agent"
    r"|operator|representative)\b"
)

HUMAN_REQUEST = _any(
    # English: a contact verb aimed at a person.
    rf"\b(?:talk|talking|speak|speaking|chat|chatting|communicate|converse|discuss this)\s+(?:to|with)\s+"
    rf"{_ART}{_PERSON_EN}",
    rf"\b(?:contact|contacting|reach|call|get hold of|get in touch with|get through to|connect me (?:to|with)"
    rf"|transfer me(?: to)?|put me through to|(?:re)?direct (?:me )?to(?: me)?|forward me to"
    rf"|escalate (?:this |me )?to|hand me (?:over )?to|pass me (?:on )?to)"
    rf"\s+{_ART}{_PERSON_EN}",
    rf"\b(?:want|need|give me|get me|request|prefer|bring me|looking for)\s+{_ART}{_HUMAN_ONLY}",
    r"^(?:a\s+)?(?:human|real person|live agent|human agent|operator|representative|agent)"
    r"(?:\s+(?:please|pls|now|asap))?[\s.!?]*$",
    r"\b(?:not|don't|do not|dont|stop|no more)\s+(?:want\s+(?:to\s+)?)?(?:talk(?:ing)?|speak(?:ing)?|chat(?:ting)?)\s+"
    r"(?:to|with)\s+(?:a|an|the)?\s*(?:bot|robot|machine|ai|computer)\b",
    # Spanish
    r"\b(?:hablar|hable|chatear|comunicarme|contactar|conversar)\s+(?:con|a)\s+(?:un|una|el|la|algun|alguna|ser)?\s*"
    r"(?:humano|persona|agente|operador|operadora|representante|asesor|asesora|alguien|empleado|ser humano)",
    r"\b(?:quiero|necesito|prefiero)\s+(?:un|una)\s+(?:humano|persona real|agente humano|operador|operadora)",
    r"\b(?:persona real|agente humano|atencion humana)\b",
    # French
    r"\bparler\s+(?:a|avec)\s+(?:un|une|quelqu'un|quelqu un|un vrai|une vraie|un etre)?\s*"
    r"(?:humain|personne|conseiller|conseillere|agent|operateur|operatrice|etre humain|quelqu'un|quelqu un)",
    r"\b(?:je veux|je voudrais|j'aimerais|j aimerais)\s+(?:un|une)\s+(?:humain|vraie personne|conseiller|agent)",
    r"\b(?:vrai humain|vraie personne|conseiller humain)\b",
    # German
    r"\b(?:mit)\s+(?:einem|einer|jemandem|einem echten|einer echten)?\s*(?:echten\s+|realen\s+|menschlichen\s+)?"
    r"(?:menschen|mitarbeiter|mitarbeiterin|berater|beraterin|kundenberater|person|agenten|jemandem|ansprechpartner|sachbearbeiter)"
    r"\s+(?:\w+\s+){0,2}(?:sprechen|reden|chatten|verbunden|verbinden)",
    r"\b(?:sprechen|reden)\s+mit\s+(?:einem|einer|jemandem)",
    r"\b(?:echten menschen|echter mensch|menschlichen mitarbeiter|menschlichen ansprechpartner)\b",
    # Portuguese
    r"\b(?:falar|conversar|contatar|contactar)\s+com\s+(?:um|uma|alguem|o|a)?\s*"
    r"(?:humano|pessoa|atendente|agente|operador|operadora|representante|alguem|ser humano)",
    r"\b(?:pessoa real|atendente humano|atendimento humano)\b",
    # Italian
    r"\b(?:parlare|parlo|chattare)\s+con\s+(?:un|una|uno|qualcuno|l'|un')?\s*"
    r"(?:operatore|operatrice|persona|umano|agente|essere umano|qualcuno|consulente|addetto)",
    r"\b(?:persona reale|operatore umano)\b",
    # Dutch
    r"\b(?:spreken|praten|chatten)\s+met\s+(?:een|iemand|de)?\s*(?:echte\s+)?(?:mens|medewerker|persoon|iemand)",
    r"\bmet\s+(?:een|iemand)\s+(?:echte\s+)?(?:mens|medewerker|persoon)?\s*(?:spreken|praten)",
    r"\b(?:echte mens|echt persoon|menselijke medewerker)\b",
)

FRUSTRATION_WORDS = re.compile(
    r"\b(?:terrible|awful|worst|horrible|horrendous|useless|ridiculous|pathetic|unacceptable|disgusting|disgraceful"
    r"|incompetent|scam|rip ?off|joke|furious|angry|livid|fed up|sick of|sick and tired|hate|hopeless|garbage|rubbish"
    r"|trash|nightmare|shameful|disgrace|wtf|stupid|idiot|idiotic|annoyed|frustrated|frustrating|infuriating"
    r"|outrageous|fuck\w*|shit\w*|damn\w*|goddamn\w*|bloody|crap\w*"
    r"|pesimo|inutil|vergonzoso|vergonzosa|horrible|nul|inadmissible|honteux|honteuse|lamentable"
    r"|schrecklich|furchtbar|unverschamt|katastrophal|nutzlos|unmoglich|pessimo|pessima|inutile|vergognoso"
    r"|vergonhoso|vreselijk|waardeloos|belachelijk|schandalig)\b"
)
EXCLAMATIONS = re.compile(r"!{2,}|(?:!.*){3,}")

SECURITY = _any(
    r"\b(?:hacked|hacker|hackers|hacking|compromised|hijacked|taken over|phishing|identity theft|stolen identity)\b",
    r"\bunauthori[sz]ed\s+(?:access|login|log in|sign in|charge|charges|transaction|transactions|activity"
    r"|purchase|use)\b",
    r"\b(?:someone|somebody|a stranger|another person)\s+(?:else\s+)?(?:has\s+)?"
    r"(?:logged|accessed|is using|used|got into"
    r"|broke into|changed|reset|is in|has access to)\s+(?:into\s+|in to\s+)?my\s+(?:account|password|email|profile)",
    r"\bstole\s+my\s+(?:identity|card|account|password|data|details)",
    r"\b(?:data|security|privacy)\s+(?:breach|leak|incident|violation)\b",
    r"\bmy\s+(?:personal\s+)?(?:data|information|details|info|password|card details)\s+"
    r"(?:was|were|has been|have been|got|is being)"
    r"\s+(?:leaked|stolen|exposed|shared|sold|hacked|misused)",
    r"\b(?:gdpr|rgpd|dsgvo|lgpd|ccpa|right to be forgotten|data (?:subject )?access request|subject access request)\b",
    r"\b(?:delete|erase|remove)\s+(?:all\s+)?(?:of\s+)?my\s+(?:personal\s+)?(?:data|information|records)\b",
    r"\bprivacy\s+(?:concern|concerns|issue|problem|complaint|violation)\b",
    r"\bsuspicious\s+(?:login|log in|sign in|activity|email|charge|transaction)s?\b",
    r"\bfraud(?:ulent)?\b",
    r"\b(?:hackeado|hackeada|hackearon|pirate|piratee|gehackt|hackerato|hackerata|invadida|invadido)\b",
    r"\b(?:violacion de datos|fuite de donnees|datenleck|violazione dei dati|vazamento de dados|datalek)\b",
)

BILLING_DISPUTE = _any(
    r"\bdisput(?:e|ed|es|ing)\b",
    r"\bover ?charg(?:e|ed|es|ing)\b",
    r"\bdouble[ ]?(?:charg|bill)(?:ed|e|es|ing)\b",
    r"\bcharged\s+(?:me\s+)?(?:twice|double|two times|wrong(?:ly)?|incorrectly|too much|again|without)",
    r"\b(?:wrong|incorrect|unauthori[sz]ed|unexpected|duplicate|mystery)\s+(?:charge|charges|amount|bill|invoice|payment|fee)\b",
    r"\b(?:billing|invoice|payment)\s+(?:error|mistake|dispute)\b",
    r"\b(?:bill|invoice|charge|statement)\s+(?:is|was)\s+(?:wrong|incorrect)\b",
    r"\bchargeback\b",
    r"\b(?:cobro (?:indebido|doble|incorrecto)|me cobraron|factura incorrecta|preleve deux fois|facture erronee"
    r"|doppelt abgebucht|falsche rechnung|addebito errato|cobranca indevida|dubbel afgeschreven)\b",
)
AMOUNT = re.compile(
    r"(?:(?P<pre>[$€£]|usd|eur|gbp|cad|aud|chf)\s?(?P<a>\d[\d.,]*))"
    r"|(?:(?P<b>\d[\d.,]*)\s?(?P<post>[$€£]|usd|eur|gbp|cad|aud|chf|dollars?|euros?|pounds?|bucks)\b)"
)

LEGAL = _any(
    r"\b(?:lawyer|lawyers|attorney|attorneys|solicitor|solicitors|lawsuit|litigation|legal action|legal proceedings"
    r"|legal advice|legal counsel|small claims|court case|class action|ombudsman|better business bureau"
    r"|trading standards)\b",
    r"\bsue\s+(?:you|your|the|this|them|over)\b|\bsuing\b",
    r"\b(?:take|taking|see)\s+(?:you|this|them|your company)\s+(?:to|in)\s+court\b",
    r"\bconsumer protection\s+(?:agency|bureau|office|authority)\b",
    r"\b(?:abogado|abogados|demanda judicial|accion legal|avocat|avocats|poursuites|action en justice"
    r"|anwalt|rechtsanwalt"
    r"|klage einreichen|rechtliche schritte|avvocato|azione legale|advogado|processo judicial|acao judicial|advocaat"
    r"|rechtszaak|juridische stappen)\b",
)

COMPLAINT = _any(
    r"(?<!no )(?<!not a )(?<!any )(?<!without )\b(?:complaint|complaints|reclamation|reclamations|reclamacion|queja"
    r"|quejas|plainte|beschwerde|reklamation|reclamo|reclamacao|klacht)\b",
    r"\b(?:file|lodge|make|submit|raise|register|open|put in|filing|lodging|making|submitting|raising|enter)\s+"
    r"(?:a|an|my|the|this)?\s*(?:[a-z']+\s+){0,2}claims?\b",
    r"\bclaims?\s+against\b",
    r"(?<!not )(?<!can't )(?<!cannot )(?<!won't )\b(?:complain|complaining)\b",
    r"\b(?:want|wish|would like|need)\s+to\s+complain\b",
)
COMPLAINT_NEGATED = re.compile(
    r"\b(?:no|any|not a|without)\s+complaints?\b|\b(?:not|can't|cannot)\s+complain(?:ing)?\b"
)

OUTAGE = _any(
    r"\b(?:site|website|web site|app|application|system|systems|service|services|server|servers|platform|portal"
    r"|checkout|login page|booking system|payment system|online booking|everything|api|dashboard)\s+"
    r"(?:is\s+|are\s+|seems\s+|seem\s+|appears\s+|looks\s+|'s\s+|s\s+|has\s+been\s+|have\s+been\s+|went\s+|keeps\s+)?"
    r"(?:to\s+be\s+)?(?:completely\s+|totally\s+|still\s+)?(?:down|offline|unreachable|crashed|crashing|dead"
    r"|not (?:working|loading|responding)|unavailable)\b",
    r"\b(?:outage|outages|service (?:disruption|interruption)|downtime)\b",
    r"\b(?:error|status|http)\s+50[0234]\b|\b50[234] (?:bad gateway|service unavailable|gateway timeout)\b",
    r"\bnothing\s+(?:is\s+)?(?:working|loads|loading|works)\b",
    r"\b(?:nobody|no one)\s+(?:can|is able to)\s+(?:log ?in|book|pay|access)\b",
    r"\b(?:caida del servicio|servicio caido|hors service|en panne|panne generale|ausfall|storung|fuori servizio"
    r"|disservizio|fora do ar|servico indisponivel|storing)\b",
)

REFUND_AUTHORIZATION = _any(
    r"\b(?:authori[sz]e|approve|sign off on|override)\s+(?:a|an|my|the|this)?\s*(?:full\s+|partial\s+)?refund\b",
    r"\brefund\s+(?:exception|override|approval|authori[sz]ation)\b",
    r"\bexception\s+to\s+(?:the|your)\s+refund policy\b",
    r"\brefund\s+(?:outside|beyond|after)\s+(?:the|your)\s+(?:policy|window|deadline|30 days|period)\b",
    r"\b(?:manager|supervisor)\s+(?:to\s+)?(?:approve|authori[sz]e)\b",
)

NOT_HELPED = _any(
    r"\b(?:that|this|it|your answer|you)\s+(?:didn't|did not|didnt|doesn't|does not|doesnt|don't|dont|do not)\s+help\b",
    r"\b(?:not|wasn't|isn't|unhelpful)\s*(?:very\s+)?helpful\b|\bunhelpful\b",
    r"\b(?:that's|thats|that is|this is|it's|its)\s+not\s+what\s+i\s+(?:asked|meant|need|needed|wanted|want)\b",
    r"\byou\s+(?:didn't|did not|didnt|haven't|have not)\s+answer",
    r"\b(?:doesn't|does not|didn't|did not)\s+answer\s+my\s+question\b",
    r"\bstill\s+(?:doesn't|does not|don't|not|isn't|won't)\s+work",
    r"\bstill\s+(?:have|having|got)\s+the\s+(?:same\s+)?(?:problem|issue)\b",
    r"\b(?:wrong answer|you misunderstood|you don't understand|you do not understand|you're not listening)\b",
    r"\b(?:no me ayudo|no me ayuda|no sirve|eso no es lo que pregunte|ca ne m'aide pas|ne m'a pas aide|hilft mir nicht"
    r"|hat nicht geholfen|nao ajudou|nao me ajudou|non mi aiuta|non mi ha aiutato|helpt niet|heeft niet geholpen)\b",
)
