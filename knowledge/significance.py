"""Is one retrieval mode really better than another on a set of queries, or is it noise?

Two modes answer the same queries, so their per-query scores are paired: the question is the mean
of the per-query differences. ``paired_bootstrap`` resamples the queries with replacement and
reads the interval of that mean off the resampled means (the percentile bootstrap, as IR papers
compare systems); a fixed seed makes a benchmark's figures repeat run to run.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Mapping
from dataclasses import dataclass

RESAMPLES = 2000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class PairedComparison:
    """Mode a against mode b over the same queries."""

    mean_difference: float  # mean of a - b per query
    low: float  # the confidence interval of that mean
    high: float
    queries_better: int  # queries where a scored higher than b
    queries_worse: int
    confidence: float
    resamples: int

    @property
    def is_gain(self) -> bool:
        """The whole interval lies above 0: a measured gain, not noise."""
        return self.low > 0

    @property
    def is_loss(self) -> bool:
        return self.high < 0

    def interval_text(self, metric: str) -> str:
        """``+0.0243 nDCG@10, 95 % interval [+0.0077, +0.0424]``: the difference as commands print it."""
        return (
            f"{self.mean_difference:+.4f} {metric}, "
            f"{round(self.confidence * 100)} % interval [{self.low:+.4f}, {self.high:+.4f}]"
        )

    def as_json(self) -> dict[str, float | int | list[float]]:
        return {
            "mean_difference": round(self.mean_difference, 4),
            f"interval_{round(self.confidence * 100)}": [round(self.low, 4), round(self.high, 4)],
            "queries_better": self.queries_better,
            "queries_worse": self.queries_worse,
            "resamples": self.resamples,
        }


def paired_bootstrap(
    a: Mapping[str, float],
    b: Mapping[str, float],
    *,
    resamples: int = RESAMPLES,
    confidence: float = CONFIDENCE,
    seed: int = 0,
) -> PairedComparison:
    """Mean per-query difference ``a - b`` with its percentile-bootstrap interval. Both must score
    the same queries (ValueError otherwise, rather than comparing different sets)."""
    if set(a) != set(b):
        raise ValueError("paired comparison needs the same queries on both sides")
    if not a:
        raise ValueError("paired comparison needs at least one query")
    if resamples < 1 or not 0 < confidence < 1:
        raise ValueError("resamples must be positive and confidence between 0 and 1")
    differences = [a[query] - b[query] for query in sorted(a)]
    rng = random.Random(seed)  # noqa: S311 - resampling for statistics, not security
    means = sorted(statistics.fmean(rng.choices(differences, k=len(differences))) for _ in range(resamples))
    tail = (1 - confidence) / 2
    low = means[max(0, math.floor(tail * resamples))]
    high = means[min(resamples - 1, math.ceil((1 - tail) * resamples) - 1)]
    return PairedComparison(
        mean_difference=statistics.fmean(differences),
        low=low,
        high=high,
        queries_better=sum(difference > 0 for difference in differences),
        queries_worse=sum(difference < 0 for difference in differences),
        confidence=confidence,
        resamples=resamples,
    )
