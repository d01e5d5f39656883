from __future__ import annotations

import re

import pytest

from routing.confidence import from_grounding
from routing.contracts import ContextPassage
from routing.guardrails import citation_indexes
from routing.phrases import PHRASES
from routing.providers.base import Finish, ProviderRequest, TextChunk
from routing.providers.local import LocalProvider, compose
from routing.tests.factories import PASSAGES

NOT_COVERED = PHRASES["en"].not_covered


def _request(question: str, passages=PASSAGES) -> ProviderRequest:
    return ProviderRequest(
        model="local", system=(), messages=(), temperature=0, max_tokens=512, question=question, passages=passages
    )


def test_local_compose_quotes_the_relevant_sentence_with_its_citation():
    text, confidence, suggest_human = compose(_request("Can I cancel a class without a fee?"))

    assert text == "You can cancel a class up to 12 hours before it starts without a fee. [2]"
    assert confidence >= 0.8
    assert suggest_human is False


@pytest.mark.parametrize(
    "footnoted",
    ["Refunds take 30 days [2].", "Refunds take 30 days, see the [refund form][2]."],
)
def test_local_compose_cites_only_the_quoted_passage_not_a_bracketed_number_in_its_text(footnoted: str):
    # given a passage whose text has a footnote or a Markdown reference link, and a second passage
    passages = (
        ContextPassage(1, "Refunds", "https://example.com/refunds", footnoted),
        ContextPassage(2, "Parking", "https://example.com/parking", "Park behind the studio."),
    )

    # when
    text, _, _ = compose(_request("How long do refunds take?", passages))

    # then the quote keeps its number, but only the platform's own marker cites
    assert "30 days" in text
    assert citation_indexes(text) == (1,)
    assert "\uff3b2\uff3d" in text


def test_local_compose_says_plainly_when_the_passages_do_not_cover_the_question():
    text, confidence, suggest_human = compose(_request("Do you sell gift vouchers for massages?"))

    assert text == NOT_COVERED
    assert confidence < 0.3
    assert suggest_human is True


def test_local_compose_without_passages_offers_a_human():
    text, _, suggest_human = compose(_request("What are your opening hours?", passages=()))

    assert text == NOT_COVERED
    assert suggest_human is True


def test_local_compose_is_deterministic():
    assert compose(_request("When are you open on weekends?")) == compose(_request("When are you open on weekends?"))


@pytest.mark.asyncio
async def test_local_stream_is_word_by_word_and_ends_with_zero_cost_usage():
    events = [event async for event in LocalProvider().stream(_request("When are you open on weekends?"))]

    chunks = [e.text for e in events if isinstance(e, TextChunk)]
    assert len(chunks) > 5
    assert all(chunk.count(" ") <= 1 for chunk in chunks)
    assert "".join(chunks).endswith("[1]")
    assert isinstance(events[-1], Finish)
    assert events[-1].usage.output_tokens > 0


def test_local_compose_reads_sentences_under_their_heading_but_never_quotes_the_heading():
    from routing.contracts import ContextPassage

    policy = ContextPassage(
        index=1,
        title="Cancellation and late arrival policy (POL-CXL-24)",
        url="https://example.com/cancel",
        text="# Cancellation and late arrival policy\n\nPlease give us at least 24 hours notice to avoid a fee. "
        "Late arrivals keep their original end time.",
    )
    text, _, suggest_human = compose(_request("What is your cancellation policy?", passages=(policy,)))

    assert not text.startswith("#")
    assert text == "Please give us at least 24 hours notice to avoid a fee. [1]"
    assert suggest_human is False


@pytest.mark.parametrize(
    ("question", "passage", "quoted"),
    [
        (
            "Как отменить занятие без оплаты?",
            "Отмена занятий\nВы можете отменить занятие без оплаты за 12 часов до начала.",  # noqa: RUF001
            "Вы можете отменить занятие без оплаты за 12 часов до начала. [1]",
        ),
        (
            "Πώς ακυρώνω ένα μάθημα χωρίς χρέωση;",
            "Ακυρώσεις\nΜπορείτε να ακυρώσετε ένα μάθημα χωρίς χρέωση έως 12 ώρες πριν.",  # noqa: RUF001
            "Μπορείτε να ακυρώσετε ένα μάθημα χωρίς χρέωση έως 12 ώρες πριν. [1]",  # noqa: RUF001
        ),
        (
            "Kann ich die Öffnungszeiten ändern?",
            "Öffnungszeiten\nDie Öffnungszeiten ändern sich im Sommer jedes Jahr.",
            "Die Öffnungszeiten ändern sich im Sommer jedes Jahr. [1]",
        ),
    ],
)
def test_local_compose_answers_from_passages_in_other_scripts(question: str, passage: str, quoted: str):
    passages = (ContextPassage(1, passage.split("\n")[0], "", passage),)

    text, confidence, _ = compose(_request(question, passages))

    # quoted with its citation (inflections the English stemmer does not know may hedge the answer)
    assert text.startswith(quoted)
    assert confidence > 0.3


