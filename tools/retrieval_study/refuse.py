"""Re-fuse collected candidates offline under candidate keyword-surprise settings (session 29).

Reads the pickles of ``collect_candidates.py``, fuses each query's two parent lists with
``fusion.convex`` and ``fusion.query_weights`` (the surprise passed to it computed by each
candidate below), maps parents to documents as ``evaluate_retrieval`` does (first occurrence, the
query's own id left out) and scores nDCG@10 with ``evaluation.per_query_ndcg``. Prints, per set and
setting, nDCG@10, its ratio to the better single retriever, hybrid minus that retriever and the
candidate minus today's default, each with its paired-bootstrap interval (``significance``), and
applies the rule fixed beforehand (README.md). ``--json`` writes the figures.

Usage: python tools/retrieval_study/refuse.py --cand /tmp/rev4/cand [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportai.settings")
django.setup()

from knowledge.evaluation import per_query_ndcg  # noqa: E402
from knowledge.fusion import QueryType, convex, query_weights  # noqa: E402
from knowledge.significance import PairedComparison, paired_bootstrap  # noqa: E402

SETS = ("covid-faq", "bitext-dev", "man-desc", "man-option")
K = 10
Query = dict[str, Any]


@dataclass(frozen=True)
class Match:
    """What the candidates read off one query's collected BM25 side."""

    surprise: float  # m - ln(N + 1) of the best child, m its matched idf over children
    log_n: float  # ln(N + 1)
    document_surprise: float  # the same with idf and N counted over documents
    runner_up: float  # matched child idf of BM25's second-best document's best child (0: none in its top ten)
    coverage: float  # m over the idf mass of the query's lexemes the tenant holds
    known: int  # the query's lexemes the tenant holds
    matched: int  # of them, those the best child holds


def match_of(query: Query, *, children: int, documents: int) -> Match | None:
    if query["surprise"] is None or not query["top_held"]:
        return None
    lexemes: dict[str, tuple[int, int]] = query["lexemes"]

    def child_idf(terms: list[str]) -> float:
        return sum(math.log((children + 1) / (lexemes[t][0] + 0.5)) for t in terms if lexemes[t][0] > 0)

    best = query["top_held"][0]
    mass = child_idf(best)
    bm25 = query["lists"]["bm25"]
    top_document = bm25[0][2]
    runner = next((i for i, (_, _, doc) in enumerate(bm25[: len(query["top_held"])]) if doc != top_document), None)
    held_known = [t for t in lexemes if lexemes[t][0] > 0]
    total = child_idf(held_known)
    return Match(
        surprise=mass - math.log(children + 1),
        log_n=math.log(children + 1),
        document_surprise=sum(math.log((documents + 1) / (lexemes[t][1] + 0.5)) for t in best if lexemes[t][1] > 0)
        - math.log(documents + 1),
        runner_up=0.0 if runner is None else child_idf(query["top_held"][runner]),
        coverage=mass / total if total > 0 else 0.0,
        known=len(held_known),
        matched=len([t for t in best if lexemes[t][0] > 0]),
    )


Setting = Callable[[Match], float]


def small_tenant(floor: float) -> Setting:
    """(a): the ramp starts later by how far ln(N + 1) falls short of ``floor``."""
    return lambda m: m.surprise - max(0.0, floor - m.log_n)


def versus_runner_up(m: Match) -> float:
    """(c1): min(surprise, best child's matched idf minus the runner-up document's)."""
    return min(m.surprise, m.surprise + m.log_n - m.runner_up)


def subset_corrected(m: Match) -> float:
    """(e): the best child's lexemes are the best of C(k, j) subsets of the query's k known lexemes."""
    return m.surprise - math.log(math.comb(m.known, m.matched)) if m.known else m.surprise


def composed(first: Setting, second: Setting) -> Setting:
    """Both corrections: each one's change to the surprise is applied (they subtract)."""
    return lambda m: first(m) + second(m) - m.surprise


LN = {f"ln {n}": math.log(n) for n in (100, 300, 1000, 3000)}
SETTINGS: dict[str, Setting] = {
    "today's default (surprise m - ln(N+1))": lambda m: m.surprise,
    **{f"(a) start grows below N+1 = e^L0, L0 = {name}": small_tenant(value) for name, value in LN.items()},
    "(b) surprise over documents": lambda m: m.document_surprise,
    "(c1) min(surprise, gap to BM25's 2nd document)": versus_runner_up,
    "(c2) gap to BM25's 2nd document": lambda m: m.surprise + m.log_n - m.runner_up,
    "(d1) surprise x coverage": lambda m: m.surprise * m.coverage,
    "(d2) surprise x coverage^2": lambda m: m.surprise * m.coverage**2,
    "(e) surprise - ln C(known, matched)": subset_corrected,
    **{f"(a)+(c1), L0 = {name}": composed(small_tenant(value), versus_runner_up) for name, value in LN.items()},
    **{f"(a)+(e), L0 = {name}": composed(small_tenant(LN[name]), subset_corrected) for name in ("ln 300", "ln 1000")},
    "(b)+(c1)": lambda m: min(m.document_surprise, m.surprise + m.log_n - m.runner_up),
    "(e)+(c1)": composed(subset_corrected, versus_runner_up),
    "(a) L0 = ln 1000 + (d1)": lambda m: small_tenant(LN["ln 1000"])(m) * m.coverage,
}
DEFAULT = next(iter(SETTINGS))


def documents(ranked: list[tuple[int, float]], owner: dict[int, str], query_id: str) -> list[str]:
    found = dict.fromkeys(owner[parent] for parent, _ in ranked)
    found.pop(query_id, None)
    return list(found)


