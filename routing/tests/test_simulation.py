from __future__ import annotations

import asyncio
from typing import Any

from routing.router import ESTIMATED_NOTE
from routing.simulation import _run, cascade_plan, fault_injection, questions, routing_simulation


def test_simulation_cost_per_turn_meets_targets_on_a_sample():
    row: Any = routing_simulation(limit=400)["rows"][0]  # type: ignore[index]

    assert row["usd_per_turn"] <= 0.002
    assert row["saving_vs_all_t3_%"] >= 80
    # each share is rounded to 0.1 on its own (400 turns: 93.25 / 6.55 / 0.2 show as 93.2 / 6.5 / 0.2)
    assert abs(row["answered_t1_%"] + row["answered_t2_%"] + row["answered_t3_%"] - 100.0) <= 0.15


def test_fault_injection_keeps_turns_answered():
    row: Any = fault_injection(sample=300)["rows"][0]  # type: ignore[index]

    assert row["answered_%"] >= 99.0
    assert row["latency_p95_faults_s"] >= row["latency_p95_clean_s"]


def test_a_simulated_timeout_is_booked_at_its_estimated_usage():
    # given every simulated call failing, some of them by timing out
    turns = asyncio.run(_run(questions()[:40], cascade_plan, fault_rate=1.0))
    timeouts = [call for turn in turns for call in turn.result.calls if "timed out" in call.error]
    assert timeouts
    # then, as for a real vendor's timeout, each is booked at its estimated usage, saying so (the
    # simulated requests carry no prompt text, so the estimate itself is 0 tokens)
    assert all(ESTIMATED_NOTE in call.error for call in timeouts)
