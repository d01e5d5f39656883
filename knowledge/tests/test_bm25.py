from __future__ import annotations

import math

import pytest
from django.db import connection

from knowledge import bm25
from knowledge.bm25 import (
    bm25_search,
    bm25_search_exhaustive,
    bm25_search_traced,
    has_rare_lexeme,
    keyword_evidence,
    text_lexemes,
)
from knowledge.models import Chunk
from knowledge.tests.factories import add_document

DOCS = [
    ("Cancellation policy", "Cancel at least 24 hours before your massage. Late cancellation costs half the price."),
    ("Gift cards", "Gift cards can be used for massage, yoga and facials. Gift cards never expire."),
    ("Parking", "Free parking behind the studio. Street parking is metered until 6 pm."),
    ("Yoga classes", "Yoga classes run every morning. Bring your own mat or borrow one."),
    ("Massage menu", "Swedish massage, deep tissue massage and hot stone massage, 60 or 90 minutes."),
]


def reference_idf(docs: dict[int, list[str]], term: str) -> float:
    """Lucene's idf of ``term`` over pre-tokenised documents."""
    df = sum(1 for other in docs.values() if term in other)
    return math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))


def reference_bm25(docs: dict[int, list[str]], query: list[str], k1: float, b: float) -> dict[int, float]:
    """Textbook Okapi BM25 (Lucene idf) over pre-tokenised documents; unique query terms."""
    avgdl = sum(len(tokens) for tokens in docs.values()) / len(docs)
    scores = {}
    for doc_id, tokens in docs.items():
        score = 0.0
        for term in set(query):
            tf = tokens.count(term)
            if not tf:
                continue
            score += reference_idf(docs, term) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(tokens) / avgdl))
        if score:
            scores[doc_id] = score
    return scores


def reference_matched_idf(docs: dict[int, list[str]], query: list[str]) -> dict[int, float]:
    """Per document holding a query term, the idf summed over the distinct query terms it holds."""
    matched = {doc_id: [term for term in set(query) if term in tokens] for doc_id, tokens in docs.items()}
    return {doc_id: sum(reference_idf(docs, term) for term in terms) for doc_id, terms in matched.items() if terms}


def reference_surprise(docs: dict[int, list[str]], query: list[str], best_chunk: int) -> float:
    """The surprise of the best child's match: its matched idf mass minus ln(N + 1)."""
    return reference_matched_idf(docs, query)[best_chunk] - math.log(len(docs) + 1)


