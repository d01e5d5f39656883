"""``reindex --force`` interrupted part-way resumes where it stopped (``--resume-from``)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest
from django.core.management import CommandError, call_command

from knowledge import services
from knowledge.management.commands import reindex
from knowledge.models import Document
from knowledge.providers.base import ProviderError, ProviderErrorKind
from knowledge.providers.fake import FakeEmbeddingProvider
from knowledge.tests.factories import add_document
from supportai.models import Tenant


class StopsAfter(FakeEmbeddingProvider):
    """Embeds ``calls`` batches, then fails as an outage would (the run is interrupted)."""

    def __init__(self, calls: int) -> None:
        super().__init__()
        self.left = calls
        self.texts = 0

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if self.left == 0:
            raise ProviderError("503", kind=ProviderErrorKind.UNAVAILABLE, retryable=True)
        self.left -= 1
        self.texts += len(texts)
        return super().embed_documents(texts)


def test_a_forced_reindex_resumes_after_the_documents_an_interrupted_run_did(
    tenant: Tenant, other_tenant: Tenant, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given three documents, re-indexed one per batch, and a run that stops after the first
    for title in ("Alpha", "Beta", "Gamma"):
        add_document(tenant, title, f"{title} text about parking.")
    theirs = add_document(other_tenant, "Theirs", "Their text.")
    monkeypatch.setattr(services, "INDEX_BATCH", 1)
    monkeypatch.setattr(reindex, "default_provider", lambda: StopsAfter(calls=1))
    with pytest.raises(CommandError):
        call_command("reindex", "--tenant", tenant.slug, "--force")
    started = re.search(r"--resume-from (\S+)", capsys.readouterr().out)
    assert started is not None
    # when it is run again from where it started
    provider = StopsAfter(calls=99)
    monkeypatch.setattr(reindex, "default_provider", lambda: provider)
    call_command("reindex", "--tenant", tenant.slug, "--force", "--resume-from", started.group(1))
    # then only the two documents the first run did not finish are embedded again, and all are ready
    assert "re-indexed 2 documents" in capsys.readouterr().out
    assert set(Document.objects.filter(tenant=tenant).values_list("status", flat=True)) == {"ready"}
    assert Document.objects.get(pk=theirs.pk).indexed_at == theirs.indexed_at


@pytest.mark.parametrize("value", ["yesterday", "2024-13-45T00:00:00", "2999-01-01T00:00:00+00:00"])
def test_resume_from_refuses_what_is_not_a_past_time(tenant: Tenant, value: str) -> None:
    with pytest.raises(CommandError, match="--resume-from"):
        call_command("reindex", "--tenant", tenant.slug, "--force", "--resume-from", value)


def test_a_reindex_with_nothing_to_do_says_so_in_one_line_and_gives_no_resume_hint(
    tenant: Tenant, other_tenant: Tenant, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given our documents all current, and another tenant's document failed (stale for its own re-index)
    add_document(tenant, "Parking", "Free parking behind the studio.")
    theirs = add_document(other_tenant, "Theirs", "Their text.")
    Document.objects.filter(pk=theirs.pk).update(status="failed")
    # when our tenant is re-indexed, then the run says there is nothing to do, in one line, and stops
    call_command("reindex", "--tenant", tenant.slug, "--no-progress")
    assert capsys.readouterr().out == "to re-index: nothing, every document matches the configuration\n"
    # and so does a dry run
    call_command("reindex", "--tenant", tenant.slug, "--dry-run")
    assert capsys.readouterr().out == "to re-index: nothing, every document matches the configuration\n"
    # and a resumed forced run whose documents were all done since it started
    call_command("reindex", "--tenant", tenant.slug, "--force", "--no-progress")
    started = re.search(r"--resume-from (\S+)", capsys.readouterr().out)
    assert started is not None
    call_command("reindex", "--tenant", tenant.slug, "--force", "--resume-from", started.group(1))
    assert capsys.readouterr().out == (f"to re-index: nothing, every document was indexed since {started.group(1)}\n")
    # and the other tenant's failed document is left to its own re-index
    assert Document.objects.get(pk=theirs.pk).status == "failed"


def test_a_forced_reindex_of_a_tenant_without_documents_says_so_in_one_line(
    tenant: Tenant, other_tenant: Tenant, capsys: pytest.CaptureFixture[str]
) -> None:
    add_document(other_tenant, "Theirs", "Their text.")
    call_command("reindex", "--tenant", tenant.slug, "--force", "--no-progress")
    assert capsys.readouterr().out == f"to re-index: nothing, {tenant.slug} has no documents to index\n"
