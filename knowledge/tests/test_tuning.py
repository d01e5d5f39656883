"""A tenant's keyword weight, measured on its labelled questions and used by its hybrid retrieval."""

from __future__ import annotations

import json
import math
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from knowledge import retrieval
from knowledge.fusion import DENSE_MARGIN_SCALE, TIE_BOOST, WEIGHTS
from knowledge.models import RetrievalTuning
from knowledge.providers.base import ProviderError
from knowledge.providers.fake import FakeEmbeddingProvider
from knowledge.retrieval import rank_parents
from knowledge.selectors import retrieve
from knowledge.tests.factories import add_document
from knowledge.tuning import MIN_GAIN, MIN_QUERIES, SCALES, TuningError, choose_scale, retrieval_tune

TOPICS = ["parking", "refunds", "gift cards", "yoga", "massage", "facials", "memberships", "pregnancy"]


@pytest.fixture
def help_centre(tenant):
    for topic in TOPICS:
        add_document(tenant, topic.title(), f"All about {topic} at the studio.", external_id=f"{topic}.md")
    return tenant


def _questions(count: int = MIN_QUERIES) -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    queries = {f"q{n}": f"question about {TOPICS[n % len(TOPICS)]}" for n in range(count)}
    qrels = {f"q{n}": {f"{TOPICS[n % len(TOPICS)]}.md": 1} for n in range(count)}
    return queries, qrels


def _fused_weights(monkeypatch) -> list[dict[str, float]]:
    used: list[dict[str, float]] = []
    fuse = retrieval.fuse

    def spy(lists, *, method, weights):
        used.append(weights)
        return fuse(lists, method=method, weights=weights)

    monkeypatch.setattr(retrieval, "fuse", spy)
    return used


def _per_question(default: list[float], **changed: list[float]) -> dict[float, dict[str, float]]:
    """Each question's nDCG@10 under every scale: ``default`` unless ``changed`` (scale "0_25" -> 0.25)
    says otherwise."""
    scores = {scale: dict(enumerate(default)) for scale in SCALES}
    for name, values in changed.items():
        scores[float(name.lstrip("s").replace("_", "."))] = dict(enumerate(values))
    return {scale: {f"q{n}": value for n, value in by_index.items()} for scale, by_index in scores.items()}


RANK_2 = 1 / math.log2(3)  # nDCG@10 of the one relevant document at rank 2


def test_choose_scale_keeps_the_default_when_nothing_beats_it():
    choice = choose_scale(_per_question([RANK_2] * 20))
    assert (choice.best, choice.chosen, choice.measured) == (1.0, 1.0, False)


def test_one_question_moving_up_a_rank_is_not_a_measured_gain():
    # given scale 0 lifts one of 20 questions from rank 2 to rank 1: +0.018 in the mean, over MIN_GAIN
    choice = choose_scale(_per_question([RANK_2] * 20, s0=[1.0] + [RANK_2] * 19))
    assert choice.best == 0.0 and choice.gain.mean_difference > MIN_GAIN
    # then its interval includes 0 and the default stays
    assert choice.gain.low == 0 and choice.chosen == 1.0


def test_a_gain_on_many_questions_is_measured_and_chosen():
    choice = choose_scale(_per_question([RANK_2] * 20, s0=[1.0] * 12 + [RANK_2] * 8))
    assert choice.gain.low > 0 and choice.gain.queries_better == 12
    assert (choice.chosen, choice.measured) == (0.0, True)


def test_a_measured_gain_under_min_gain_leaves_the_default():
    # given scale 0 is better on every question, by 0.003
    choice = choose_scale(_per_question([0.5] * 20, s0=[0.503] * 20))
    assert choice.gain.low > 0 and choice.gain.mean_difference < MIN_GAIN
    assert choice.chosen == 1.0


def test_among_equal_scales_the_one_nearest_the_default_is_chosen():
    better = [1.0] * 15 + [RANK_2] * 5
    choice = choose_scale(_per_question([RANK_2] * 20, s0_25=better, s1_5=better))
    assert choice.chosen == 1.5


