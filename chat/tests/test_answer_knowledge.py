"""How a chat answer uses the tenant's knowledge, end to end: the websocket, retrieval with the real
local embedding model, the ``local`` provider, and the stored answer."""

from __future__ import annotations

import asyncio
import dataclasses
from decimal import Decimal
from typing import Any

import pytest
from channels.db import database_sync_to_async

from chat.models import Message, MessageStatus
from chat.tests.conftest import Connect, settled_message
from knowledge import conf
from knowledge.models import Document
from knowledge.tests.factories import add_document
from knowledge.tests.locks import table_locked
from routing.contracts import ToolCall
from routing.models import CostEvent, GuardrailEvent
from routing.phrases import PHRASES
from routing.providers.fake import Script, ScriptedProvider
from routing.registry import override_providers
from supportai.models import Tenant

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

REFUNDS = (
    "Refund policy. You can get a full refund within 30 days of purchase. "
    "Refunds are paid back to the original card within five working days."
)

REFUNDS_JA = (
    "購入後30日以内であれば全額返金いたします。返金は元のお支払い方法に5営業日以内に戻されます。"
    "セール品は返金の対象外となりますのでご了承ください。"
)
SHIPPING_ZH = "订单通常在2至3个工作日内发货。订单满200元免运费。目前暂不支持海外配送。"


@database_sync_to_async
def _add(tenant: Tenant, title: str, text: str, *, url: str = "", language: str = "en") -> Document:
    return add_document(tenant, title, text, url=url, language=language)


async def _stored_sources(end: dict[str, Any]) -> list[dict[str, Any]]:
    stored = await Message.objects.aget(pk=end["message_id"])
    return list(stored.sources)


async def test_answer_cites_the_tenants_passage_and_stores_the_same_sources(connect: Connect, tenant: Tenant) -> None:
    # given
    document = await _add(tenant, "Refunds", REFUNDS, url="https://alpha.example.com/refunds")
    client = await connect(tenant)
    # when
    end = (await client.ask("What is your refund policy?", "k-1"))[-1]
    # then
    assert end["sources"] == [
        {
            "index": 1,
            "title": "Refunds",
            "url": "https://alpha.example.com/refunds",
            "document_id": document.pk,
            "chunk_id": end["sources"][0]["chunk_id"],
        }
    ]
    assert "[1]" in end["text"] and "30 days" in end["text"]
    assert await _stored_sources(end) == end["sources"]


@pytest.mark.parametrize("with_second_document", [True, False])
async def test_answer_lists_only_the_quoted_document_when_its_text_has_a_bracketed_number(
    connect: Connect, tenant: Tenant, with_second_document: bool
) -> None:
    # given a refunds article with a footnote marker, and maybe a second article that becomes passage 2
    refunds = await _add(tenant, "Refunds", "Refunds take 30 days [2].", url="https://alpha.example.com/refunds")
    if with_second_document:
        await _add(tenant, "Parking", "Park behind the studio.", url="https://alpha.example.com/parking")
    client = await connect(tenant)
    # when
    end = (await client.ask("How long do refunds take?", "k-9"))[-1]
    # then only the refunds article is a source, and no citation was reported as made up
    assert "30 days" in end["text"]
    assert [source["document_id"] for source in end["sources"]] == [refunds.pk]
    assert await GuardrailEvent.objects.filter(tenant=tenant).acount() == 0


