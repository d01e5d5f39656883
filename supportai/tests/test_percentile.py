"""Benchmark percentiles are nearest-rank (supportai/benchmarks.py)."""

from __future__ import annotations

import pytest

from supportai.benchmarks import percentile


@pytest.mark.parametrize(
    ("samples", "fraction", "expected"),
    [
        (list(range(1, 21)), 0.95, 19),  # 0.95 * 20 = 19: the 19th, not the maximum
        ([1, 2], 0.5, 1),  # half of two is the first
        (list(range(1, 11)), 0.5, 5),
        (list(range(1, 101)), 0.95, 95),
        (list(range(1, 22)), 0.95, 20),  # 19.95 rounds up to the 20th
        (list(range(1, 6)), 0.5, 3),
        ([7], 0.5, 7),
        ([7], 0.95, 7),
        ([3, 1, 2], 0.0, 1),
        ([3, 1, 2], 1.0, 3),
    ],
)
def test_percentile_is_the_nearest_rank(samples, fraction, expected):
    assert percentile(samples, fraction) == expected


def test_percentile_orders_the_samples_and_is_zero_without_any():
    assert percentile([5.0, 1.0, 4.0, 2.0, 3.0, 6.0], 0.5) == 3.0
    assert percentile([], 0.5) == 0.0