def test_tuning_measures_every_scale_on_the_tenants_questions(help_centre):
    queries, qrels = _questions()
    result = retrieval_tune(tenant=help_centre, queries=queries, qrels=qrels, provider=FakeEmbeddingProvider())
    assert result.queries == MIN_QUERIES and set(result.ndcg) == set(SCALES)
    assert all(0.0 <= value <= 1.0 for value in result.ndcg.values())
    assert result.ndcg[result.chosen] >= result.ndcg[1.0]
    assert result.choice.best in SCALES and result.choice.gain.resamples > 0


# Articles whose words overlap, and questions that mix them: keywords and the (bag-of-words) fake
# embedder rank them differently, so the keyword scale changes the fused order.
OVERLAPPING = {
    "cancel.md": ("Cancellation", "Cancel a booking online up to a day before; late cancellation costs a fee."),
    "reschedule.md": ("Rescheduling", "Move a booking to another day online; rescheduling is free."),
    "fees.md": ("Fees", "Every fee we charge: late fee, no-show fee, card fee."),
    "online.md": ("Online account", "Your online account lists each booking and each card."),
}
MIXED_QUESTIONS = [
    ("cancel booking fee", "cancel.md"),
    ("late fee online", "fees.md"),
    ("move my booking day", "reschedule.md"),
    ("card on my account", "online.md"),
    ("booking fee online", "cancel.md"),
    ("cancel booking card", "cancel.md"),  # dense nearly ties online.md with cancel.md: keywords decide
]


def test_tuning_scores_each_scale_as_hybrid_retrieval_with_that_scale_does(tenant):
    from knowledge.beir import BeirDataset
    from knowledge.evaluation import run_modes

    for external_id, (title, text) in OVERLAPPING.items():
        add_document(tenant, title, text, external_id=external_id)
    questions = [MIXED_QUESTIONS[n % len(MIXED_QUESTIONS)] for n in range(MIN_QUERIES)]
    queries = {f"q{n}": text for n, (text, _) in enumerate(questions)}
    qrels = {f"q{n}": {doc: 1} for n, (_, doc) in enumerate(questions)}
    provider = FakeEmbeddingProvider()
    result = retrieval_tune(tenant=tenant, queries=queries, qrels=qrels, provider=provider)
    assert len(set(result.ndcg.values())) > 1  # the scale matters on this corpus
    dataset = BeirDataset("mixed", [], queries, qrels)
    for scale in (0.0, 2.0):
        RetrievalTuning.objects.update_or_create(tenant=tenant, defaults={"keyword_scale": scale})
        measured = run_modes(tenant=tenant, dataset=dataset, modes=["hybrid"], provider=provider)
        assert result.ndcg[scale] == measured["hybrid"].metrics(qrels)["ndcg@10"]


def test_tuning_refuses_too_few_questions_and_other_tenants_documents(help_centre, other_tenant):
    queries, qrels = _questions(MIN_QUERIES - 1)
    with pytest.raises(TuningError, match="at least 20"):
        retrieval_tune(tenant=help_centre, queries=queries, qrels=qrels, provider=FakeEmbeddingProvider())
    add_document(other_tenant, "Secret", "Another tenant's article.", external_id="secret.md")
    queries, qrels = _questions()
    qrels["q0"] = {"secret.md": 1}
    with pytest.raises(TuningError, match=r"not documents of alpha: secret\.md"):
        retrieval_tune(tenant=help_centre, queries=queries, qrels=qrels, provider=FakeEmbeddingProvider())


