"""Text triggers: each reason fires on real phrasings and stays quiet on look-alikes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from escalations.triggers import ReasonCode, text_hits
from escalations.triggers.text import parse_amount

THRESHOLD = Decimal("100")


def codes(text: str, threshold: Decimal = THRESHOLD) -> set[ReasonCode]:
    return {hit.code for hit in text_hits(text, billing_threshold=threshold)}


@pytest.mark.parametrize(
    "text",
    [
        "I want to speak to a human",
        "Can I talk to a real person please?",
        "connect me with an agent",
        "human please",
        "Operator!",
        "I need a live agent",
        "how to chat with someone?",
        "talk to an opertor",  # typo
        "I don't want to talk to a bot",
        "Quiero hablar con una persona real",  # es
        "necesito hablar con un agente",  # es
        "Je voudrais parler à un conseiller",  # fr
        "Je veux parler à une personne",  # fr
        "Ich möchte mit einem Mitarbeiter sprechen",  # de
        "Kann ich mit einem echten Menschen reden?",  # de
        "Quero falar com um atendente",  # pt
        "Posso falar com uma pessoa?",  # pt
        "Vorrei parlare con un operatore",  # it
        "Ik wil met een medewerker spreken",  # nl
        "Kan ik met iemand praten?",  # nl
    ],
)
def test_human_request_fires_in_many_phrasings_and_languages(text: str) -> None:
    assert ReasonCode.HUMAN_REQUEST in codes(text)


@pytest.mark.parametrize(
    "text",
    [
        "I'm a human resources manager, do you offer corporate packages?",
        "What are your human-free hours?",
        "Is it a human error on my invoice? It says 20 EUR",
        "My travel agent booked this for me",
        "I spoke with a person at the front desk yesterday and she was lovely",
        "Do your therapists talk during the massage?",
        "What does the agent fee include?",
        "recursos humanos",
    ],
)
def test_human_request_ignores_look_alikes(text: str) -> None:
    assert ReasonCode.HUMAN_REQUEST not in codes(text)


def test_frustration_needs_three_indicators() -> None:
    assert ReasonCode.FRUSTRATION in codes("This is TERRIBLE and AWFUL service!!!")  # 2 words + caps + !!!
    assert ReasonCode.FRUSTRATION in codes("worst, most useless, ridiculous booking system")
    assert ReasonCode.FRUSTRATION not in codes("The weather was terrible!!")  # two indicators
    assert ReasonCode.FRUSTRATION not in codes("I need help to report bloody payment problems")
    assert ReasonCode.FRUSTRATION not in codes("Thanks!!! You are great!")


def test_billing_dispute_only_over_the_tenant_threshold() -> None:
    assert ReasonCode.BILLING_DISPUTE in codes("I was charged twice, $250 each time")
    assert ReasonCode.BILLING_DISPUTE in codes("Je conteste: dispute over 1.250,00 EUR")
    assert ReasonCode.BILLING_DISPUTE not in codes("I was charged twice, $20")
    assert ReasonCode.BILLING_DISPUTE not in codes("I was charged twice, $250", Decimal("500"))
    assert ReasonCode.BILLING_DISPUTE not in codes("How much is the $250 package?")  # no dispute
    assert ReasonCode.BILLING_DISPUTE not in codes("I was overcharged on order 123456789")  # no currency amount


@pytest.mark.parametrize(
    ("raw", "value"),
    [("1,250.50", "1250.50"), ("1.250,50", "1250.50"), ("250", "250"), ("1.250", "1250"), ("9,99", "9.99")],
)
def test_parse_amount(raw: str, value: str) -> None:
    assert parse_amount(raw) == Decimal(value)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("My account was hacked", ReasonCode.SECURITY),
        ("someone logged into my account from Russia", ReasonCode.SECURITY),
        ("Please delete all my personal data under GDPR", ReasonCode.SECURITY),
        ("I have a privacy concern about my records", ReasonCode.SECURITY),
        ("I will contact my lawyer", ReasonCode.LEGAL),
        ("I'm going to sue you", ReasonCode.LEGAL),
        ("I want to file a formal complaint", ReasonCode.COMPLAINT),
        ("how do I lodge a claim against your company", ReasonCode.COMPLAINT),
        ("Quiero poner una queja", ReasonCode.COMPLAINT),
        ("Can a manager authorize a refund outside the policy?", ReasonCode.REFUND_AUTHORIZATION),
        ("The booking system is down", ReasonCode.OUTAGE),
        ("your website is not loading, error 503", ReasonCode.OUTAGE),
        ("Is there an outage?", ReasonCode.OUTAGE),
    ],
)
def test_problem_triggers_fire(text: str, code: ReasonCode) -> None:
    assert code in codes(text)


@pytest.mark.parametrize(
    "text",
    [
        "Where is your privacy policy?",
        "How do I reset my password?",
        "How do I delete my account?",
        "What is your legal business name?",
        "Sue is my favourite therapist",
        "No complaints, the massage was great",
        "I can't complain, thanks",
        "Do you take a down payment for packages?",
        "Can I wind down in the sauna after?",
        "I would like a refund for my cancelled class",
        "How do I claim my gift card?",
    ],
)
def test_problem_triggers_ignore_look_alikes(text: str) -> None:
    assert codes(text) == set()


def test_evidence_names_the_words_that_fired() -> None:
    (hit,) = text_hits("please connect me to a human agent", billing_threshold=THRESHOLD)
    assert hit.evidence == "connect me to a human agent"
