"""Resume tokens of idle conversations stop working on their own, without the housekeeping job."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from chat import services
from chat.models import Conversation
from chat.services import conversation_expire_idle_resume_tokens, conversation_open, conversation_resume
from chat.tests.conftest import Connect
from supportai.models import Tenant


def _idle_for(opened: services.OpenedConversation, days: float) -> None:
    then = timezone.now() - timedelta(days=days)
    Conversation.objects.filter(pk=opened.conversation.pk).update(last_activity_at=then)


@pytest.mark.django_db
def test_a_token_idle_longer_than_the_setting_does_not_resume_even_without_housekeeping(
    tenant: Tenant, other_tenant: Tenant, settings: Any
) -> None:
    # given two conversations, one idle past CHAT_RESUME_IDLE_DAYS (no cleanup ran), one just within it
    settings.CHAT_RESUME_IDLE_DAYS = 30
    idle, recent = conversation_open(tenant=tenant), conversation_open(tenant=tenant)
    _idle_for(idle, 31)
    _idle_for(recent, 29)
    # when their tokens come back, then only the recent one resumes, and only for its own tenant
    assert conversation_resume(tenant=tenant, resume_token=idle.resume_token) is None
    assert conversation_resume(tenant=tenant, resume_token=recent.resume_token) == recent.conversation
    assert conversation_resume(tenant=other_tenant, resume_token=recent.resume_token) is None


@pytest.mark.django_db
def test_expiry_spares_a_conversation_that_became_active_while_the_job_ran(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an idle conversation that the customer resumes and writes in just as the job reaches it
    opened = conversation_open(tenant=tenant)
    _idle_for(opened, 40)
    real_token_hex = services.secrets.token_hex

    def customer_writes_meanwhile(nbytes: int) -> str:
        Conversation.objects.filter(pk=opened.conversation.pk).update(last_activity_at=timezone.now())
        return real_token_hex(nbytes)

    monkeypatch.setattr(services.secrets, "token_hex", customer_writes_meanwhile)
    # when the job expires idle tokens
    expired = conversation_expire_idle_resume_tokens(idle_for=timedelta(days=30))
    # then the now active conversation keeps its token
    assert expired == 0
    assert conversation_resume(tenant=tenant, resume_token=opened.resume_token) == opened.conversation


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_widget_resuming_an_idle_token_gets_a_new_conversation(
    connect: Connect, tenant: Tenant, settings: Any
) -> None:
    # given a widget whose conversation has been idle for longer than CHAT_RESUME_IDLE_DAYS
    settings.CHAT_RESUME_IDLE_DAYS = 30
    first = await connect(tenant)
    then = timezone.now() - timedelta(days=31)
    await Conversation.objects.filter(pk=first.ready["conversation_id"]).aupdate(last_activity_at=then)
    # when it reconnects with its token
    again = await connect(tenant, resume=first.ready["resume_token"])
    # then it starts afresh, with no history of the old conversation
    assert again.ready["conversation_id"] != first.ready["conversation_id"]
    assert again.ready["resume_token"] != first.ready["resume_token"]
    assert again.ready["history"] == []