def fused_run(data: dict[str, Any], setting: Setting | None) -> dict[str, list[str]]:
    """Each query's documents under ``setting`` (None: the product's surprise as collected)."""
    run = {}
    for query_id, query in data["queries"].items():
        lists = {name: [(parent, score) for parent, score, _ in parents] for name, parents in query["lists"].items()}
        owner = {parent: doc for parents in query["lists"].values() for parent, _, doc in parents}
        if setting is None:
            surprise = query["surprise"]
        else:
            match = match_of(query, children=data["N"], documents=data["D"])
            surprise = None if match is None else setting(match)
        weights = query_weights(
            QueryType(query["query_type"]),
            known_share=query["known_share"],
            keyword_scale=query["tenant_scale"],
            dense_margin=query["dense_margin"],
            keyword_surprise=surprise,
        )
        run[query_id] = documents(convex(lists, weights=weights)[:100], owner, query_id)
    return run


def single_run(data: dict[str, Any], retriever: str) -> dict[str, list[str]]:
    return {
        query_id: documents(
            [(p, s) for p, s, _ in query["lists"][retriever]], {p: d for p, _, d in query["lists"][retriever]}, query_id
        )
        for query_id, query in data["queries"].items()
    }


def figures(comparison: PairedComparison) -> dict[str, Any]:
    return {
        "difference": round(comparison.mean_difference, 4),
        "interval": [round(comparison.low, 4), round(comparison.high, 4)],
        "better": comparison.queries_better,
        "worse": comparison.queries_worse,
    }


def evaluate(data: dict[str, Any]) -> dict[str, Any]:
    qrels = data["qrels"]
    parts = {name: per_query_ndcg(qrels, single_run(data, name), k=K) for name in ("bm25", "dense")}
    best = max(parts, key=lambda name: statistics.fmean(parts[name].values()))
    collected = per_query_ndcg(qrels, fused_run(data, None), k=K)
    scores = {name: per_query_ndcg(qrels, fused_run(data, setting), k=K) for name, setting in SETTINGS.items()}
    base = scores[DEFAULT]
    assert all(abs(collected[q] - base[q]) < 1e-12 for q in qrels), "the surprise recomputed differs from the product's"
    rows = {}
    for name, per_query in scores.items():
        mean = statistics.fmean(per_query.values())
        rows[name] = {
            "ndcg": round(mean, 4),
            "ratio": round(mean / statistics.fmean(parts[best].values()), 4),
            "ratio_dense": round(mean / statistics.fmean(parts["dense"].values()), 5),
            "vs_best": figures(paired_bootstrap(per_query, parts[best])),
            "vs_default": figures(paired_bootstrap(per_query, base)),
        }
    matches = [match_of(q, children=data["N"], documents=data["D"]) for q in data["queries"].values()]
    surprises = sorted(m.surprise for m in matches if m is not None)
    return {
        "N": data["N"],
        "D": data["D"],
        "queries": len(qrels),
        "bm25": round(statistics.fmean(parts["bm25"].values()), 4),
        "dense": round(statistics.fmean(parts["dense"].values()), 4),
        "best_part": best,
        "median_surprise": round(surprises[len(surprises) // 2], 2) if surprises else None,
        "settings": rows,
    }


def passes(results: dict[str, Any], name: str) -> bool:
    """The rule's gates: covid-faq >= 1.03 x dense, man-desc not below today's default, man-option
    not below it by more than 0.005 nDCG@10."""
    row = {set_name: results[set_name]["settings"][name] for set_name in SETS}
    default = {set_name: results[set_name]["settings"][DEFAULT] for set_name in SETS}
    return (
        row["covid-faq"]["ratio_dense"] >= 1.03
        and row["man-desc"]["ndcg"] >= default["man-desc"]["ndcg"]
        and row["man-option"]["ndcg"] >= default["man-option"]["ndcg"] - 0.005
    )


def wins(row: dict[str, Any]) -> bool:
    """Beats today's default on Bitext dev: an interval above 0, or > 0.0005 with more better than worse."""
    versus = row["vs_default"]
    return versus["interval"][0] > 0 or (versus["difference"] > 0.0005 and versus["better"] > versus["worse"])


def main() -> None:
    parser = argparse.ArgumentParser(description="Re-fuse collected candidates under candidate settings.")
    parser.add_argument("--cand", type=Path, required=True, help="the pickles' folder")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    results = {}
    for set_name in SETS:
        with (args.cand / f"{set_name}.pkl").open("rb") as file:
            results[set_name] = evaluate(pickle.load(file))  # noqa: S301 - our own collected files
        summary = {key: value for key, value in results[set_name].items() if key != "settings"}
        sys.stdout.write(f"== {set_name} {json.dumps(summary)}\n")
        for name, row in results[set_name]["settings"].items():
            sys.stdout.write(f"  {name:55} {json.dumps(row)}\n")
    eligible = [name for name in SETTINGS if passes(results, name)]
    chosen = max(eligible, key=lambda name: results["bitext-dev"]["settings"][name]["ratio_dense"], default=None)
    verdict = chosen if chosen and chosen != DEFAULT and wins(results["bitext-dev"]["settings"][chosen]) else None
    sys.stdout.write(f"eligible: {eligible}\n")
    sys.stdout.write(f"highest Bitext dev among them: {chosen}; recommendation: {verdict or 'NO change'}\n")
    if args.json:
        args.json.write_text(
            json.dumps({"results": results, "eligible": eligible, "chosen": chosen, "verdict": verdict}, indent=1)
        )


if __name__ == "__main__":
    main()
