"""A tenant's keyword weight for hybrid retrieval, measured on its own labelled questions.

How much BM25 adds depends on the tenant's words: on covid-faq, whose questions share the
articles' words, keywords lift hybrid 3 % above dense; on Bitext's support chat against near-twin
canned answers they pull it 1.4 % below (docs/retrieval.md). A tenant that has labelled questions
(the question, the documents that answer it) can measure instead of trusting the defaults:
``tune_retrieval`` runs hybrid retrieval over them with BM25's weight multiplied by each of
``SCALES`` and keeps the best, but leaves the default only for a gain that is both large enough
(at least ``MIN_GAIN`` nDCG@10) and measured: the paired-bootstrap interval of the per-question
difference from the default must exclude 0 (knowledge/significance.py). With 20 questions, one
question moving up a rank is a gain of ~0.02 in the mean, but not a measured one.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from django.utils import timezone

from knowledge import conf
from knowledge.evaluation import DEPTH, documents_of, per_query_ndcg
from knowledge.models import KEYWORD_SCALE_MAX, Document, RetrievalTuning
from knowledge.providers.base import EmbeddingProvider
from knowledge.retrieval import Candidates, fuse, fusion_weights, ranked_parents, search_candidates
from knowledge.significance import PairedComparison, paired_bootstrap
from knowledge.types import Progress
from supportai.models import Tenant

SCALES = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, KEYWORD_SCALE_MAX)
DEFAULT_SCALE = 1.0
MIN_QUERIES = 20
MIN_GAIN = 0.005
# The step ``retrieval_tune`` reports its progress as: the questions searched.
QUESTIONS_STEP = "questions"


class TuningError(Exception):
    pass


@dataclass(frozen=True)
class ScaleChoice:
    best: float  # the scale with the highest mean nDCG@10 (among equals the one nearest the default)
    gain: PairedComparison  # the best scale minus the default, per question
    chosen: float  # best if its gain is large enough and measured, else the default

    @property
    def measured(self) -> bool:
        return self.chosen != DEFAULT_SCALE


def choose_scale(per_question: dict[float, dict[str, float]], *, min_gain: float = MIN_GAIN) -> ScaleChoice:
    """The scale to store, from each question's nDCG@10 under each scale (the default included)."""
    means = {scale: round(statistics.fmean(scores.values()), 9) for scale, scores in per_question.items()}
    best = max(means, key=lambda scale: (means[scale], -abs(scale - DEFAULT_SCALE)))
    gain = paired_bootstrap(per_question[best], per_question[DEFAULT_SCALE])
    real = gain.mean_difference >= min_gain and gain.is_gain
    return ScaleChoice(best, gain, best if real else DEFAULT_SCALE)


@dataclass(frozen=True)
class TuningResult:
    queries: int
    ndcg: dict[float, float]  # nDCG@10 of hybrid retrieval per keyword scale
    choice: ScaleChoice

    @property
    def chosen(self) -> float:
        return self.choice.chosen

    @property
    def ndcg_default(self) -> float:
        return self.ndcg[DEFAULT_SCALE]


def retrieval_tune(
    *,
    tenant: Tenant,
    queries: dict[str, str],
    qrels: dict[str, dict[str, int]],
    provider: EmbeddingProvider,
    progress: Progress | None = None,
) -> TuningResult:
    """nDCG@10 per keyword scale over ``tenant``'s labelled questions (qrels name the tenant's
    documents by external id); raises TuningError for too few questions or unknown documents.
    ``progress`` hears (as ``QUESTIONS_STEP``) of the questions to search, then of each searched."""
    judged = {query_id: text for query_id, text in queries.items() if qrels.get(query_id)}
    if len(judged) < MIN_QUERIES:
        raise TuningError(f"{len(judged)} labelled questions; at least {MIN_QUERIES} are needed to measure")
    named = {doc_id for query_id in judged for doc_id in qrels[query_id]}
    known = set(Document.objects.for_tenant(tenant).filter(external_id__in=named).values_list("external_id", flat=True))
    unknown = sorted(named - known)
    if unknown:
        shown = ", ".join(unknown[:5]) + (" …" if len(unknown) > 5 else "")
        raise TuningError(f"{len(unknown)} judged document ids are not documents of {tenant.slug}: {shown}")
    # Retrieval runs once per question; only the fusion differs between scales.
    external_ids = dict(Document.objects.for_tenant(tenant).values_list("pk", "external_id"))
    found: dict[str, Candidates] = {}
    if progress is not None:
        progress(QUESTIONS_STEP, len(judged), 0)
    for query_id, text in judged.items():
        found[query_id] = search_candidates(tenant=tenant, query=text, mode="hybrid", depth=DEPTH, provider=provider)
        if progress is not None:
            progress(QUESTIONS_STEP, len(judged), len(found))
    judged_qrels = {query_id: qrels[query_id] for query_id in judged}
    per_question: dict[float, dict[str, float]] = {}
    for scale in SCALES:
        run = {}
        for query_id, candidates in found.items():
            plan = fusion_weights(
                tenant=tenant,
                query=judged[query_id],
                evidence=candidates.evidence,
                dense_margin=candidates.dense_margin,
                query_type=candidates.query_type,
                keyword_scale=scale,
                keyword_surprise=candidates.keyword_surprise,
            )
            fused = fuse(candidates.lists, method=conf.SETTINGS.fusion, weights=plan.weights)
            run[query_id] = documents_of(ranked_parents(candidates.lists, fused, depth=DEPTH), external_ids)
        per_question[scale] = per_query_ndcg(judged_qrels, run)
    ndcg = {scale: round(statistics.fmean(scores.values()), 4) for scale, scores in per_question.items()}
    return TuningResult(len(judged), ndcg, choose_scale(per_question))


def retrieval_tuning_save(*, tenant: Tenant, result: TuningResult) -> RetrievalTuning:
    tuning, _ = RetrievalTuning.objects.update_or_create(
        tenant=tenant,
        defaults={
            "keyword_scale": result.chosen,
            "queries": result.queries,
            "ndcg_default": result.ndcg_default,
            "ndcg_tuned": result.ndcg[result.chosen],
            "tuned_at": timezone.now(),
        },
    )
    return tuning
