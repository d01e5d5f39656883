"""The OpenAPI schema names every operation and every status it answers."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from supportai.models import Tenant


def test_the_tenant_operation_documents_its_authentication_and_rate_limit_errors(tenant: Tenant) -> None:
    # given an answer the operation gives: no key
    assert APIClient().get("/api/v1/tenant/").status_code == 401
    # when
    schema = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    # then it is in the schema, with the other errors every operation of the tenant API answers
    responses = schema["paths"]["/api/v1/tenant/"]["get"]["responses"]
    assert set(responses) == {"200", "400", "401", "403", "429"}
    for status in ("401", "403", "429"):
        assert responses[status]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


PUBLIC_CHAT = {  # the successes, and the errors besides those every public chat endpoint answers
    "/api/v1/public/chat/messages": ("public_chat_message", {"200", "202", "500", "503"}, "MessageInputRequest"),
    "/api/v1/public/chat/messages/stream": ("public_chat_message_stream", {"200", "503"}, "MessageInputRequest"),
    "/api/v1/public/chat/escalate": ("public_chat_escalate", {"200", "503"}, "EscalateInputRequest"),
}


def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    return schema


@pytest.mark.parametrize("path", PUBLIC_CHAT)
def test_the_plain_public_chat_views_are_documented_without_auth(path: str) -> None:
    # given a public chat endpoint that is a plain async view, not a DRF APIView
    operation_id, answers, body = PUBLIC_CHAT[path]
    # when
    schema = _schema()
    # then its POST is in the schema: JSON body, no authentication, every error as the protocol's frame
    assert set(schema["paths"][path]) == {"post"}
    operation = schema["paths"][path]["post"]
    assert operation["operationId"] == operation_id and operation["tags"] == ["public chat"]
    assert "security" not in operation
    content = operation["requestBody"]["content"]
    assert content == {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}}
    assert set(operation["responses"]) == answers | {"400", "403", "404", "413", "429"}
    for status in {"400", "403", "404", "413", "429", "500", "503"} & set(operation["responses"]):
        error = operation["responses"][status]["content"]["application/json"]["schema"]
        assert error == {"$ref": "#/components/schemas/PublicError"}


def test_the_public_chat_answers_are_described() -> None:
    schema = _schema()
    components, paths = schema["components"]["schemas"], schema["paths"]
    stream = paths["/api/v1/public/chat/messages/stream"]["post"]["responses"]["200"]
    assert set(stream["content"]) == {"text/event-stream"} and "event: <frame type>" in stream["description"]
    assert stream["content"]["text/event-stream"]["schema"] == {"$ref": "#/components/schemas/ServerSentEvent"}
    assert set(components["MessageInputRequest"]["required"]) == {"key", "client_id", "text"}
    assert components["MessageInputRequest"]["properties"]["text"]["maxLength"] == 2000
    assert components["PublicAnswer"]["properties"]["answer"]["allOf"] == [{"$ref": "#/components/schemas/MessageEnd"}]
    assert set(components["EscalateInputRequest"]["required"]) == {"key", "resume_token"}
    assert set(components["EscalationFrame"]["required"]) >= {"type", "escalation_id", "status", "mode", "message"}