def test_grounding_confidence_reads_answers_in_other_scripts():
    passages = (ContextPassage(1, "Отмена", "", "Вы можете отменить занятие за 12 часов до начала."),)

    assert from_grounding("Вы можете отменить занятие за 12 часов.", passages) == 1.0
    assert from_grounding("Мы продаём подарочные карты.", passages) == 0.0


REFUNDS_JA = ContextPassage(
    1,
    "返金ポリシー",
    "https://example.com/ja/refunds",
    "返金ポリシー\n購入後30日以内であれば全額返金いたします。返金は元のお支払い方法に5営業日以内に戻されます。"
    "セール品は返金の対象外となりますのでご了承ください。",
)
SHIPPING_JA = ContextPassage(
    2,
    "配送について",
    "https://example.com/ja/shipping",
    "ご注文は通常2〜3営業日以内に発送いたします。送料は5,000円以上のご注文で無料です。海外への配送は現在行っておりません。",
)
REFUNDS_ZH = ContextPassage(
    1,
    "退款政策",
    "https://example.com/zh/refunds",
    "# 退款政策\n\n购买后30天内可申请全额退款。退款将在5个工作日内退回原支付方式。特价商品不支持退款。",
)
SHIPPING_ZH = ContextPassage(
    2,
    "配送说明",
    "https://example.com/zh/shipping",
    "订单通常在2至3个工作日内发货。订单满200元免运费。目前暂不支持海外配送。",
)


@pytest.mark.parametrize(
    ("question", "passages", "quoted"),
    [
        ("返金してもらえますか？", (REFUNDS_JA, SHIPPING_JA), "購入後30日以内であれば全額返金いたします。 [1]"),  # noqa: RUF001
        ("送料はいくらですか？", (REFUNDS_JA, SHIPPING_JA), "送料は5,000円以上のご注文で無料です。 [2]"),  # noqa: RUF001
        (
            "セール品も返金できますか？",  # noqa: RUF001
            (REFUNDS_JA, SHIPPING_JA),
            "セール品は返金の対象外となりますのでご了承ください。 [1]",
        ),
        ("我可以退款吗？", (REFUNDS_ZH, SHIPPING_ZH), "购买后30天内可申请全额退款。 [1]"),  # noqa: RUF001
        ("你们支持海外配送吗？", (REFUNDS_ZH, SHIPPING_ZH), "目前暂不支持海外配送。 [2]"),  # noqa: RUF001
    ],
)
def test_local_compose_quotes_the_sentence_of_a_chinese_or_japanese_article(
    question: str, passages: tuple[ContextPassage, ...], quoted: str
):
    # when a customer asks in the language of the articles (no spaces between words, 。 ends a sentence)
    text, confidence, suggest_human = compose(_request(question, passages))

    # then that one sentence is quoted, not the article's heading or the whole paragraph
    assert text == quoted
    assert confidence >= 0.8
    assert suggest_human is False


@pytest.mark.parametrize(
    ("question", "passages", "language"),
    [
        ("ギフトカードは販売していますか？", (REFUNDS_JA, SHIPPING_JA), "ja"),  # noqa: RUF001
        ("駐車場はありますか？", (REFUNDS_JA, SHIPPING_JA), "ja"),  # noqa: RUF001
        ("你们卖礼品卡吗？", (REFUNDS_ZH, SHIPPING_ZH), "zh"),  # noqa: RUF001
        ("门店营业时间是几点？", (REFUNDS_ZH, SHIPPING_ZH), "zh"),  # noqa: RUF001
    ],
)
def test_local_compose_says_when_chinese_or_japanese_articles_do_not_cover_the_question(
    question: str, passages: tuple[ContextPassage, ...], language: str
):
    text, confidence, suggest_human = compose(_request(question, passages))

    # in the customer's language, not English
    assert text == PHRASES[language].not_covered
    assert confidence < 0.3
    assert suggest_human is True


