"""Each document is stemmed in its own language; queries in every language of the tenant's chunks."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from knowledge.bm25 import bm25_search, keyword_evidence, query_lexemes, text_lexemes
from knowledge.languages import FALLBACK_CONFIG, SEARCH_CONFIGS, search_config
from knowledge.models import Document, SearchConfigStats
from knowledge.references import OkapiBM25, child_lexemes
from knowledge.selectors import retrieve, retrieve_explained
from knowledge.services import documents_delete, tenant_reindex
from knowledge.tests.factories import add_document
from supportai.models import Tenant

REFUND_DE = (
    "Rückerstattung",
    "Rückerstattungen werden innerhalb von fünf Werktagen auf die ursprüngliche Karte gebucht.",
)
REFUND_EN = ("Refunds", "Refunds reach the original card within five working days.")
PARKING_EN = ("Parking", "Free parking behind the studio; street parking is metered.")


def _stats(tenant: Tenant) -> dict[str, int]:
    return dict(SearchConfigStats.objects.filter(tenant=tenant).values_list("config", "chunk_count"))


def _titles(tenant: Tenant, query: str) -> list[str]:
    hits = bm25_search(tenant=tenant, query=query, limit=10)
    titles = dict(Document.objects.filter(tenant=tenant).values_list("pk", "title"))
    return [titles[hit.document_id] for hit in hits]


@pytest.mark.parametrize(
    ("language", "config"),
    [
        ("de", "german"),
        ("pt-BR", "portuguese"),
        ("en_US", "english"),
        (" NB ", "norwegian"),
        ("german", "german"),
        ("English (UK)", "english"),
        ("english-us", "english"),
        ("eng", "english"),
        ("deu", "german"),
        ("ja", FALLBACK_CONFIG),
        ("zh-Hans", FALLBACK_CONFIG),
        ("", FALLBACK_CONFIG),
        ("klingon", FALLBACK_CONFIG),
        ("simple", "simple"),
    ],
)
def test_search_config_maps_language_tags_and_names(language, config):
    assert search_config(language) == config


def test_every_mapped_config_ships_with_postgresql(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT cfgname FROM pg_ts_config")
        installed = {row[0] for row in cursor.fetchall()}
    assert installed >= SEARCH_CONFIGS


def test_a_german_document_is_stemmed_as_german(tenant, other_tenant):
    # given: the same text in a German document here and, wrongly labelled English, next door
    document = add_document(tenant, *REFUND_DE, language="de")
    add_document(other_tenant, *REFUND_DE, language="en")
    # then: German stemming meets the singular in the plural, and German stop words are dropped
    assert document.search_config == "german"
    assert _titles(tenant, "Werktag") == ["Rückerstattung"]
    assert _titles(tenant, "rückerstattung") == ["Rückerstattung"]
    assert _titles(tenant, "und die der") == []
    # ... which English rules do not do
    assert _titles(other_tenant, "Werktag") == []
    assert query_lexemes(tenant=other_tenant, query="Werktagen") == ["werktagen"]


def test_a_mixed_tenant_answers_each_language_from_its_documents(tenant):
    # given
    add_document(tenant, *REFUND_DE, language="de")
    add_document(tenant, *REFUND_EN, language="en")
    add_document(tenant, *PARKING_EN, language="en")
    # when / then: each question finds the document in its own language first
    assert _titles(tenant, "Wann kommt meine Rückerstattung?")[0] == "Rückerstattung"
    assert _titles(tenant, "when is my refund coming")[0] == "Refunds"
    assert set(query_lexemes(tenant=tenant, query="Werktagen")) == {"werktag", "werktagen"}


def test_known_share_is_judged_in_the_best_fitting_language(tenant):
    # given: English and German chunks
    add_document(tenant, *REFUND_DE, language="de")
    add_document(tenant, *PARKING_EN, language="en")
    # when: German words, whose English stems ("werktagen") the tenant does not have
    evidence = keyword_evidence(tenant=tenant, query="Rückerstattungen Werktagen")
    # then: all of the German lexemes are known
    assert evidence.known_share == 1.0
    assert keyword_evidence(tenant=tenant, query="Werktagen Flughafen").known_share == 0.5


def test_known_share_ignores_the_unstemmed_fallback_beside_stemmed_languages(tenant, other_tenant):
    # given: English help articles and one Japanese note (simple: no stemming, stop words kept)
    add_document(tenant, *PARKING_EN, language="en")
    add_document(tenant, "駐車場", "駐車場はスタジオの裏にあります。 How do I ask for help?", language="ja")
    add_document(other_tenant, *PARKING_EN, language="en")
    # when: "how", "do", "I" and "for" are known to simple only, as stop words it kept (4 of 6)
    query = "how do I pay for parking"
    # then: judged by English lexemes alone ("pay" unknown, "park" known), as next door
    assert keyword_evidence(tenant=tenant, query=query).known_share == 0.5
    assert keyword_evidence(tenant=other_tenant, query=query).known_share == 0.5


def test_stop_words_kept_by_the_unstemmed_fallback_do_not_rank_its_pages_beside_stemmed_languages(tenant, other_tenant):
    # given: English articles and a Japanese contact page that quotes an English question
    add_document(tenant, "Refunds", "To get a refund, reply to your receipt; refunds reach the card in five days.")
    add_document(tenant, *PARKING_EN, language="en")
    contact = ("お問い合わせ", "お問い合わせはこちら。 How do I ask a question? Do write to us.")
    add_document(tenant, *contact, language="ja")
    add_document(other_tenant, *contact, language="ja")
    # when: an English question made mostly of stop words is asked
    query = "how do I get a refund"
    # then: English drops them, and so does simple beside it; the refunds article ranks first
    assert query_lexemes(tenant=tenant, query=query) == ["get", "refund"]
    assert _titles(tenant, query)[0] == "Refunds"
    # and a tenant with only the fallback keeps every word, stop words included (it has no others)
    assert query_lexemes(tenant=other_tenant, query=query) == ["a", "do", "get", "how", "i", "refund"]
    # and a Japanese question keeps its own words beside English
    assert query_lexemes(tenant=tenant, query="お問い合わせ") == ["お問い合わせ"]


def test_known_share_is_one_for_a_tenant_without_chunks(tenant):
    assert keyword_evidence(tenant=tenant, query="parking fees").known_share == 1.0


def test_search_config_statistics_follow_ingest_relabel_and_delete(tenant, other_tenant):
    # given
    german = add_document(tenant, *REFUND_DE, language="de")
    add_document(tenant, *PARKING_EN, language="en")
    add_document(other_tenant, *PARKING_EN, language="fr")
    assert _stats(tenant) == {"german": 1, "english": 1}
    assert _stats(other_tenant) == {"french": 1}
    # when: the German document comes back labelled French
    add_document(tenant, *REFUND_DE, language="fr")
    # then
    assert _stats(tenant) == {"french": 1, "english": 1}
    assert query_lexemes(tenant=tenant, query="Werktagen") == sorted(
        set(text_lexemes("Werktagen", configs=["french", "english"]))
    )
    # when: it is deleted, its configuration leaves the query vocabulary
    documents_delete(tenant=tenant, document_ids=[german.pk])
    # then
    assert _stats(tenant) == {"english": 1}
    assert _stats(other_tenant) == {"french": 1}


def test_bm25_matches_the_reference_on_a_mixed_language_corpus(tenant, other_tenant):
    # given
    add_document(tenant, *REFUND_DE, language="de")
    add_document(tenant, "Gutscheine", "Gutscheine gelten drei Jahre und werden als Karte verschickt.", language="de")
    add_document(tenant, *REFUND_EN, language="en")
    add_document(tenant, *PARKING_EN, language="en")
    add_document(other_tenant, "Noise", "Karte Karte refunds parking Werktagen " * 5, language="de")
    reference = OkapiBM25(child_lexemes(tenant=tenant), k1=1.2, b=0.75, tenant=tenant)
    for query in ("Karte Werktage", "refunds to my card", "Gutschein parking"):
        # when
        hits = bm25_search(tenant=tenant, query=query, limit=10)
        # then
        expected = reference.search(query)
        assert {hit.chunk_id: hit.score for hit in hits} == pytest.approx(
            {hit.chunk_id: hit.score for hit in expected}, rel=1e-9
        ), query


def test_reindex_rebuilds_documents_whose_language_changed(tenant, other_tenant):
    # given: a document relabelled in the admin, which does not re-index on save
    document = add_document(tenant, *REFUND_DE, language="de")
    add_document(other_tenant, *REFUND_DE, language="de")
    Document.objects.filter(pk=document.pk).update(language="nl")
    # when
    count = tenant_reindex(tenant=tenant)
    # then
    document.refresh_from_db()
    assert count == 1
    assert document.search_config == "dutch"
    assert _stats(tenant) == {"dutch": 1}
    assert _stats(other_tenant) == {"german": 1}
    assert tenant_reindex(tenant=tenant) == 0


def test_admin_language_edit_writes_only_the_language_and_takes_effect_at_reindex(client, owner, tenant):
    # given
    document = add_document(tenant, *REFUND_DE, language="de")
    client.force_login(owner)
    form = {
        "url": "",
        "language": "nl",
        "http_etag": "",
        "http_last_modified": "",
        "links": "[]",
        "initial-links": "[]",
    }
    # when
    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/admin/knowledge/document/{document.pk}/change/", form)
    # then: one UPDATE, of the language alone (status, chunk count and configuration are the indexer's)
    assert response.status_code == 302
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('UPDATE "knowledge_document"')]
    assert len(updates) == 1 and updates[0].split(" WHERE ")[0].endswith("SET \"language\" = 'nl'")
    document.refresh_from_db()
    assert (document.language, document.search_config) == ("nl", "german")
    assert tenant_reindex(tenant=tenant) == 1
    assert _stats(tenant) == {"dutch": 1}


# Invisible bidi controls that text from right-to-left contexts carries (a pasted question, a page):
# LRM, RLM, ARABIC LETTER MARK, RIGHT-TO-LEFT EMBEDDING and ISOLATE, POP DIRECTIONAL ISOLATE.
BIDI_MARKS = ["\u200e", "\u200f", "\u061c", "\u202b", "\u2067", "\u2069"]


@pytest.mark.parametrize("mark", BIDI_MARKS, ids=[f"U+{ord(mark):04X}" for mark in BIDI_MARKS])
def test_a_bidi_control_beside_a_word_hides_it_neither_in_a_query_nor_in_a_document(tenant, other_tenant, mark):
    # given a clean article, and one whose text carries the control glued to the word it holds
    add_document(tenant, *PARKING_EN)
    add_document(tenant, "Door service", f"Ask for the {mark}valet{mark} at the front door.")
    add_document(other_tenant, "Valet", "Valet parking for the other tenant.")
    # when a question carries the control beside its words, then they are the words keywords look up
    found = retrieve_explained(tenant=tenant, query=f"{mark}parking{mark} behind the studio", k=3, mode="hybrid")
    assert found.passages[0].title == "Parking" and found.passages[0].ranks["bm25"] == 1
    assert found.weighing is not None and found.weighing.evidence.known_share == 1.0
    # and the document's word is found by a plain question, in this tenant only
    assert [p.title for p in retrieve(tenant=tenant, query="valet", k=3, mode="bm25")] == ["Door service"]
    assert [p.title for p in retrieve(tenant=other_tenant, query=f"valet{mark}", k=3, mode="bm25")] == ["Valet"]


@pytest.mark.parametrize(
    ("document_text", "query"),
    [
        ("Ask for the val\u00adet at the front door.", "valet"),  # a soft hyphen (HTML's &shy;) inside the word
        ("Ask for the valet at the front door.", "val\u00adet"),
        ("Ask for the val\u2060et at the front door.", "valet"),  # WORD JOINER
        ("Ask for the valet\ufeff at the front door.", "valet"),  # ZERO WIDTH NO-BREAK SPACE
        ("Ask for the valet\u200bservice at the front door.", "valet"),  # ZERO WIDTH SPACE: a break between words
        ("Ask for the valet at the front door.", "valet\u200b"),
    ],
)
def test_invisible_hyphens_joiners_and_breaks_hide_no_word(tenant, other_tenant, document_text, query):
    # given an article whose word, or the question's, holds an invisible character
    add_document(tenant, *PARKING_EN)
    add_document(tenant, "Door service", document_text)
    add_document(other_tenant, "Valet", "Valet parking for the other tenant.")
    # when / then: keywords find the word, in this tenant only
    assert [p.title for p in retrieve(tenant=tenant, query=query, k=3, mode="bm25")] == ["Door service"]


@pytest.mark.parametrize(
    ("title", "document_text", "query"),
    [
        ("Desk", "Ask for a re\ufb01ll at the front desk.", "refill"),  # an HTML or Markdown article's ligature
        ("Desk", "Ask for a refill at the front desk.", "re\ufb01ll"),  # a question pasted from a PDF
        ("Desk", "Ask for a re\ufb01ll at the front desk.", "re\ufb01ll"),
        ("Desk", "Ask for a re\ufb01ll at the front desk.", "re\ufb01lls"),  # and stemmed as letters are
        ("Re\ufb01lls", "Ask at the front desk.", "refills"),  # in a title
        ("Desk", "The o\ufb03ce is open, sta\ufb00 \ufb02oat.", "office staff"),  # every one of U+FB00-FB06
        ("Desk", "Our \ufb05yle and \ufb06ock.", "style stock"),
    ],
)
def test_ligatures_are_read_as_their_letters_by_keyword_search(tenant, other_tenant, title, document_text, query):
    # given an article whose words, or the question's, are written with ligatures
    add_document(tenant, *PARKING_EN)
    add_document(tenant, title, document_text)
    add_document(other_tenant, "Refills", "Refill office staff style stock for the other tenant.")
    # when / then: keywords find the words, in this tenant only
    assert [p.title for p in retrieve(tenant=tenant, query=query, k=3, mode="bm25")] == [title]