async def test_answer_never_uses_another_tenants_knowledge(
    connect: Connect, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given only the other tenant knows about refunds
    await _add(other_tenant, "Refunds", REFUNDS, url="https://bravo.example.com/refunds")
    client = await connect(tenant)
    # when
    end = (await client.ask("What is your refund policy?", "k-2"))[-1]
    # then
    assert end["sources"] == [] and end["text"] == PHRASES["en"].not_covered
    assert await _stored_sources(end) == []


@pytest.mark.parametrize(
    ("question", "quoted", "cited_title"),
    [
        ("返金してもらえますか？", "購入後30日以内であれば全額返金いたします。 [{n}]", "返金ポリシー"),  # noqa: RUF001
        ("你们支持海外配送吗？", "目前暂不支持海外配送。 [{n}]", "配送说明"),  # noqa: RUF001
    ],
)
async def test_answer_quotes_the_tenants_chinese_or_japanese_article(
    connect: Connect, tenant: Tenant, question: str, quoted: str, cited_title: str
) -> None:
    # given a help centre with a Japanese and a Chinese article
    await _add(tenant, "返金ポリシー", REFUNDS_JA, url="https://alpha.example.com/ja/refunds", language="ja")
    await _add(tenant, "配送说明", SHIPPING_ZH, url="https://alpha.example.com/zh/shipping", language="zh")
    client = await connect(tenant)
    # when a customer asks in the article's language
    end = (await client.ask(question, "k-cjk"))[-1]
    # then the answer quotes that article's sentence with its citation, confidently
    [source] = end["sources"]
    assert source["title"] == cited_title
    assert end["text"] == quoted.format(n=source["index"])
    assert end["confidence"] >= 0.8 and end["escalated"] is False
    assert await _stored_sources(end) == end["sources"]


@pytest.mark.parametrize(
    ("question", "language"),
    [("ギフトカードは販売していますか？", "ja"), ("你们卖礼品卡吗？", "zh")],  # noqa: RUF001
)
async def test_answer_says_plainly_when_chinese_or_japanese_articles_do_not_cover_the_question(
    connect: Connect, tenant: Tenant, question: str, language: str
) -> None:
    # given articles about refunds and shipping only
    await _add(tenant, "返金ポリシー", REFUNDS_JA, language="ja")
    await _add(tenant, "配送说明", SHIPPING_ZH, language="zh")
    client = await connect(tenant)
    # when a customer asks about gift cards
    end = (await client.ask(question, "k-cjk-none"))[-1]
    # then in the customer's language
    assert end["text"] == PHRASES[language].not_covered and end["sources"] == []
    assert end["confidence"] < 0.3


async def test_japanese_answer_never_uses_another_tenants_article(
    connect: Connect, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given only the other tenant has the Japanese refund article
    await _add(other_tenant, "返金ポリシー", REFUNDS_JA, language="ja")
    client = await connect(tenant)
    # when
    end = (await client.ask("返金してもらえますか？", "k-cjk-other"))[-1]  # noqa: RUF001
    # then
    assert end["sources"] == [] and end["text"] == PHRASES["ja"].not_covered


async def test_answer_goes_on_without_knowledge_while_the_search_times_out(
    connect: Connect, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a page that answers, and the chunks locked by another connection (a migration) past the limit
    await _add(tenant, "Refunds", REFUNDS)
    monkeypatch.setattr(conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, retrieval_timeout_ms=100))
    client = await connect(tenant)
    # when
    with table_locked("knowledge_chunk"):
        end = (await client.ask("What is your refund policy?", "k-8"))[-1]
    # then the answer for what the knowledge does not cover, stored, on a socket that still answers
    assert end["sources"] == [] and end["text"] == PHRASES["en"].not_covered
    assert await _stored_sources(end) == []
    end = (await client.ask("What is your refund policy?", "k-9"))[-1]
    assert "[1]" in end["text"] and len(end["sources"]) == 1


async def test_sources_cover_citations_of_every_tool_round(connect: Connect, tenant: Tenant) -> None:
    # given two passages, and a model that cites one before it looks up the services and the other after
    await _add(tenant, "Refunds", REFUNDS)
    await _add(tenant, "Refund card", "Refund payments go back to the card you paid with, never in cash.")
    model = ScriptedProvider(
        name="local",
        scripts=(
            Script(deltas=("Refunds take five days [1]. ",), tool_calls=(ToolCall("t1", "list_services", {}),)),
            Script(deltas=("They go back to your card [2].",), confidence=0.95),
        ),
    )
    client = await connect(tenant)
    # when
    with override_providers({"local": model}):
        end = (await client.ask("What is your refund policy for card payments?", "k-3"))[-1]
    # then both passages the answer cites are its sources
    assert len(model.requests[0].passages) == 2
    assert "[1]" in end["text"] and "[2]" in end["text"]
    assert [source["index"] for source in end["sources"]] == [1, 2]
    assert await _stored_sources(end) == end["sources"]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (" JavaScript:alert(document.cookie)", ""),
        ("java\tscript:alert(1)", ""),
        ("data:text/html,<script>alert(1)</script>", ""),
        ("file:///etc/passwd", ""),
        ("HTTPS://alpha.example.com/refunds", "HTTPS://alpha.example.com/refunds"),
        ("/help/refunds", "/help/refunds"),  # the widget resolves it against the tenant's page
    ],
)
async def test_sources_and_prompt_carry_only_http_addresses(
    connect: Connect, tenant: Tenant, url: str, shown: str
) -> None:
    # given a document whose address (front matter, a CSV column) has another scheme
    await _add(tenant, "Refunds", REFUNDS, url=url)
    model = ScriptedProvider(name="local", scripts=(Script(deltas=("Within 30 days [1].",), confidence=0.95),))
    client = await connect(tenant)
    # when
    with override_providers({"local": model}):
        end = (await client.ask("What is your refund policy?", "k-4"))[-1]
    # then the model, the widget and the stored answer see the same, safe address
    assert [p.url for p in model.requests[0].passages] == [shown]
    assert [source["url"] for source in end["sources"]] == [shown]
    assert await _stored_sources(end) == end["sources"]
    if not shown:
        assert "script:" not in "".join(block.text for block in model.requests[0].system).lower()


