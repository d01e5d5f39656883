"""The hourly per-IP escalation limit over HTTP counts per client behind a trusted reverse proxy."""

from __future__ import annotations

from ipaddress import ip_network

import pytest
from django.core.cache import cache

from chat.services import conversation_open
from escalations.models import EscalationPolicy
from supportai.models import Tenant
from supportai.tests.forwarded import post_forwarded

pytestmark = pytest.mark.django_db(transaction=True)  # the view runs its database work on the pool (supportai.db)
ORIGIN = "https://alpha.example.com"
PROXY = "10.0.0.2"


def _escalate(tenant: Tenant, *, peer: str, forwarded_for: str) -> int:
    """Ask for a person from a new conversation (one customer each: only the per-IP count is shared)."""
    opened = conversation_open(tenant=tenant, origin=ORIGIN)
    body = {"key": tenant.public_key, "resume_token": opened.resume_token, "reason": "help"}
    return post_forwarded("/api/v1/public/chat/escalate", body, origin=ORIGIN, peer=peer, forwarded_for=forwarded_for)


def test_customers_behind_one_trusted_proxy_have_their_own_limits_and_a_spoofer_does_not(
    tenant: Tenant, always_open: EscalationPolicy, settings
) -> None:
    # given one escalation an hour per client and our proxies in 10.0.0.0/8
    cache.clear()
    settings.TRUSTED_PROXIES = [ip_network("10.0.0.0/8")]
    settings.ESCALATIONS_PER_HOUR = 1
    # when two customers behind the proxy ask for a person, and the first once more
    behind_proxy = [_escalate(tenant, peer=PROXY, forwarded_for=client) for client in ("198.51.100.7", "198.51.100.8")]
    again = _escalate(tenant, peer=PROXY, forwarded_for="198.51.100.7")
    # and a client connecting directly names another address each time
    spoofed = [_escalate(tenant, peer="203.0.113.9", forwarded_for=client) for client in ("192.0.2.1", "192.0.2.2")]
    # then each customer has an escalation of their own, and the spoofer only one
    assert (behind_proxy, again, spoofed) == ([200, 200], 429, [200, 429])
