"""Proposal decisions over HTTP count per client behind a trusted reverse proxy (X-Forwarded-For)."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from bookings.models import Service
from bookings.tests.test_public_api import REJECT, propose
from chat import limits
from chat.services import conversation_open
from supportai.models import Tenant
from supportai.tests.forwarded import post_forwarded

pytestmark = pytest.mark.django_db
ORIGIN = "https://alpha.example.com"
PROXY = "10.0.0.2"


def _reject(body: dict[str, str], *, peer: str, forwarded_for: str) -> int:
    return post_forwarded(REJECT, body, origin=ORIGIN, peer=peer, forwarded_for=forwarded_for)


def test_customers_behind_one_trusted_proxy_have_their_own_limits_and_a_spoofer_does_not(
    tenant: Tenant, service: Service, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given one decision a minute per client and our proxies in 10.0.0.0/8
    settings.TRUSTED_PROXIES = [ip_network("10.0.0.0/8")]
    settings.CHAT_MESSAGES_PER_MINUTE_PER_IP = 1
    monkeypatch.setattr(limits, "wall_clock", lambda: 1_800_000_010.0)  # every post in one minute bucket
    opened = conversation_open(tenant=tenant, origin=ORIGIN, channel="api")
    proposal = propose(tenant, opened, service)
    body = {"key": tenant.public_key, "resume_token": opened.resume_token, "proposal_id": str(proposal.public_id)}
    # when two customers behind the proxy decide, and the first once more
    behind_proxy = [_reject(body, peer=PROXY, forwarded_for=client) for client in ("198.51.100.7", "198.51.100.8")]
    again = _reject(body, peer=PROXY, forwarded_for="198.51.100.7")
    # and a client connecting directly names another address each time
    spoofed = [_reject(body, peer="203.0.113.9", forwarded_for=client) for client in ("192.0.2.1", "192.0.2.2")]
    # then each customer has a decision of their own, and the spoofer only one
    assert (behind_proxy, again, spoofed) == ([200, 200], 429, [200, 429])