def test_the_stored_scale_weighs_keywords_for_that_tenant_only(help_centre, other_tenant, monkeypatch):
    add_document(other_tenant, "Parking", "Parking at the other studio.")
    used = _fused_weights(monkeypatch)
    RetrievalTuning.objects.create(tenant=help_centre, keyword_scale=0.5)
    tuned = rank_parents(
        tenant=help_centre, query="parking at the studio", mode="hybrid", depth=3, provider=FakeEmbeddingProvider()
    ).weighing
    retrieve(tenant=other_tenant, query="parking at the studio", k=3)  # every word known to both tenants
    assert tuned is not None and tuned.keyword_scale == 0.5 and tuned.dense_margin is not None
    keywords = WEIGHTS[tuned.query_type]["bm25"]
    assert used[0]["bm25"] == pytest.approx(
        0.5 * keywords * TIE_BOOST * math.exp(-tuned.dense_margin / DENSE_MARGIN_SCALE)
    )
    # one document: no second dense parent, so a tie, and the other tenant's scale stays 1
    assert used[1] == pytest.approx({"bm25": keywords * TIE_BOOST, "dense": 1 - keywords * TIE_BOOST})


def _write_questions(folder: Path, queries: dict[str, str], qrels: dict[str, dict[str, int]]) -> tuple[Path, Path]:
    queries_path, qrels_path = folder / "queries.jsonl", folder / "qrels.tsv"
    queries_path.write_text("".join(json.dumps({"_id": q, "text": t}) + "\n" for q, t in queries.items()))
    rows = "".join(f"{q}\t{doc}\t{grade}\n" for q, docs in qrels.items() for doc, grade in docs.items())
    qrels_path.write_text("query-id\tcorpus-id\tscore\n" + rows)
    return queries_path, qrels_path


def test_command_prints_each_scale_and_stores_only_with_apply(help_centre, tmp_path):
    queries_path, qrels_path = _write_questions(tmp_path, *_questions())
    out = StringIO()
    call_command("tune_retrieval", tenant="alpha", queries=str(queries_path), qrels=str(qrels_path), stdout=out)
    assert "20 labelled questions of alpha" in out.getvalue() and "<- chosen" in out.getvalue()
    assert "the default scale 1.00 is the best measured" in out.getvalue()  # every scale ties here
    assert "not stored" in out.getvalue() and not RetrievalTuning.objects.exists()
    call_command(
        "tune_retrieval", tenant="alpha", queries=str(queries_path), qrels=str(qrels_path), apply=True, stdout=out
    )
    tuning = RetrievalTuning.objects.get(tenant=help_centre)
    assert tuning.queries == 20 and tuning.tuned_at is not None and tuning.ndcg_default is not None
    assert f"stored keyword scale {tuning.keyword_scale:.2f} for alpha" in out.getvalue()


def test_command_shows_its_progress_on_stderr_unless_told_not_to(help_centre, tmp_path):
    queries_path, qrels_path = _write_questions(tmp_path, *_questions())
    files = {"queries": str(queries_path), "qrels": str(qrels_path)}
    stdout, stderr = StringIO(), StringIO()
    # when the command asks its 20 questions
    call_command("tune_retrieval", tenant="alpha", **files, stdout=stdout, stderr=stderr)
    # then a bar counts them on one line of stderr, ended there, and stdout holds the report alone
    lines = stderr.getvalue().split("\n")
    assert len(lines) == 2 and lines[1] == ""
    assert "| 20/20 [" in lines[0].split("\r")[-1]
    assert "\r" not in stdout.getvalue() and "20 labelled questions of alpha" in stdout.getvalue()
    # and with --no-progress nothing is drawn
    quiet = StringIO()
    call_command("tune_retrieval", "--no-progress", tenant="alpha", **files, stdout=StringIO(), stderr=quiet)
    assert quiet.getvalue() == ""


def test_command_errors_are_clear(help_centre, tmp_path):
    queries_path, qrels_path = _write_questions(tmp_path, *_questions(3))
    with pytest.raises(CommandError, match="at least 20"):
        call_command("tune_retrieval", tenant="alpha", queries=str(queries_path), qrels=str(qrels_path))
    with pytest.raises(CommandError, match="cannot read the labelled questions"):
        call_command("tune_retrieval", tenant="alpha", queries=str(tmp_path / "none.jsonl"), qrels=str(qrels_path))
    (tmp_path / "bad.jsonl").write_text("not json\n")
    with pytest.raises(CommandError, match="cannot read the labelled questions"):
        call_command("tune_retrieval", tenant="alpha", queries=str(tmp_path / "bad.jsonl"), qrels=str(qrels_path))
    with pytest.raises(CommandError, match="nobody"):
        call_command("tune_retrieval", tenant="nobody", queries=str(queries_path), qrels=str(qrels_path))


