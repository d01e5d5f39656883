"""The reasons a customer gives accumulate on their open escalation, bounded: the first and the latest are
kept whole, one line each, and the reasons between them that do not fit are counted, and said to be left
out, where staff read them."""

from __future__ import annotations

import pytest
import regex
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client

from escalations.models import Escalation
from escalations.reasons import MAX_ONE_REASON_CHARS, MAX_REASON_CHARS, clip
from escalations.services import escalation_raise
from escalations.tests.conftest import ALWAYS, set_hours
from escalations.tests.factories import ConversationFactory
from escalations.triggers import ReasonCode, TriggerHit
from supportai.models import Tenant

pytestmark = pytest.mark.django_db
HUMAN = TriggerHit(ReasonCode.HUMAN_REQUEST, "talk to a human")
FAMILY = "\U0001f469\u200d\U0001f469\u200d\U0001f467"  # one grapheme of five code points
ACCENTED = "e\u0301"  # é as a letter and a combining accent


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    cache.clear()


def _asked(tenant: Tenant, *reasons: str) -> Escalation:
    set_hours(tenant, ALWAYS)
    conversation = ConversationFactory.create(tenant=tenant)
    for reason in reasons:
        escalation_raise(tenant=tenant, conversation_id=conversation.pk, hits=[HUMAN], reason=reason)
    return Escalation.objects.get(conversation=conversation)


def test_the_first_and_the_latest_reasons_are_kept_and_those_between_counted(tenant: Tenant) -> None:
    # given a customer giving 30 different reasons of 190 characters, 5,700 in all
    reasons = [f"reason {n:02d} " + "x" * 180 for n in range(30)]
    # when each is a raise on their open escalation
    escalation = _asked(tenant, *reasons)
    # then it reads the first, a line saying how much was left out, and the latest that fit, in order
    lines = escalation.reason.splitlines()
    kept = len(lines) - 2
    assert lines[0] == reasons[0] and lines[2:] == reasons[-kept:]
    omitted = sum(len(reason) for reason in reasons[1:-kept])
    assert lines[1] == f"[… {omitted:,} characters omitted …]"
    assert escalation.reason_left_out == omitted
    assert len(escalation.reason) <= MAX_REASON_CHARS and kept >= 8


def test_the_latest_reason_is_kept_whole_after_the_text_is_full(tenant: Tenant) -> None:
    # given reasons filling the escalation's reason, then one more of the longest a customer can give
    last = "please call me back " + "z" * (MAX_ONE_REASON_CHARS - 20)
    escalation = _asked(tenant, "first " + "a" * 900, "second " + "b" * 900, "third " + "c" * 900, last)
    # then the first and that latest are whole; the rest is counted
    lines = escalation.reason.splitlines()
    assert lines == ["first " + "a" * 900, "[… 1,813 characters omitted …]", last]
    assert escalation.reason_left_out == 1813


def test_a_reason_is_one_line_clipped_between_graphemes(tenant: Tenant) -> None:
    # given a reason with line breaks (U+2028 too), and one longer than a reason may be, of graphemes
    # several code points long
    long = ACCENTED * 300 + FAMILY * 300
    escalation = _asked(tenant, "line one\nline two\u2028Agent: you are refunded", long)
    # then each is one line, and the long one ends in an ellipsis after a whole grapheme
    first, second = escalation.reason.splitlines()
    assert first == "line one / line two / Agent: you are refunded"
    assert second.endswith("…") and len(second) <= MAX_ONE_REASON_CHARS
    clusters = regex.findall(r"\X", second.removesuffix("…"))
    assert set(clusters) == {FAMILY, ACCENTED}
    assert clip(ACCENTED * 10, 4) == ACCENTED + "…"  # never an e whose accent was cut off


def test_a_reason_given_again_is_not_repeated(tenant: Tenant) -> None:
    escalation = _asked(tenant, "I need help", "help", "I need help")
    assert escalation.reason == "I need help\nhelp" and escalation.reason_left_out == 0


def test_staff_see_that_reasons_were_left_out(tenant: Tenant, agent: User, outsider: User) -> None:
    # given an escalation whose reasons were too many to keep
    escalation = _asked(tenant, *[f"reason {n} " + "y" * 400 for n in range(8)])
    assert escalation.reason_left_out > 0
    # when an agent opens it in the inbox
    client = Client()
    client.force_login(agent)
    page = client.get(f"/console/inbox/{escalation.pk}/").content.decode()
    # then the page shows the first reason, the count left out and the latest, each on its own line
    assert f"reason 0 {'y' * 400}<br>[… {escalation.reason_left_out:,} characters omitted …]<br>" in page
    # and another tenant's owner does not get it
    client.force_login(outsider)
    assert client.get(f"/console/inbox/{escalation.pk}/").status_code == 404
