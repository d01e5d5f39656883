"""Routing benchmarks for ``make bench`` (see ``routing/simulation.py``)."""

from __future__ import annotations

from supportai.benchmarks import BenchmarkResult, benchmark


@benchmark("routing_simulation")
def routing_simulation_benchmark() -> BenchmarkResult:
    """Tier distribution, cost per interaction and saving against all-tier-3 on Bitext + covid-faq questions."""
    from routing.simulation import routing_simulation

    return routing_simulation()


@benchmark("routing_fault_injection")
def routing_fault_injection_benchmark() -> BenchmarkResult:
    """20 % of provider calls fail (429/500/529/timeouts/cut streams): share answered, added latency, overhead."""
    from routing.simulation import fault_injection

    return fault_injection()