REFUNDS_KO = ContextPassage(
    1,
    "환불 정책",
    "",
    "구매 후 30일 이내에는 전액 환불해 드립니다. 환불은 5영업일 이내에 원래 결제 수단으로 처리됩니다. "
    "세일 상품은 환불 대상이 아닙니다.",
)
SHIPPING_KO = ContextPassage(
    2,
    "배송 안내",
    "",
    "주문은 보통 2~3 영업일 이내에 발송됩니다. 5만 원 이상 주문 시 배송비는 무료입니다. "
    "현재 해외 배송은 지원하지 않습니다.",
)


@pytest.mark.parametrize(
    ("question", "passages", "quoted"),
    [
        ("返金と送料について教えてください", (REFUNDS_JA, SHIPPING_JA), ("購入後30日以内", "送料は5,000円")),
        ("送料について知りたいです", (REFUNDS_JA, SHIPPING_JA), ("送料は5,000円",)),
        ("返金をお願いします", (REFUNDS_JA, SHIPPING_JA), ("購入後30日以内",)),
        ("我想知道运费是多少", (REFUNDS_ZH, SHIPPING_ZH), ("订单满200元",)),
        ("可以介绍一下退款吗？", (REFUNDS_ZH, SHIPPING_ZH), ("购买后30天",)),  # noqa: RUF001
        ("我想了解一下海外配送", (REFUNDS_ZH, SHIPPING_ZH), ("目前暂不支持海外配送",)),
        ("환불에 대해 알려주세요", (REFUNDS_KO, SHIPPING_KO), ("구매 후 30일",)),
        ("해외 배송에 대해 알고 싶어요", (REFUNDS_KO, SHIPPING_KO), ("현재 해외 배송",)),
        ("환불은 어떻게 받나요?", (REFUNDS_KO, SHIPPING_KO), ("환불해 드립니다. [1]",)),
        ("배송비 관련해서 문의드립니다", (REFUNDS_KO, SHIPPING_KO), ("배송비는 무료입니다. [2]",)),
    ],
)
def test_local_compose_does_not_count_request_verbs_and_politeness_as_question_terms(
    question: str, passages: tuple[ContextPassage, ...], quoted: tuple[str, ...]
):
    # when a customer wraps the topic in "tell me", "I'd like to know", "please" (教えてください, 我想知道,
    # 알려주세요): words no article contains
    text, _, suggest_human = compose(_request(question, passages))

    # then the sentences on the topic are quoted, not "not covered"
    assert all(sentence in text for sentence in quoted), text
    assert suggest_human is False


@pytest.mark.parametrize(
    ("question", "passages", "language"),
    [
        ("ギフトカードについて教えてください", (REFUNDS_JA, SHIPPING_JA), "ja"),
        ("駐車場があるか知りたいです", (REFUNDS_JA, SHIPPING_JA), "ja"),
        ("请告诉我礼品卡怎么用", (REFUNDS_ZH, SHIPPING_ZH), "zh"),
        ("我想知道门店营业时间", (REFUNDS_ZH, SHIPPING_ZH), "zh"),
        ("선물 카드에 대해 알려주세요", (REFUNDS_KO, SHIPPING_KO), "ko"),
        ("주차장이 있는지 궁금합니다", (REFUNDS_KO, SHIPPING_KO), "ko"),
    ],
)
def test_local_compose_still_says_not_covered_when_a_polite_question_is_off_topic(
    question: str, passages: tuple[ContextPassage, ...], language: str
):
    assert compose(_request(question, passages))[0] == PHRASES[language].not_covered


def test_local_compose_reads_korean_words_without_their_particles():
    # given "배송비는" (shipping fee + topic particle) in the article, "배송비" + "는" in the question
    shipping = ContextPassage(
        1,
        "배송 안내",
        "",
        "주문은 보통 2~3 영업일 이내에 발송됩니다. 5만 원 이상 주문 시 배송비는 무료입니다. "
        "현재 해외 배송은 지원하지 않습니다.",
    )

    assert compose(_request("배송비는 얼마인가요?", (shipping,)))[0] == "5만 원 이상 주문 시 배송비는 무료입니다. [1]"
    assert compose(_request("해외 배송이 되나요?", (shipping,)))[0] == "현재 해외 배송은 지원하지 않습니다. [1]"
    assert compose(_request("주차장이 있나요?", (shipping,)))[0] == PHRASES["ko"].not_covered


