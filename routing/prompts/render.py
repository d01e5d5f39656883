"""Render the system prompt for a turn as provider blocks, and name the template version by hash.

Block order is chosen for prompt caching: the stable instructions first (base + tier + modality,
identical for every turn of a tenant), then the knowledge passages, then the customer context.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from routing.contracts import ContextPassage, Modality
from routing.guardrails import uncited
from routing.prompts import templates
from routing.providers.base import SystemBlock

PROMPT_NAME = "support-base"


def template_source() -> str:
    """Every template, in a fixed order: the text whose hash names the prompt version."""
    parts = [templates.BASE]
    parts += [f"tier {tier}\n{text}" for tier, text in sorted(templates.TIER.items())]
    parts += [f"modality {name}\n{text}" for name, text in sorted(templates.MODALITY.items())]
    parts += [templates.CUSTOMER, templates.KNOWLEDGE, templates.NO_KNOWLEDGE, templates.PASSAGE]
    return "\n\n----\n\n".join(parts)


TEMPLATE_SHA256 = hashlib.sha256(template_source().encode()).hexdigest()


@dataclass(frozen=True)
class TenantVoice:
    company: str
    assistant_name: str
    support_contact: str
    team_name: str = "our support team"


def instructions(voice: TenantVoice, *, tier: int, modality: Modality) -> str:
    parts = [templates.BASE.format(**voice.__dict__)]
    if tier in templates.TIER:
        parts.append(templates.TIER[tier])
    if templates.MODALITY.get(modality):
        parts.append(templates.MODALITY[modality])
    return "\n\n".join(parts)


# A <passage> or </passage> tag written in knowledge text (any case or spacing): it must not open or
# close a passage, or the text after it would read as part of the instructions.
_PASSAGE_TAG = re.compile(r"<(?=\s*/?\s*passage\b)", re.IGNORECASE)


def _quoted(text: str) -> str:
    return _PASSAGE_TAG.sub("&lt;", text)


def knowledge_block(passages: tuple[ContextPassage, ...]) -> str:
    """The passages, each fenced in ``<passage>`` tags that its own title, URL or text cannot close, and
    headed by its ``[index]``, the only citation marker in the block (``guardrails.uncited``)."""
    if not passages:
        return templates.NO_KNOWLEDGE
    rendered = [
        templates.PASSAGE.format(
            index=p.index,
            title=uncited(_quoted(p.title.strip())) or "Untitled",
            url=f" ({_quoted(p.url)})" if p.url else "",
            text=uncited(_quoted(p.text.strip())),
        )
        for p in passages
    ]
    return templates.KNOWLEDGE.format(passages="\n\n".join(rendered))


def system_blocks(
    voice: TenantVoice,
    *,
    tier: int,
    modality: Modality,
    passages: tuple[ContextPassage, ...],
    customer_context: str = "",
) -> tuple[SystemBlock, ...]:
    blocks = [
        SystemBlock(instructions(voice, tier=tier, modality=modality), cacheable=True),
        SystemBlock(knowledge_block(passages), cacheable=True),
    ]
    if customer_context.strip():
        blocks.append(SystemBlock(templates.CUSTOMER.format(customer_context=customer_context.strip())))
    return tuple(blocks)
