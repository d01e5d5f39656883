"""The console conversation page's transcript is a log named "Transcript", as the inbox's is: a screen
reader reads out each turn added live, and the page has no other live region (its facts, a status or
cost redrawn, are never read out)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import User
from django.test import Client

from chat.models import Conversation, Message, MessageRole
from chat.services import conversation_open
from supportai.models import Tenant

pytestmark = pytest.mark.django_db

LIVE_ROLES = frozenset({"log", "status", "alert", "marquee", "timer"})
VOID_TAGS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})


@dataclass
class Region:
    attrs: dict[str, str | None]
    inside: set[str] = field(default_factory=set)  # the id or data-message of each element in it


class LiveRegions(HTMLParser):
    """Each live region of a page: an element with ``aria-live`` or a live role."""

    def __init__(self) -> None:
        super().__init__()
        self.regions: list[Region] = []
        self._open: list[tuple[str, Region | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        name = named.get("id") or named.get("data-message")
        for _, around in self._open:
            if around is not None and name:
                around.inside.add(name)
        region = Region(named) if named.get("role") in LIVE_ROLES or "aria-live" in named else None
        if region is not None:
            self.regions.append(region)
        if tag not in VOID_TAGS:
            self._open.append((tag, region))

    def handle_endtag(self, tag: str) -> None:
        while self._open and self._open.pop()[0] != tag:
            pass


def _with_turns(tenant: Tenant) -> tuple[Conversation, list[Message]]:
    conversation = conversation_open(tenant=tenant).conversation
    turns = [
        Message.objects.create(tenant=tenant, conversation=conversation, role=role, text=text)
        for role, text in [(MessageRole.CUSTOMER, "Do you open on Sundays?"), (MessageRole.ASSISTANT, "No.")]
    ]
    return conversation, turns


def test_the_conversation_page_transcript_is_its_only_live_region_a_log_named_transcript(
    agent: User, tenant: Tenant
) -> None:
    # given a conversation of two turns
    conversation, turns = _with_turns(tenant)
    client = Client()
    client.force_login(agent)
    # when an agent opens its page
    response = client.get(f"/console/conversations/{conversation.pk}/")
    # then the one live region is the transcript: a log named "Transcript" holding the list and each turn
    assert response.status_code == 200
    parser = LiveRegions()
    parser.feed(response.content.decode())
    (region,) = parser.regions
    assert region.attrs["role"] == "log" and region.attrs["aria-label"] == "Transcript"
    assert region.attrs.get("aria-live", "polite") == "polite"  # a log is polite unless it says otherwise
    assert region.inside == {"transcript", *(f"m{turn.pk}" for turn in turns)}
