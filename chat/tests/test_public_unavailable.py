"""Our database failing under the handoff and proposal endpoints, or under any public endpoint's widget
key lookup, is the protocol's ``unavailable`` error (503), logged: never Django's 500 with a traceback."""

from __future__ import annotations

import uuid

import pytest

from chat import public_http
from chat.models import Conversation
from chat.tests.db_failures import (
    STATEMENT_TIMEOUT,
    Fail,
    assert_unavailable,
    failure_logs,
    first_turn,
    post,
)
from chat.tests.urls_under_test import CONFIRM, ESCALATE, MESSAGES, REJECT
from escalations.models import Escalation
from supportai.models import Tenant

pytestmark = pytest.mark.django_db(transaction=True)  # the views run their database work on the pool

OTHER_ORIGIN = "https://bravo.example.com"  # other_tenant's


def test_escalate_whose_resume_fails_in_the_database_is_unavailable_and_a_retry_escalates(
    tenant: Tenant, other_tenant: Tenant, fail: Fail, caplog: pytest.LogCaptureFixture
) -> None:
    # given a conversation
    first = first_turn(tenant)
    body = {"key": tenant.public_key, "resume_token": first["resume_token"], "reason": "help"}
    # when resuming it for the handoff fails in the database
    fail("conversation_resume", STATEMENT_TIMEOUT)
    response = post(body, ESCALATE)
    # then unavailable, logged with the tenant, and nothing raised
    assert_unavailable(response)
    [logged] = failure_logs(caplog)
    assert f"tenant {tenant.pk}" in logged.getMessage() and logged.exc_info is not None
    assert not Escalation.objects.exists()
    # and the retry hands the conversation over, to this tenant only
    again = post(body, ESCALATE)
    assert again.status_code == 200, again.content
    escalation = Escalation.objects.get(pk=again.json()["escalation_id"])
    assert (escalation.tenant_id, escalation.conversation_id) == (tenant.pk, first["conversation_id"])
    assert not Escalation.objects.filter(tenant=other_tenant).exists()


@pytest.mark.parametrize("path", [CONFIRM, REJECT])
def test_a_proposal_decision_whose_resume_fails_in_the_database_is_unavailable(
    tenant: Tenant, other_tenant: Tenant, fail: Fail, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    # given a conversation
    first = first_turn(tenant)
    body = {"key": tenant.public_key, "resume_token": first["resume_token"], "proposal_id": str(uuid.uuid4())}
    # when resuming it for the decision fails in the database
    fail("conversation_resume", STATEMENT_TIMEOUT)
    response = post(body, path)
    # then unavailable, logged with the tenant
    assert_unavailable(response)
    [logged] = failure_logs(caplog)
    assert f"tenant {tenant.pk}" in logged.getMessage() and logged.exc_info is not None
    # and the retry is answered again (that proposal is none of this conversation's), as is another tenant's key
    assert post(body, path).status_code == 404
    assert post({**body, "key": other_tenant.public_key}, path, origin=OTHER_ORIGIN).status_code == 404


@pytest.mark.parametrize("path", [MESSAGES, f"{MESSAGES}/stream", ESCALATE, CONFIRM, REJECT])
def test_a_widget_key_lookup_failing_in_the_database_is_unavailable(
    tenant: Tenant, fail: Fail, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    # when looking up the request's widget key fails in the database
    fail("tenant_get_by_public_key", STATEMENT_TIMEOUT, where=public_http)
    body = {"key": tenant.public_key, "client_id": "k-1", "text": "Hello?", "resume_token": "made-up"}
    response = post({**body, "proposal_id": str(uuid.uuid4())}, path)
    # then unavailable, logged, and nothing stored
    assert_unavailable(response)
    [logged] = failure_logs(caplog)
    assert logged.exc_info is not None
    assert not Conversation.objects.exists() and not Escalation.objects.exists()
    # and the retry finds the key (that resume token is no conversation's)
    assert post(body, ESCALATE).status_code == 404