def _tokens_of_children(tenant) -> dict[int, list[str]]:
    """Each child's lexemes repeated by their frequency, read from the same tsvector PostgreSQL scores;
    a child without lexemes (only stop words) is there with none, as it counts in N and avgdl."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.id, u.lexeme, array_length(u.positions, 1) FROM knowledge_chunk c "
            "LEFT JOIN LATERAL unnest(c.search_vector) u ON true WHERE c.tenant_id = %s AND c.level = 'child'",
            [tenant.pk],
        )
        docs: dict[int, list[str]] = {}
        for chunk_id, lexeme, tf in cursor.fetchall():
            docs.setdefault(chunk_id, []).extend([lexeme] * tf if lexeme is not None else [])
    return docs


@pytest.mark.parametrize(("k1", "b"), [(1.2, 0.75), (0.9, 0.4), (2.0, 1.0)])
@pytest.mark.parametrize(
    "query", ["massage cancellation fee", "gift cards for yoga", "parking", "hot stone 90 minutes"]
)
def test_bm25_matches_reference_implementation(tenant, other_tenant, query, k1, b):
    # given: our tenant's corpus, with a chunk of stop words only (no lexemes, yet one of the N
    # chunks, of length 0), plus another tenant whose statistics must not leak in
    for title, text in DOCS:
        add_document(tenant, title, text)
    add_document(tenant, "And so on", "It is what it is, and that is all there is to it.")
    assert Chunk.objects.filter(tenant=tenant, level="child", term_count=0).count() == 1
    add_document(other_tenant, "Noise", "massage massage massage parking gift yoga " * 5)
    # when
    search = bm25_search_traced(tenant=tenant, query=query, limit=50, k1=k1, b=b)
    hits = search.hits
    # then: the scores, each child's matched idf mass and the best child's surprise (N counts the
    # tenant's children only)
    docs = _tokens_of_children(tenant)
    lexemes = text_lexemes(query, configs=["english"])
    expected = reference_bm25(docs, lexemes, k1, b)
    assert {hit.chunk_id: hit.score for hit in hits} == pytest.approx(expected, rel=1e-9)
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
    matched = reference_matched_idf(docs, lexemes)
    assert {hit.chunk_id: hit.matched_idf for hit in hits} == pytest.approx(matched, rel=0, abs=1e-9)
    assert search.surprise == pytest.approx(reference_surprise(docs, lexemes, hits[0].chunk_id), rel=0, abs=1e-9)
    assert bm25_search(tenant=tenant, query=query, limit=50, k1=k1, b=b) == hits


def test_bm25_idf_rewards_rare_terms_unlike_ts_rank(tenant):
    add_document(tenant, "Massage A", "massage massage booking")
    add_document(tenant, "Massage B", "massage prices")
    add_document(tenant, "Refunds", "refund massage")
    [top, *_] = bm25_search(tenant=tenant, query="massage refund", limit=5)
    assert Chunk.objects.get(pk=top.chunk_id).document.title == "Refunds"


def test_bm25_or_semantics_and_empty_queries(tenant):
    add_document(tenant, "Parking", "Free parking.")
    add_document(tenant, "Yoga", "Morning yoga.")
    assert len(bm25_search(tenant=tenant, query="parking yoga", limit=5)) == 2
    assert bm25_search(tenant=tenant, query="the and of", limit=5) == []
    assert bm25_search(tenant=tenant, query="   ", limit=5) == []
    assert bm25_search(tenant=tenant, query="unknownword", limit=5) == []


def test_bm25_never_returns_another_tenants_chunks(tenant, other_tenant):
    # given: both tenants hold the query's term (so the search has statistics to score it with),
    # the other tenant's chunks more of it
    ours = add_document(tenant, "Parking", "Street parking is metered until 6 pm, then free.")
    for n in range(3):
        add_document(other_tenant, f"Parking {n}", "Free parking behind the spa. Parking, parking.")
    # when
    hits = bm25_search(tenant=tenant, query="parking", limit=5)
    # then: the tenant's own chunk only
    assert [hit.chunk_id for hit in hits] == list(
        Chunk.objects.filter(document=ours, level="child").values_list("pk", flat=True)
    )


def test_rare_lexeme_detects_identifiers(tenant):
    add_document(tenant, "Errors", "Error JS-PAY-402 means the card was declined.")
    for n in range(7):
        add_document(tenant, f"Covid {n}", "COVID-19 rules apply.")
    assert has_rare_lexeme(tenant=tenant, texts=["JS-PAY-402"])
    assert not has_rare_lexeme(tenant=tenant, texts=["COVID-19"])


def test_rare_lexeme_costs_one_query_however_many_identifiers_a_query_holds(
    tenant, other_tenant, django_assert_num_queries
):
    # given a rare code in our tenant, and the same code in another tenant only
    add_document(tenant, "Errors", "Error JS-PAY-402 means the card was declined.")
    add_document(other_tenant, "Theirs", "Error XY-9999 is theirs.")
    codes = [f"AB-{n}" for n in range(200)]
    # when a long query holds hundreds of identifiers, then one round trip answers for all of them
    with django_assert_num_queries(1):
        assert has_rare_lexeme(tenant=tenant, texts=[*codes, "JS-PAY-402"])
    with django_assert_num_queries(1):
        assert not has_rare_lexeme(tenant=tenant, texts=[*codes, "XY-9999"])
    with django_assert_num_queries(0):
        assert not has_rare_lexeme(tenant=tenant, texts=[])


def test_title_lexemes_are_weighted(tenant):
    from knowledge import conf

    add_document(tenant, "Parking", "Free lot behind the studio.")
    tokens = next(iter(_tokens_of_children(tenant).values()))
    assert tokens.count("park") == conf.SETTINGS.title_weight == 3
    assert tokens.count("lot") == 1


def _common_corpus(tenant, *, rare: dict[int, str]) -> None:
    """30 documents with "massage" in all but one; document n also holds ``rare[n]`` if given."""
    for n in range(30):
        common = "massage" if n else "facial"
        add_document(tenant, f"Note {n}", f"{common} note {n} {rare.get(n, '')} " + "word " * (n % 4))


def _assert_same_as_full_and_reference(tenant, search, query, limit) -> None:
    hits = search.hits
    full = bm25_search_exhaustive(tenant=tenant, query=query, limit=limit)
    assert [hit.chunk_id for hit in hits] == [hit.chunk_id for hit in full]
    assert [hit.score for hit in hits] == pytest.approx([hit.score for hit in full], rel=1e-9)
    docs = _tokens_of_children(tenant)
    lexemes = text_lexemes(query, configs=["english"])
    expected = reference_bm25(docs, lexemes, 1.2, 0.75)
    top = sorted(expected.items(), key=lambda item: (-item[1], item[0]))[:limit]
    assert [(hit.chunk_id, hit.score) for hit in hits] == [(chunk, pytest.approx(score)) for chunk, score in top]
    # the matched idf mass on this path and on full scoring, and the best child's surprise
    matched = reference_matched_idf(docs, lexemes)
    assert [hit.matched_idf for hit in hits] == pytest.approx([matched[hit.chunk_id] for hit in hits], rel=0, abs=1e-9)
    assert [hit.matched_idf for hit in full] == pytest.approx([matched[hit.chunk_id] for hit in full], rel=0, abs=1e-9)
    assert search.surprise == pytest.approx(reference_surprise(docs, lexemes, hits[0].chunk_id), rel=0, abs=1e-9)


def test_bm25_maxscore_equals_full_scoring_for_a_common_and_a_rare_term(tenant, django_assert_num_queries):
    # given: "massage" in 29 of 30 chunks (idf ~0.05), "refund" in 8
    _common_corpus(tenant, rare={n: "refund refund" if n % 2 else "refund" for n in range(3, 27, 3)})
    # when
    with django_assert_num_queries(1):
        search = bm25_search_traced(tenant=tenant, query="massage refund", limit=5)
    # then: pass 1 proved the top 5 without reading the common term's postings
    assert search.path == "maxscore"
    _assert_same_as_full_and_reference(tenant, search, "massage refund", 5)
    assert bm25_search(tenant=tenant, query="massage refund", limit=5) == search.hits


@pytest.mark.parametrize(
    ("rare", "margin", "path"),
    [
        # fewer rare matches (2) than k: pass 1 is not even tried
        ({4: "refund", 9: "refund"}, bm25.SPLIT_MARGIN, "full"),
        # two rare terms in the same 3 chunks: 6 postings but only 3 candidates < k
        ({4: "refund voucher", 9: "refund voucher", 14: "refund voucher"}, bm25.SPLIT_MARGIN, "fallback"),
        # enough candidates, but a huge margin makes "refund" non-essential too: the bound (2.2 x
        # the idf of note, massage and refund) is above what the 5th "voucher" chunk scores
        ({n: "refund voucher" for n in range(0, 30, 3)}, 1e6, "fallback"),
    ],
)
def test_bm25_falls_back_to_full_scoring_when_pass_one_cannot_prove(tenant, rare, margin, path):
    # given
    _common_corpus(tenant, rare=rare)
    query = "massage note refund voucher"
    # when
    search = bm25_search_traced(tenant=tenant, query=query, limit=5, margin=margin)
    # then: the top 5 are exactly those of full scoring
    assert search.path == path
    assert len(search.hits) == 5
    _assert_same_as_full_and_reference(tenant, search, query, 5)


def test_bm25_maxscore_uses_only_the_tenants_statistics_and_postings(tenant, other_tenant):
    # given: in the other tenant "massage" is rare and "refund" is everywhere
    _common_corpus(tenant, rare={n: "refund" for n in range(2, 30, 4)})
    add_document(other_tenant, "Massage", "massage refund")
    for n in range(40):
        add_document(other_tenant, f"Refunds {n}", f"refund refund refund policy {n}")
    # when
    search = bm25_search_traced(tenant=tenant, query="massage refund", limit=5)
    # then
    assert search.path == "maxscore"
    chunks = [hit.chunk_id for hit in search.hits]
    assert set(Chunk.objects.filter(pk__in=chunks).values_list("tenant", flat=True)) == {tenant.pk}
    _assert_same_as_full_and_reference(tenant, search, "massage refund", 5)


def test_bm25_scores_that_differ_only_by_summation_order_tie_and_keep_the_older_chunk_first():
    # given two identical chunks whose sums came out in another order (last bits differ), newer first
    exact = 0.1 + 0.2 + 0.3
    reordered = 0.3 + 0.2 + 0.1
    assert exact != reordered
    rows = [(12, 2, 2, exact, 1.0), (11, 1, 1, reordered, 1.0), (13, 3, 3, 0.5, 1.0)]
    # when
    hits = bm25.ranked_hits(rows)
    # then they tie exactly and rank by chunk id, the same way whatever order PostgreSQL added in
    assert [hit.chunk_id for hit in hits] == [11, 12, 13]
    assert hits[0].score == hits[1].score == round(exact, bm25.SCORE_DECIMALS)


def test_bm25_duplicate_documents_rank_oldest_first(tenant):
    # given the same answer stored twice (help centres duplicate FAQ entries), between other notes
    answer = "People may worry about friends living where the virus spreads."
    add_document(tenant, "Stigma", answer, external_id="faq-2")
    add_document(tenant, "Masks", "Wear a mask indoors.")
    add_document(tenant, "Stigma", answer, external_id="faq-22")
    # when
    hits = bm25_search(tenant=tenant, query="why do people worry about friends and the virus", limit=3)
    # then the two copies score the same and the first stored comes first
    assert hits[0].score == hits[1].score
    assert hits[0].chunk_id < hits[1].chunk_id
    assert hits[0].document_id < hits[1].document_id


@pytest.mark.parametrize("query", ["parking studio desk permits", "free parking permits behind the desk"])
@pytest.mark.parametrize("search", [bm25_search, bm25_search_exhaustive])
def test_bm25_many_copies_past_the_limit_keep_the_oldest(tenant, query, search):
    # given a notice repeated on 80 pages (more copies than the search keeps), between other notes
    notice = "Parking is free behind the studio; parking permits at the front desk."
    for n in range(80):
        add_document(tenant, "Contact us", notice, external_id=f"p{n}")
    for n in range(30):
        add_document(tenant, f"Other {n}", f"Yoga mats number {n} and towels.")
    children = Chunk.objects.filter(tenant=tenant, level="child", document__title="Contact us").order_by("id")
    copies = list(children.values_list("id", flat=True))
    for limit in (5, 50):
        # when
        hits = search(tenant=tenant, query=query, limit=limit)
        # then the copies tie, and those kept are the oldest, as in ranked_hits' order: which copies
        # make the cut must not hang on the last bits of sums PostgreSQL added in another order
        assert len({hit.score for hit in hits}) == 1
        assert [hit.chunk_id for hit in hits] == copies[:limit]


def _share(tenant, query):
    return keyword_evidence(tenant=tenant, query=query).known_share


def test_known_share_counts_only_the_tenants_own_vocabulary(tenant, other_tenant):
    add_document(tenant, "Parking", "Free parking behind the studio.")
    add_document(other_tenant, "Orders", "Swap items of an order before it ships.")
    # parking (known), swap and 370795561790 (only the other tenant knows "swap"; nobody the number)
    assert _share(tenant, "swap my parking for order 370795561790") == pytest.approx(1 / 4)
    assert _share(other_tenant, "swap my parking for order 370795561790") == pytest.approx(2 / 4)
    assert _share(tenant, "Parking behind the studio?") == 1.0
    assert _share(tenant, "is it the") == 1.0  # stop words only: nothing to weigh


def test_known_share_forgets_words_of_deleted_documents(tenant):
    from knowledge.services import document_delete

    document = add_document(tenant, "Parking", "Free parking behind the studio.")
    add_document(tenant, "Yoga", "Morning yoga classes.")
    assert _share(tenant, "parking yoga") == 1.0
    document_delete(tenant=tenant, document=document)
    assert _share(tenant, "parking yoga") == 0.5


def test_keyword_evidence_carries_only_the_tenants_own_tuned_scale(tenant, other_tenant):
    from knowledge.models import RetrievalTuning

    assert keyword_evidence(tenant=tenant, query="parking").tenant_scale == 1.0
    RetrievalTuning.objects.create(tenant=other_tenant, keyword_scale=0.25)
    assert keyword_evidence(tenant=tenant, query="parking").tenant_scale == 1.0
    assert keyword_evidence(tenant=other_tenant, query="parking").tenant_scale == 0.25
    assert keyword_evidence(tenant=other_tenant, query="is it the") == keyword_evidence(tenant=other_tenant, query="")


def test_bm25_ranks_only_its_tenants_chunks_when_another_tenant_matches_better(tenant, other_tenant):
    # given: more matching chunks than the limit, and another tenant's chunk that matches better
    ours = {
        add_document(tenant, f"Level {n}", f"Parking is on level {n} of the garage beside the lobby lifts.").pk
        for n in range(7)
    }
    add_document(other_tenant, "Parking", "Parking, parking, parking.")
    # when
    hits = bm25_search(tenant=tenant, query="parking", limit=5)
    # then: the limit is filled from the tenant's own chunks
    assert len(hits) == 5
    assert {hit.document_id for hit in hits} <= ours
