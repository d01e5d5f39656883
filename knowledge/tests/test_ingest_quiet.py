"""``manage.py ingest --verbosity 0`` prints nothing on success, as Django's commands do: no summary,
no line about the source it wrote into or took over, no progress bar; a file with errors is still
named on stderr, and the run still fails."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from knowledge.models import Document, KnowledgeSource
from supportai.models import Tenant

pytestmark = pytest.mark.django_db


def _ingest_quietly(tenant: Tenant, path: Path) -> tuple[str, str]:
    """Run ``ingest`` of ``path`` at verbosity 0, with its progress bar left on; returns stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    call_command("ingest", str(path), "--tenant", tenant.slug, "--verbosity", "0", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    kb = tmp_path / "kb"
    (kb / "sub").mkdir(parents=True)
    (kb / "faq.md").write_text("# FAQ\n\nAsked often.")
    (kb / "sub" / "hours.md").write_text("# Hours\n\nOpen 9 to 7.")
    return kb.resolve()


def test_ingest_at_verbosity_0_prints_nothing_on_success(tenant: Tenant, kb: Path) -> None:
    # given a subfolder ingested into a source of its own
    assert _ingest_quietly(tenant, kb / "sub") == ("", "")
    # when the folder, which takes that source over, and then a file of it are ingested at verbosity 0
    folder_run = _ingest_quietly(tenant, kb)
    (kb / "faq.md").write_text("# FAQ\n\nAsked very often.")
    file_run = _ingest_quietly(tenant, kb / "faq.md")
    # then neither printed anything, bar included, and both did their work
    assert folder_run == ("", "")
    assert file_run == ("", "")
    assert list(KnowledgeSource.objects.for_tenant(tenant).values_list("name", flat=True)) == [str(kb)]
    assert "very often" in Document.objects.for_tenant(tenant).get(external_id="faq.md").content
    assert Document.objects.for_tenant(tenant).filter(external_id="sub/hours.md").exists()


def test_ingest_at_verbosity_0_still_names_a_bad_file_and_fails(tenant: Tenant, kb: Path) -> None:
    # given a file that cannot be read
    (kb / "empty.md").write_text("")
    out, err = io.StringIO(), io.StringIO()
    # when the folder is ingested at verbosity 0, then the run fails, naming the file on stderr only
    with pytest.raises(CommandError, match=r"^1 of 3 files had errors \(listed above\)"):
        call_command(
            "ingest", str(kb), "--tenant", tenant.slug, "--verbosity", "0", "--no-progress", stdout=out, stderr=err
        )
    assert out.getvalue() == ""
    assert err.getvalue().startswith("empty.md: empty: ")
    assert Document.objects.for_tenant(tenant).count() == 2