def test_local_compose_reads_thai_and_hindi_words_whole():
    # given scripts that write vowels as combining marks; Thai without spaces between words, Hindi
    # ending its sentences with a danda
    thai = ContextPassage(
        1,
        "การจัดส่ง",
        "",
        "เราจัดส่งสินค้าภายใน 2 ถึง 3 วันทำการ\nขณะนี้เรายังไม่มีบริการจัดส่งไปต่างประเทศ",
    )
    hindi = ContextPassage(
        2,
        "धनवापसी",
        "",
        "ऑर्डर आमतौर पर तीन दिनों में भेजे जाते हैं। खरीद के 30 दिनों के भीतर पूरी धनवापसी मिलती है।",
    )

    assert compose(_request("ส่งไปต่างประเทศได้ไหม", (thai,)))[0] == "ขณะนี้เรายังไม่มีบริการจัดส่งไปต่างประเทศ [1]"
    assert compose(_request("धनवापसी कितने दिनों के भीतर मिलती है?", (hindi,)))[0] == (
        "खरीद के 30 दिनों के भीतर पूरी धनवापसी मिलती है। [2]"
    )


def test_grounding_confidence_reads_chinese_and_japanese_answers():
    # a model's own wording of the article, not a copy of its sentence
    assert from_grounding("30日以内なら全額返金できます。", (REFUNDS_JA,)) == 1.0
    assert from_grounding("ギフトカードを販売しております。", (REFUNDS_JA,)) == 0.0
    assert from_grounding("30天内可以全额退款。", (REFUNDS_ZH,)) == 1.0


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("¿Venden tarjetas regalo para masajes?", "es"),
        ("Vendez-vous des bons cadeaux pour les massages ?", "fr"),
        ("Verkaufen Sie Geschenkgutscheine für Massagen?", "de"),
        ("Vocês vendem vales-presente para massagens?", "pt"),
        ("Vendete buoni regalo per i massaggi?", "it"),
        ("Verkopen jullie cadeaubonnen voor massages?", "nl"),
        ("Продаёте ли вы подарочные сертификаты на массаж?", "ru"),
    ],
)
def test_local_compose_says_not_covered_in_the_customers_language(question: str, language: str):
    text, _, suggest_human = compose(_request(question))

    assert text == PHRASES[language].not_covered
    assert suggest_human is True


def test_local_compose_introduces_quotes_and_hedges_a_partial_answer_in_the_customers_language():
    # given a Japanese question that two sentences answer
    text, _, suggest_human = compose(_request("送料と返金", (REFUNDS_JA, SHIPPING_JA)))
    # then the line before the quotes is Japanese too
    refund, shipping = "購入後30日以内であれば全額返金いたします。 [1]", "送料は5,000円以上のご注文で無料です。 [2]"
    assert text == f"{PHRASES['ja'].intro} {refund} {shipping}"
    assert suggest_human is False

    # given a German question the article answers only in part (its inflections are not stemmed)
    hours = ContextPassage(1, "Öffnungszeiten", "", "Die Öffnungszeiten ändern sich im Sommer jedes Jahr.")
    text, _, suggest_human = compose(_request("Kann ich die Öffnungszeiten ändern?", (hours,)))
    # then the hedge after the quote is German
    assert text == "Die Öffnungszeiten ändern sich im Sommer jedes Jahr. [1] " + PHRASES["de"].partial
    assert suggest_human is True


@pytest.mark.asyncio
async def test_local_stream_estimates_a_japanese_answer_at_about_a_token_a_character():
    request = _request("返金してもらえますか？", (REFUNDS_JA, SHIPPING_JA))  # noqa: RUF001
    events = [event async for event in LocalProvider().stream(request)]

    # "購入後30日以内であれば全額返金いたします。 [1]": 20 Japanese characters and "30 [1]", not 26 / 4
    assert isinstance(events[-1], Finish)
    assert events[-1].usage.output_tokens == 20 + 2


@pytest.mark.asyncio
async def test_local_stream_sends_a_japanese_answer_a_few_characters_at_a_time():
    request = _request("送料と返金", (REFUNDS_JA, SHIPPING_JA))
    events = [event async for event in LocalProvider().stream(request)]

    chunks = [e.text for e in events if isinstance(e, TextChunk)]
    # not one sentence a chunk: at most four Japanese characters in each
    assert "".join(chunks) == compose(request)[0]
    assert len(chunks) > 10
    assert max(len(re.findall("[\u3040-\u30ff\u4e00-\u9fff]", chunk)) for chunk in chunks) == 4