def test_command_skips_and_counts_questions_with_empty_text_as_evaluate_retrieval_does(help_centre, tmp_path):
    # given 20 labelled questions, two more whose text is empty or spaces, and a judged id never asked
    queries, qrels = _questions()
    queries |= {"blank": "", "spaces": "   "}
    qrels |= {"blank": {"parking.md": 1}, "spaces": {"yoga.md": 1}, "unasked": {"yoga.md": 1}}
    queries_path, qrels_path = _write_questions(tmp_path, queries, qrels)
    out = StringIO()
    # when
    call_command("tune_retrieval", tenant="alpha", queries=str(queries_path), qrels=str(qrels_path), stdout=out)
    # then only the 20 are measured, and the line under the header counts the rest
    printed = out.getvalue().splitlines()
    assert printed[0] == "20 labelled questions of alpha"
    assert printed[1] == "skipped: 2 queries with empty text, 1 judged query not in queries.jsonl"


def test_command_says_which_questions_it_skipped_when_too_few_are_left(help_centre, tmp_path):
    queries, qrels = _questions()
    queries["q0"] = " "
    queries_path, qrels_path = _write_questions(tmp_path, queries, qrels)

    with pytest.raises(CommandError, match=r"^19 labelled questions; .* \(skipped: 1 query with empty text\)$"):
        call_command("tune_retrieval", tenant="alpha", queries=str(queries_path), qrels=str(qrels_path))


def test_admin_shows_a_tuning_only_to_its_tenants_staff(client, owner, outsider, tenant, other_tenant):
    RetrievalTuning.objects.create(tenant=tenant, keyword_scale=0.25, queries=40)
    RetrievalTuning.objects.create(tenant=other_tenant, keyword_scale=1.75, queries=90)
    client.force_login(owner)
    page = client.get("/admin/knowledge/retrievaltuning/").content.decode()
    assert "0.25" in page and "1.75" not in page
    assert client.get(f"/admin/knowledge/retrievaltuning/{other_tenant.pk}/change/").status_code in (302, 404)
    client.force_login(outsider)
    assert "0.25" not in client.get("/admin/knowledge/retrievaltuning/").content.decode()


def test_tuning_measures_nothing_while_the_questions_cannot_be_embedded(help_centre, tmp_path, monkeypatch):
    def outage(self, text):
        raise ProviderError("connection refused")

    monkeypatch.setattr(FakeEmbeddingProvider, "embed_query", outage)
    queries_path, qrels_path = _write_questions(tmp_path, *_questions())

    # Serving would answer from keywords alone; a measurement of keywords alone would store a wrong scale.
    with pytest.raises(CommandError, match="embedding failed, nothing measured or stored: connection refused"):
        call_command("tune_retrieval", tenant="alpha", queries=str(queries_path), qrels=str(qrels_path), apply=True)
    assert not RetrievalTuning.objects.exists()


@pytest.mark.parametrize(
    ("changed", "verdict"),
    [
        # 12 of 20 questions from rank 2 to 1: 12 x (1 - 1/log2(3)) / 20
        ({"s0": [1.0] * 12 + [RANK_2] * 8}, "scale 0.00 gains +0.2214 nDCG@10 over the default, 95 % interval"),
        ({"s0": [1.0] * 12 + [RANK_2] * 8}, "12 questions better, 0 worse: a measured gain"),
        ({"s0": [1.0] + [RANK_2] * 19}, "1 question better, 0 worse: the interval includes 0, so the default 1.00"),
        ({"s2": [RANK_2 + 0.003] * 20}, "under the 0.005 a change needs, so the default 1.00 stays"),
    ],
)
def test_the_command_says_why_the_default_stays_or_goes(changed, verdict):
    from knowledge.management.commands.tune_retrieval import _verdict

    assert verdict in _verdict(choose_scale(_per_question([RANK_2] * 20, **changed)))
