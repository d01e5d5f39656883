"""The per-IP limits count an IPv6 client by its /64, the block one subscriber is given whole.

A client with an IPv6 /64 (any home connection or server has one) can send every request from
another of its 2^64 addresses; counted by address, the messages, new conversations, escalations and
booking-proof limits limited nothing for it.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from bookings import limits as booking_limits
from chat import limits as chat_limits
from chat.services import conversation_open
from escalations.tests.conftest import ALWAYS, set_hours
from supportai.client_address import limit_key
from supportai.models import Tenant
from supportai.tests.forwarded import post_forwarded

pytestmark = pytest.mark.django_db(transaction=True)  # the public views run their database work on the pool
ORIGIN = "https://alpha.example.com"
ONE, SAME_BLOCK, OTHER_BLOCK = "2001:db8:1:2::a", "2001:db8:1:2:ffff:1:2:3", "2001:db8:1:3::a"


@pytest.fixture(autouse=True)
def one_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    cache.clear()
    monkeypatch.setattr(chat_limits, "wall_clock", lambda: 1_800_000_010.0)  # every request in one minute bucket


def _message(tenant: Tenant, peer: str, *, resume_token: str | None = None) -> int:
    body: dict[str, Any] = {"key": tenant.public_key, "client_id": f"m-{peer}", "text": "Hello?"}
    if resume_token:
        body["resume_token"] = resume_token
    return post_forwarded("/api/v1/public/chat/messages", body, origin=ORIGIN, peer=peer, forwarded_for="")


def test_messages_from_one_ipv6_block_share_their_limit(tenant: Tenant, settings: Any) -> None:
    settings.CHAT_MESSAGES_PER_MINUTE_PER_IP = 1
    # given one message of the minute from an address, in an open conversation
    opened = conversation_open(tenant=tenant, origin=ORIGIN, channel="api")
    assert _message(tenant, ONE, resume_token=opened.resume_token) == 200
    # when another address of its /64 writes, and one of another /64
    same_block = _message(tenant, SAME_BLOCK, resume_token=opened.resume_token)
    other_block = _message(tenant, OTHER_BLOCK, resume_token=opened.resume_token)
    # then the first is the same client, over its limit; the second another one
    assert (same_block, other_block) == (429, 200)


def test_new_conversations_from_one_ipv6_block_share_their_limit(tenant: Tenant, settings: Any) -> None:
    settings.CHAT_CONVERSATIONS_PER_MINUTE_PER_IP = 1
    assert _message(tenant, ONE) == 200
    assert (_message(tenant, SAME_BLOCK), _message(tenant, OTHER_BLOCK)) == (429, 200)


def test_escalations_from_one_ipv6_block_share_their_limit(tenant: Tenant, settings: Any) -> None:
    settings.ESCALATIONS_PER_HOUR = 1
    set_hours(tenant, ALWAYS, team_name="care team")

    def escalate(peer: str) -> int:  # a new conversation each: only the per-IP count is shared
        opened = conversation_open(tenant=tenant, origin=ORIGIN)
        body = {"key": tenant.public_key, "resume_token": opened.resume_token, "reason": "help"}
        return post_forwarded("/api/v1/public/chat/escalate", body, origin=ORIGIN, peer=peer, forwarded_for="")

    assert escalate(ONE) == 200
    assert (escalate(SAME_BLOCK), escalate(OTHER_BLOCK)) == (429, 200)


def test_failed_booking_proofs_from_one_ipv6_block_share_their_limit(tenant: Tenant) -> None:
    # given an address that failed every proof its IP may fail, each from a conversation of its own
    for attempt in range(booking_limits.IP_FAILURES):
        booking_limits.proof_failed(conversation_id=1_000 + attempt, ip=ONE)
    # then another address of its /64 may try no more, from a fresh conversation; another /64 may
    assert not booking_limits.proof_allowed(conversation_id=2_000, ip=SAME_BLOCK)
    assert booking_limits.proof_allowed(conversation_id=2_001, ip=OTHER_BLOCK)


@pytest.mark.parametrize(
    ("ip", "counted_as"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("::ffff:198.51.100.7", "198.51.100.7"),  # one IPv4 client, however the socket saw it
        (SAME_BLOCK, "2001:db8:1:2::/64"),
        ("", ""),  # the server does not know the client: no per-IP count
    ],
)
def test_limit_key_names_the_client_the_limits_count(ip: str, counted_as: str) -> None:
    assert limit_key(ip) == counted_as
