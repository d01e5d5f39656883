"""Property: nothing a customer sends the widget's surfaces gets a 5xx, a traceback or another tenant's data.

Generated input goes to the public surfaces as a client sends it: the widget's HTTP endpoints (chat
messages and their SSE stream, the handoff button, proposal decisions) as bodies of any shape and
content type, and the chat websocket on the real ASGI application and channel layer as text and
binary frames, and one at a time (each answered by its own answer frame or an ``error`` before the
ping after it). Fields are real (this tenant's key, resume token, proposal), the other tenant's, or
anything. Each refusal is the protocol's ``error`` with one of its codes, the websocket stays usable
(a ping afterwards is answered), no ERROR with a traceback is logged, the other tenant's data never
shows and none of it changes. The Stripe webhook's properties are bookings/tests/test_webhook_properties.py,
the console's query strings' supportai/tests/test_console_query_properties.py.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from bookings import proposals
from bookings.models import Booking, Proposal, Service
from bookings.tests.conftest import local, next_weekday, open_every_day
from bookings.tests.factories import ServiceFactory
from chat.models import Message, MessageFeedback, MessageRole
from chat.protocol import CloseCode, ErrorCode, Ping, ProtocolError, parse_frame
from chat.services import OpenedConversation, conversation_open
from knowledge import conf
from supportai.asgi import application
from supportai.models import Tenant
from supportai.tests.input_strategies import (
    CONTENT_TYPES,
    JSON,
    NOT_JSON_BODIES,
    PROPERTY_SETTINGS,
    TEXT,
    assert_no_traceback_logged,
)
from supportai.tests.websockets import disconnect

ORIGIN = "https://alpha.example.com"
SECRET_WORD = "zebracorn"  # in the other tenant's data only: never in an answer to this tenant's key
ERROR_CODES = {code.value for code in ErrorCode}
SERVER_FRAMES = {
    "session.ready",
    "message.ack",
    "message.start",
    "message.delta",
    "message.end",
    "proposal",
    "proposal.result",
    "escalation",
    "feedback.ack",
    "rating.ack",
    "identify.ack",
    "error",
    "pong",
    "booking.services",
    "booking.slots",
    "booking.detail",
}
CLIENT_TYPES = [
    "message.send",
    "feedback",
    "rating",
    "escalate",
    "proposal.confirm",
    "proposal.reject",
    "identify",
    "ping",
    "booking.services",
    "booking.slots",
    "booking.propose",
    "booking.lookup",
    "booking.cancel",
    "booking.reschedule",
]


@dataclasses.dataclass(frozen=True)
class Widgets:
    """Each tenant's widget key, a live conversation and data of its own."""

    tenant: Tenant
    opened: OpenedConversation
    proposal: Proposal
    other: Tenant
    other_opened: OpenedConversation
    other_proposal: Proposal
    other_answer: Message


def _widget_fields(widgets: Widgets) -> st.SearchStrategy[dict[str, Any]]:
    """Bodies shaped like the endpoints' own, each field real, the other tenant's or anything else."""

    def either(*real: Any) -> st.SearchStrategy[Any]:
        return st.one_of(st.sampled_from(real), JSON)

    fields = {
        "key": either(widgets.tenant.public_key, widgets.other.public_key),
        "resume_token": either(widgets.opened.resume_token, widgets.other_opened.resume_token),
        "client_id": either("c-1", "c-" + "x" * 64),
        "text": either("What are your opening hours?", "x" * 2001, " "),
        "identity_token": JSON,
        "proposal_id": either(str(widgets.proposal.public_id), str(widgets.other_proposal.public_id)),
        "reason": JSON,
        "email": either("ann@example.org", "not an email"),
        "phone": JSON,
    }
    # the key is there in most bodies, so that the fields after it meet their checks
    keyed = st.fixed_dictionaries({"key": fields.pop("key")}, optional=fields)
    return keyed | st.fixed_dictionaries({}, optional=fields)


def _proposal(tenant: Tenant, opened: OpenedConversation) -> Proposal:
    open_every_day(tenant)
    service = ServiceFactory.create(tenant=tenant, name=f"Massage {tenant.slug}", duration_minutes=60)
    return proposals.booking_propose_book(
        tenant=tenant,
        conversation=opened.conversation,
        service_id=service.pk,
        start=local(tenant, next_weekday(2), 10),
        name=f"Ann {SECRET_WORD}" if tenant.slug == "bravo" else "Ann Lee",
        email="ann@example.org",
    )