async def test_answer_cut_short_keeps_the_sources_it_already_cites(connect: Connect, tenant: Tenant) -> None:
    # given a model that cites a passage, looks up the services, and is still thinking when the customer leaves
    document = await _add(tenant, "Refunds", REFUNDS, url="https://alpha.example.com/refunds")
    model = ScriptedProvider(
        name="local",
        scripts=(
            Script(deltas=("Refunds take 30 days [1]. ",), tool_calls=(ToolCall("t1", "list_services", {}),)),
            Script(deltas=("never",), delay_s=30),
        ),
    )
    client = await connect(tenant)
    with override_providers({"local": model}):
        await client.send({"type": "message.send", "client_id": "k-7", "text": "What is your refund policy?"})
        delta = (await client.receive_until("message.delta"))[-1]
        # when
        await client.disconnect()
    # then the partial answer is stored with the source its text cites
    reply = await settled_message(delta["message_id"])
    assert reply.status == MessageStatus.INTERRUPTED
    assert reply.text == "Refunds take 30 days [1]. "
    assert [(source["index"], source["document_id"]) for source in reply.sources] == [(1, document.pk)]


@database_sync_to_async
def _cost_events_of(message_id: int) -> list[CostEvent]:
    return list(CostEvent.objects.filter(message_id=message_id).order_by("pk"))


async def _until_called(model: ScriptedProvider, calls: int) -> None:
    for _ in range(200):
        if len(model.requests) >= calls:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the model was called {len(model.requests)} times, not {calls}")


async def test_answer_cut_short_records_what_its_calls_cost(connect: Connect, tenant: Tenant, settings: Any) -> None:
    # given a paid model that answers, looks up the services, and is still thinking on the second round
    settings.GEMINI_API_KEY = "k"
    await _add(tenant, "Refunds", REFUNDS, url="https://alpha.example.com/refunds")
    model = ScriptedProvider(
        name="gemini",
        scripts=(
            Script(
                deltas=("Refunds take 30 days [1]. ",),
                tool_calls=(ToolCall("t1", "list_services", {}),),
                confidence=0.95,
            ),
            Script(deltas=("never",), delay_s=30),
        ),
    )
    client = await connect(tenant)
    with override_providers({"gemini": model}):
        await client.send({"type": "message.send", "client_id": "k-8", "text": "What is your refund policy?"})
        delta = (await client.receive_until("message.delta"))[-1]
        await _until_called(model, 2)
        # when
        await client.disconnect()
    # then the stored answer carries the usage the budget was charged for, both rounds
    reply = await settled_message(delta["message_id"])
    events = await _cost_events_of(reply.pk)
    assert reply.status == MessageStatus.INTERRUPTED
    assert len(events) == 2 and events[0].cost_usd > 0
    assert reply.input_tokens == sum(event.input_tokens for event in events)
    assert reply.output_tokens == sum(event.output_tokens for event in events)
    assert reply.cost_usd == sum(event.cost_usd for event in events).quantize(Decimal("0.000001"))
    assert (reply.tier, reply.provider, reply.model) == (1, "gemini", "gemini-3.5-flash-lite")
    assert reply.latency_ms is not None and reply.latency_ms > 0
