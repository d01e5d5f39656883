"""Property: any frame staff send on the inbox socket is an error with a code or its answer, never
an ``internal`` error or a traceback; the socket stays usable and the other tenant's handoff is untouched.

Frames of the inbox's types (and others) whose ids are this tenant's, the other's, or any JSON
(huge and negative integers, floats, strings), whose text and notes hold NUL or half surrogate pairs;
then non-JSON text and binary frames. After each, a ``watch`` of one of the tenant's conversations is
still answered with ``watch.ack``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from hypothesis import given, settings
from hypothesis import strategies as st

from escalations.models import Escalation, Status
from escalations.tests.conftest import session_cookie
from escalations.tests.factories import EscalationFactory
from supportai.asgi import application
from supportai.models import Tenant
from supportai.tests.input_strategies import JSON, PROPERTY_SETTINGS, TEXT, assert_no_traceback_logged
from supportai.tests.websockets import disconnect

TYPES = ["claim", "assign", "reply", "typing", "hand_back", "resolve", "watch"]
FIELDS = ["escalation_id", "user_id", "text", "notes", "conversation_id", "after"]


@pytest.mark.django_db(transaction=True)  # the consumer's database work runs on the pool
def test_inbox_answers_any_frame_without_an_internal_error(
    tenant: Tenant, other_tenant: Tenant, owner: User, outsider: User, caplog: pytest.LogCaptureFixture
) -> None:
    ours = EscalationFactory.create(conversation__tenant=tenant)
    theirs = EscalationFactory.create(conversation__tenant=other_tenant)
    real = st.sampled_from([ours.pk, theirs.pk, ours.conversation_id, theirs.conversation_id, owner.pk, outsider.pk])
    frames = st.builds(
        lambda kind, fields: json.dumps({**fields, "type": kind}),
        st.sampled_from(TYPES) | JSON,
        st.dictionaries(st.sampled_from(FIELDS), real | JSON, max_size=4),
    )
    sent = frames | TEXT | st.binary(min_size=1, max_size=50)
    headers = [(b"host", b"testserver"), (b"origin", b"http://testserver"), (b"cookie", session_cookie(owner))]
    watch = json.dumps({"type": "watch", "conversation_id": ours.conversation_id})

    async def exchange(frame: str | bytes) -> list[dict[str, Any]]:
        communicator = WebsocketCommunicator(application, f"/ws/inbox/?tenant={tenant.pk}", headers=headers)
        connected, _ = await communicator.connect(timeout=20)
        assert connected
        try:
            assert json.loads(await communicator.receive_from(timeout=20))["type"] == "queue"
            key = "bytes" if isinstance(frame, bytes) else "text"
            await communicator.send_input({"type": "websocket.receive", key: frame})
            await communicator.send_to(text_data=watch)
            answers: list[dict[str, Any]] = []
            while not answers or answers[-1]["type"] != "watch.ack":
                answers.append(json.loads(await communicator.receive_from(timeout=20)))
            return answers
        finally:
            await disconnect(communicator)

    @given(frame=sent)
    @settings(PROPERTY_SETTINGS, max_examples=100)
    def any_frame(frame: str | bytes) -> None:
        caplog.clear()
        answers = async_to_sync(exchange)(frame)
        errors = [answer for answer in answers if answer["type"] == "error"]
        assert all(error["code"] != "internal" and error["message"] for error in errors), answers
        assert_no_traceback_logged(caplog)

    any_frame()
    theirs.refresh_from_db()
    assert theirs.status == Status.PENDING and theirs.assigned_to_id is None
    assert Escalation.objects.filter(tenant=other_tenant).count() == 1
