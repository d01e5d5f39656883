"""Management commands: the Bitext converter and the evaluation report."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from escalations.demo import seed_demo_escalations
from escalations.models import EscalationPolicy
from supportai.datasets import split_of
from supportai.models import Tenant

BITEXT_HEADER = "instruction,intent,category\n"


def write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text(BITEXT_HEADER + "".join(f'"{text}",{intent},X\n' for text, intent in rows))
    return path


def test_converter_labels_intents_and_the_evaluation_scores_them(tmp_path: Path) -> None:
    write_csv(
        tmp_path / "bitext.csv",
        [
            ("I want to talk to a human agent", "contact_human_agent"),
            ("how do I lodge a complaint", "complaint"),
            ("where is my order", "track_order"),
            ("I need to speak to someone", "complaint"),  # fired by human_request, still a true positive
            ("what time can I call customer service", "contact_customer_service"),
            ("check my invoice", "check_invoice"),
        ],
    )
    jsonl, report = tmp_path / "lines.jsonl", tmp_path / "report.json"
    out = StringIO()
    call_command("bitext_escalation_jsonl", csv=str(tmp_path), out=str(jsonl), stdout=out)
    assert "3 escalate, 2 ordinary, 1 ambiguous" in out.getvalue()
    lines = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert {line["group"]: line["escalate"] for line in lines}["track_order"] is False
    printed = StringIO()
    call_command("evaluate_escalation", jsonl=str(jsonl), json=str(report), stdout=printed)
    data = json.loads(report.read_text())
    assert data["lines"] == 5 and data["recall"] == 1.0 and data["fp_rate"] == 0.0
    assert data["reasons"]["complaint"]["recall"] == 1.0 and data["reasons"]["human_request"]["precision"] == 1.0
    assert "precision 1.0000  recall 1.0000  false-positive rate 0.0000" in printed.getvalue()


def test_split_is_stable_and_halves_the_data(tmp_path: Path) -> None:
    texts = [f"question number {n}" for n in range(400)]
    dev = [t for t in texts if split_of(t) == "dev"]
    assert 150 < len(dev) < 250 and dev == [t for t in texts if split_of(t) == "dev"]


@pytest.mark.parametrize(
    ("content", "message"),
    [('{"text": "x"}\n', "needs a boolean 'escalate'"), ("not json\n", "not JSON"), ("", "has no lines")],
)
def test_bad_jsonl_gets_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(CommandError, match=message):
        call_command("evaluate_escalation", jsonl=str(path), stdout=StringIO())


def test_converter_reads_a_csv_saved_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bitext.csv", [("I want to talk to a human agent", "contact_human_agent")])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # Excel's "CSV UTF-8"
    out = StringIO()
    call_command("bitext_escalation_jsonl", csv=str(path), out=str(tmp_path / "o.jsonl"), stdout=out)
    assert "1 escalate, 0 ordinary" in out.getvalue()


def test_converter_refuses_a_csv_without_bitext_columns(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(CommandError, match="no 'instruction' and 'intent' columns"):
        call_command("bitext_escalation_jsonl", csv=str(path), out=str(tmp_path / "o.jsonl"), stdout=StringIO())


@pytest.mark.django_db
def test_demo_step_is_idempotent_and_keeps_staff_changes(tenant: Tenant) -> None:
    assert "created" in seed_demo_escalations(tenant)
    EscalationPolicy.objects.filter(tenant=tenant).update(team_name="night shift")
    assert "kept" in seed_demo_escalations(tenant)
    policy = EscalationPolicy.objects.get(tenant=tenant)
    assert policy.team_name == "night shift" and policy.weekly_hours["sun"] == [["06:00", "24:00"]]