@pytest.fixture
def widgets(tenant: Tenant, other_tenant: Tenant) -> Widgets:
    opened = conversation_open(tenant=tenant, origin=ORIGIN, channel="api")
    other_opened = conversation_open(tenant=other_tenant, origin="", channel="api")
    other_answer = Message.objects.create(
        tenant=other_tenant,
        conversation=other_opened.conversation,
        role=MessageRole.ASSISTANT,
        text=f"The {SECRET_WORD} code is 1234.",
    )
    return Widgets(
        tenant=tenant,
        opened=opened,
        proposal=_proposal(tenant, opened),
        other=other_tenant,
        other_opened=other_opened,
        other_proposal=_proposal(other_tenant, other_opened),
        other_answer=other_answer,
    )


@pytest.fixture(autouse=True)
def offline_and_unlimited(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The fake embedder, and rate limits high enough for every generated request (their 429s are
    their own tests')."""
    monkeypatch.setattr(
        conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, embedding_provider="fake", rerank_provider="")
    )
    settings.CHAT_MESSAGES_PER_MINUTE_PER_IP = 1_000_000
    settings.CHAT_CONVERSATIONS_PER_MINUTE_PER_IP = 1_000_000
    cache.clear()
    yield
    cache.clear()


# --- widget HTTP endpoints ----------------------------------------------------------------------

PUBLIC_PATHS = [
    "/api/v1/public/chat/messages",
    "/api/v1/public/chat/messages/stream",
    "/api/v1/public/chat/escalate",
    "/api/v1/public/chat/proposals/confirm",
    "/api/v1/public/chat/proposals/reject",
]


# Mostly the tenant's own site; any header value a server decodes (Latin-1, no line breaks) otherwise.
ORIGINS = st.one_of(
    st.just(ORIGIN),
    st.sampled_from(["", "null", "http://[x", "https://evil.example", "http://testserver", ORIGIN + ":99999"]),
    st.text(st.characters(max_codepoint=255, exclude_characters="\r\n"), max_size=40),
)


def _content(response: Any) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    content: bytes = response.content
    return content


def assert_clear_public_answer(response: Any, widgets: Widgets) -> None:
    """A 4xx is the protocol's error object; no answer is a 5xx or shows the other tenant's data."""
    content = _content(response)
    assert response.status_code < 500, content[:500]
    if response.status_code >= 400:
        error = json.loads(content)
        assert error["type"] == "error" and error["code"] in ERROR_CODES and error["message"], error
    assert b'"code": "internal"' not in content, content[:500]
    assert SECRET_WORD.encode() not in content
    if response.status_code < 300 and not response.streaming:
        assert json.loads(content).get("conversation_id") != widgets.other_opened.conversation.pk


@pytest.mark.slow  # about 35 s: valid messages among the generated ones are answered
@pytest.mark.django_db(transaction=True)  # the async views do their database work on the pool
@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume asynchronous iterators")
@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_widget_endpoints_answer_any_json_with_a_clear_error(
    path: str, widgets: Widgets, caplog: pytest.LogCaptureFixture
) -> None:
    @given(body=_widget_fields(widgets) | JSON, ascii_only=st.booleans(), origin=ORIGINS)
    @settings(PROPERTY_SETTINGS, max_examples=100)
    def any_json(body: Any, ascii_only: bool, origin: str) -> None:
        caplog.clear()
        # when the body is JSON of any shape, its odd characters escaped (lone surrogates) or not
        raw = json.dumps(body, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
        response = Client().post(path, raw, content_type="application/json", headers={"origin": origin})
        # then
        assert_clear_public_answer(response, widgets)
        assert_no_traceback_logged(caplog)

    any_json()
    assert MessageFeedback.objects.filter(message=widgets.other_answer).count() == 0
    assert not Booking.objects.filter(tenant=widgets.other).exists()


# Whatever the client asks for, the answer is the protocol's JSON.
ACCEPTS = st.sampled_from(["*/*", "text/html", "application/xml", "text/event-stream", ""])


@pytest.mark.django_db(transaction=True)
@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume asynchronous iterators")
@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_widget_endpoints_answer_any_bytes_with_a_clear_error(
    path: str, widgets: Widgets, caplog: pytest.LogCaptureFixture
) -> None:
    @given(raw=NOT_JSON_BODIES, content_type=CONTENT_TYPES, accept=ACCEPTS)
    @settings(PROPERTY_SETTINGS, max_examples=40)
    def any_bytes(raw: bytes, content_type: str, accept: str) -> None:
        caplog.clear()
        response = Client().post(path, raw, content_type=content_type, headers={"origin": ORIGIN, "accept": accept})
        assert_clear_public_answer(response, widgets)
        assert_no_traceback_logged(caplog)

    any_bytes()


# --- chat websocket -----------------------------------------------------------------------------


FRAME_FIELDS = ["message_id", "proposal_id", "value", "rating", "comment", "text", "client_id", "token", "reason"]
FRAME_FIELDS += ["email", "phone", "service_id", "date", "days", "start", "name", "code", "notes"]


def _frames(widgets: Widgets) -> st.SearchStrategy[dict[str, Any]]:
    """Frames of the protocol's types (and none), their fields real, the other tenant's or anything."""
    real = st.sampled_from(
        [
            widgets.other_answer.pk,
            str(widgets.other_proposal.public_id),
            *Service.objects.filter(tenant=widgets.other).values_list("pk", flat=True),
            "2026-02-30",
            "9999-12-31",
            "0001-01-01T00:00",
            "9999-12-31T23:59+14:00",
        ]
    )
    value = st.one_of(real, JSON)
    return st.builds(
        lambda kind, fields: {**fields, "type": kind},
        st.one_of(st.sampled_from(CLIENT_TYPES), JSON),
        st.dictionaries(
            st.sampled_from(FRAME_FIELDS),
            value,
            max_size=4,
        ),
    )


@dataclasses.dataclass(frozen=True)
class Sent:
    text: str | None = None
    data: bytes | None = None
    expects_error: bool = True  # not JSON, not an object or no known type: always refused

    def is_ping(self) -> bool:
        try:
            return isinstance(parse_frame(self.text), Ping)
        except ProtocolError:
            return False


def _sent(widgets: Widgets) -> st.SearchStrategy[Sent]:
    return st.one_of(
        st.builds(lambda frame: Sent(text=json.dumps(frame), expects_error=False), _frames(widgets)),
        st.builds(lambda value: Sent(text=json.dumps(value)), JSON.filter(lambda v: not isinstance(v, dict))),
        st.builds(lambda text: Sent(text=text), TEXT.filter(lambda t: not t.strip().startswith(("{", "[")))),
        st.builds(lambda data: Sent(data=data), st.binary(min_size=1, max_size=100)),
        st.just(Sent(text="[" * 100_000)),
        st.just(Sent(text='{"type": "ping", "n": ' + "9" * 5_000 + "}")),
    )


@pytest.mark.django_db(transaction=True)
def test_websocket_answers_any_frame_with_a_protocol_error_and_stays_usable(
    widgets: Widgets, caplog: pytest.LogCaptureFixture
) -> None:
    path = f"/ws/chat/?key={widgets.tenant.public_key}"
    headers = [(b"origin", ORIGIN.encode()), (b"host", b"testserver")]

    async def exchange(sent: list[Sent]) -> list[dict[str, Any]]:
        communicator = WebsocketCommunicator(application, path, headers=headers)
        connected, _ = await communicator.connect(timeout=20)
        assert connected
        try:
            ready = json.loads(await communicator.receive_from(timeout=20))
            assert ready["type"] == "session.ready"
            for frame in sent:  # as the ASGI server delivers it (send_to refuses an empty text frame)
                await communicator.send_input({"type": "websocket.receive", "text": frame.text, "bytes": frame.data})
            await communicator.send_to(text_data=json.dumps({"type": "ping"}))
            frames: list[dict[str, Any]] = []
            pongs = 1 + sum(frame.is_ping() for frame in sent)
            while sum(frame["type"] == "pong" for frame in frames) < pongs:
                frames.append(json.loads(await communicator.receive_from(timeout=20)))
            return frames
        finally:
            await disconnect(communicator)

    @given(sent=st.lists(_sent(widgets), min_size=1, max_size=3))
    @settings(PROPERTY_SETTINGS, max_examples=100)
    def any_frames(sent: list[Sent]) -> None:
        caplog.clear()
        # when frames of any kind are sent, then a ping
        frames = async_to_sync(exchange)(sent)
        # then every answer is a protocol frame, errors carry a protocol code, and the ping is answered
        errors = [frame for frame in frames if frame["type"] == "error"]
        assert all(frame["type"] in SERVER_FRAMES for frame in frames), frames
        assert all(e["code"] in ERROR_CODES - {ErrorCode.INTERNAL.value} and e["message"] for e in errors), frames
        assert len(errors) >= sum(frame.expects_error for frame in sent), frames
        assert SECRET_WORD not in json.dumps(frames)
        assert_no_traceback_logged(caplog)

    any_frames()
    # and nothing of the other tenant's changed
    assert MessageFeedback.objects.filter(message=widgets.other_answer).count() == 0
    assert not Booking.objects.filter(tenant=widgets.other).exists()


# What each client frame is answered with, when it is not refused with an ``error``.
ANSWERS = {
    "ping": "pong",
    "message.send": "message.ack",
    "feedback": "feedback.ack",
    "rating": "rating.ack",
    "escalate": "escalation",
    "proposal.confirm": "proposal.result",
    "proposal.reject": "proposal.result",
    "identify": "identify.ack",
    "booking.services": "booking.services",
    "booking.slots": "booking.slots",
    "booking.propose": "proposal",
    "booking.lookup": "booking.detail",
    "booking.cancel": "proposal",
    "booking.reschedule": "proposal",
}
LAST_ANSWER = "LAST_ANSWER"  # stands for the last message id the socket was sent


def _well_formed(widgets: Widgets) -> st.SearchStrategy[dict[str, Any]]:
    """Frames of the right shape, in any order: questions (some that hand over or capture an email),
    feedback on the last answer or the other tenant's, decisions on this or the other tenant's proposal,
    booking steps with either tenant's service."""
    texts = st.sampled_from(
        ["What are your opening hours?", "I want to talk to a human", "my email is ann@example.org", "a\u2028b\u202e"]
    )
    proposal_ids = st.sampled_from([str(widgets.proposal.public_id), str(widgets.other_proposal.public_id)])
    service_ids = st.sampled_from(list(Service.objects.values_list("pk", flat=True)))
    day = st.sampled_from([next_weekday(2).isoformat(), "2026-02-30"])
    return st.one_of(
        st.builds(lambda c, t: {"type": "message.send", "client_id": c, "text": t}, st.sampled_from(["a", "b"]), texts),
        st.builds(
            lambda m, v: {"type": "feedback", "message_id": m, "value": v},
            st.sampled_from([LAST_ANSWER, widgets.other_answer.pk]),
            st.sampled_from(["up", "down"]),
        ),
        st.builds(lambda r: {"type": "rating", "rating": r, "comment": "\u200f"}, st.integers(1, 5)),
        st.builds(
            lambda e: {"type": "escalate", "reason": "help", "email": e}, st.sampled_from(["", "a@b", "x@y.org"])
        ),
        st.builds(
            lambda k, p: {"type": k, "proposal_id": p},
            st.sampled_from(["proposal.confirm", "proposal.reject"]),
            proposal_ids,
        ),
        st.builds(lambda s, d: {"type": "booking.slots", "service_id": s, "date": d}, service_ids, day),
        st.builds(
            lambda s, d: {
                "type": "booking.propose",
                "service_id": s,
                "start": f"{d}T10:00",
                "name": "Ann",
                "email": "a@x.org",
            },
            service_ids,
            day,
        ),
        st.builds(
            lambda k: {"type": k, "code": "BK-NOPE00", "email": "a@x.org", "start": "2026-03-09T10:00"},
            st.sampled_from(["booking.lookup", "booking.cancel", "booking.reschedule"]),
        ),
        st.just({"type": "booking.services"}),
    )


@pytest.mark.django_db(transaction=True)
def test_websocket_answers_each_frame_with_its_own_answer_or_an_error(
    widgets: Widgets, caplog: pytest.LogCaptureFixture
) -> None:
    """Frames one at a time, each followed by a ping: every one is answered before the pong, by its
    own answer frame or an ``error`` (never nothing, never ``internal``), in any order of frames."""
    path = f"/ws/chat/?key={widgets.tenant.public_key}"
    headers = [(b"origin", ORIGIN.encode()), (b"host", b"testserver")]

    async def exchange(resume: str, sent: list[dict[str, Any]]) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
        communicator = WebsocketCommunicator(application, path + f"&resume={resume}", headers=headers)
        connected, _ = await communicator.connect(timeout=20)
        assert connected
        try:
            ready = json.loads(await communicator.receive_from(timeout=20))
            assert ready["type"] == "session.ready" and ready["conversation_id"] != widgets.other_opened.conversation.pk
            answered, last_answer = [], 0
            for frame in sent:
                frame = {key: last_answer if value == LAST_ANSWER else value for key, value in frame.items()}
                await communicator.send_to(text_data=json.dumps(frame))
                await communicator.send_to(text_data=json.dumps({"type": "ping"}))
                frames: list[dict[str, Any]] = []
                pongs = 2 if frame["type"] == "ping" else 1  # a ping's own pong, then the barrier's
                while sum(answer["type"] == "pong" for answer in frames) < pongs:
                    frames.append(json.loads(await communicator.receive_from(timeout=20)))
                    last_answer = frames[-1].get("message_id", last_answer)
                answered.append((frame, frames))
            return answered
        finally:
            await disconnect(communicator)

    resumes = st.sampled_from(["", widgets.opened.resume_token, widgets.other_opened.resume_token])

    @given(resume=resumes, sent=st.lists(_well_formed(widgets) | _frames(widgets), min_size=1, max_size=4))
    @settings(PROPERTY_SETTINGS, max_examples=40)
    def each_frame(resume: str, sent: list[dict[str, Any]]) -> None:
        caplog.clear()
        for frame, frames in async_to_sync(exchange)(resume, sent):
            expected = {ANSWERS.get(frame["type"]), "error"} if isinstance(frame["type"], str) else {"error"}
            assert any(answer["type"] in expected for answer in frames), (frame, frames)
            errors = [answer for answer in frames if answer["type"] == "error"]
            assert all(e["code"] in ERROR_CODES - {ErrorCode.INTERNAL.value} and e["message"] for e in errors)
            assert SECRET_WORD not in json.dumps(frames)
        assert_no_traceback_logged(caplog)

    each_frame()
    assert MessageFeedback.objects.filter(message=widgets.other_answer).count() == 0
    widgets.other_proposal.refresh_from_db()
    assert widgets.other_proposal.status == "pending"
    assert not Booking.objects.filter(tenant=widgets.other).exists()


def _percent_encoded(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"))


@pytest.mark.django_db(transaction=True)
def test_websocket_query_string_opens_this_tenants_session_or_closes_with_a_protocol_code(
    widgets: Widgets, caplog: pytest.LogCaptureFixture
) -> None:
    def either(*real: str) -> st.SearchStrategy[str]:
        return st.one_of(st.sampled_from(real), TEXT)

    keys = either(widgets.tenant.public_key, widgets.other.public_key)
    resumes = either(widgets.opened.resume_token, widgets.other_opened.resume_token, "")

    async def connect(query: str) -> dict[str, Any]:
        headers = [(b"origin", ORIGIN.encode()), (b"host", b"testserver")]
        communicator = WebsocketCommunicator(application, f"/ws/chat/?{query}", headers=headers)
        connected, _ = await communicator.connect(timeout=20)
        assert connected  # accepted first, so that a close code reaches the client
        try:
            output: dict[str, Any] = await communicator.receive_output(timeout=20)
            return output
        finally:
            await disconnect(communicator)

    @given(key=keys, resume=resumes, extra=st.lists(st.tuples(TEXT, TEXT), max_size=2))
    @settings(PROPERTY_SETTINGS, max_examples=60)
    def any_query(key: str, resume: str, extra: list[tuple[str, str]]) -> None:
        caplog.clear()
        pairs = [("key", key), ("resume", resume), *extra]
        query = "&".join(f"{_percent_encoded(name)}={_percent_encoded(value)}" for name, value in pairs)
        output = async_to_sync(connect)(query)
        if output["type"] == "websocket.close":
            assert output["code"] in (CloseCode.UNKNOWN_KEY, CloseCode.FORBIDDEN_ORIGIN), output
        else:
            ready = json.loads(output["text"])
            assert ready["type"] == "session.ready" and ready["conversation_id"] != widgets.other_opened.conversation.pk
            assert SECRET_WORD not in output["text"]
        assert_no_traceback_logged(caplog)

    any_query()
