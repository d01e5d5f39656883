"""The console's "test retrieval" box: ranked passages with each retriever's rank, and why one went without."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render

from knowledge.console_forms import SearchForm
from knowledge.providers.base import ProviderError
from knowledge.retrieval import EMBEDDING_UNAVAILABLE, public_reason
from knowledge.selectors import retrieve_explained
from knowledge.timeouts import RETRIEVAL_TIMED_OUT, RetrievalTimedOut
from knowledge.types import Passage
from supportai.console.tenancy import require_membership

# What the box says when hybrid search answered without a retriever (``ExplainedPassages.went_without``):
# its results are the other's alone, and finding none says nothing of what the failed one would find.
WENT_WITHOUT = {
    "dense": "Dense search was unavailable: {reason} These are keyword results only.",
    "bm25": "Keyword search was unavailable: {reason} These are dense results only.",
}
NOTHING_FOUND_WITHOUT = {
    "dense": "Keyword search found no passage; dense search, which finds paraphrases, was unavailable.",
    "bm25": "Dense search found no passage; keyword search was unavailable.",
}
NOTHING_FOUND = "No passages matched."
# Hybrid search raises only when neither retriever answered (``search_candidates``' fallback).
NEITHER_ANSWERED = "Neither keyword nor dense search could answer, so there are no passages to show. {reason}"


def score_name(passage: Passage) -> str:
    """What a test-retrieval passage's score is: the reranker's, else the fusion of the retrievers
    that ran (its ``ranks`` name them), else the one retriever's own."""
    if "rerank" in passage.ranks:
        return "rerank score"
    (only, *others) = passage.ranks
    return "fused score" if others else f"{only} score"


def _search_input(query: QueryDict) -> dict[str, Any] | None:
    """The box's inputs from the query string, the mode and k the form shows filled in where a
    link (``?q=refund``) leaves them out; None (an empty box) without a query."""
    if "q" not in query:
        return None
    defaults = {name: field.initial for name, field in SearchForm.base_fields.items() if field.initial is not None}
    return {**defaults, **query.dict()}


@login_required
def search(request: HttpRequest) -> HttpResponse:
    membership = require_membership(request)
    form = SearchForm(_search_input(request.GET))
    passages = []
    weighing = None
    went_without: dict[str, str] = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            found = retrieve_explained(tenant=membership.tenant, query=data["q"], k=data["k"], mode=data["mode"])
        except ProviderError as exc:
            if data["mode"] == "hybrid":
                form.add_error(None, NEITHER_ANSWERED.format(reason=public_reason(exc)))
            else:
                form.add_error(None, EMBEDDING_UNAVAILABLE.format(reason=exc.public_message))
        except RetrievalTimedOut:
            reason = f"{RETRIEVAL_TIMED_OUT}."
            form.add_error(None, NEITHER_ANSWERED.format(reason=reason) if data["mode"] == "hybrid" else reason)
        else:
            passages, weighing, went_without = found.passages, found.weighing, found.went_without
    context = {
        "tenant": membership.tenant,
        "form": form,
        "passages": passages,
        "scored_passages": [(passage, score_name(passage)) for passage in passages],
        "weighing": weighing,
        "went_without": went_without,
        "notices": [WENT_WITHOUT[name].format(reason=reason) for name, reason in went_without.items()],
        "nothing_found": " ".join(NOTHING_FOUND_WITHOUT[name] for name in went_without) or NOTHING_FOUND,
    }
    return render(request, "knowledge/search.html", context)
