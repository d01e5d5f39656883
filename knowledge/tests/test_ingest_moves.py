"""A pruning ``ingest`` run of another folder into a folder source moves the source there all at once:
while a file there cannot be read or stored, or a folder there listed, nothing changes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from knowledge.models import Document, KnowledgeSource
from supportai.models import Tenant

pytestmark = pytest.mark.django_db


def _ingest(tenant: Tenant, path: Path, *args: str) -> None:
    call_command("ingest", str(path), "--tenant", tenant.slug, "--no-progress", *args)


def _titles(tenant: Tenant) -> dict[tuple[str, str], str]:
    documents = Document.objects.for_tenant(tenant).values_list("source__name", "external_id", "title")
    return {(source, external_id): title for source, external_id, title in documents}


def _folders(tmp_path: Path) -> tuple[Path, Path]:
    """The folder of the source "Help" and another one, each with a faq.md."""
    docs, other = tmp_path / "docs", tmp_path / "other"
    for folder, faq in ((docs, "Parking"), (other, "Gift cards")):
        folder.mkdir()
        (folder / "faq.md").write_text(f"# {faq}\n\nAsked often.")
    (docs / "hours.md").write_text("# Hours\n\nOpen 9 to 7.")
    (other / "news.md").write_text("# News\n\nA new studio.")
    return docs, other


def test_a_pruning_run_of_another_folder_with_a_bad_file_leaves_the_source_as_it_was(
    tenant: Tenant, other_tenant: Tenant, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given "Help" made from docs/ in two tenants, and another folder with a file that cannot be read
    docs, other = _folders(tmp_path)
    for owner in (tenant, other_tenant):
        _ingest(owner, docs, "--source", "Help")
    (other / "empty.md").write_text("")
    capsys.readouterr()
    # when that folder is ingested into "Help" with pruning
    with pytest.raises(CommandError) as refused:
        _ingest(tenant, other, "--source", "Help")
    # then the bad file is named, and nothing of the other folder went into the source
    assert str(refused.value) == (
        f"1 of 3 files had errors (listed above); nothing was changed: this run would move the source 'Help' "
        f"from {docs} to {other}, which it does only once it has read every file there."
    )
    assert "empty.md: empty: " in capsys.readouterr().err
    assert _titles(tenant) == {("Help", "faq.md"): "Parking", ("Help", "hours.md"): "Hours"}
    assert KnowledgeSource.objects.get(tenant=tenant, name="Help").config == {"path": str(docs)}
    # when the file is mended, then the source moves, its own files replaced by the other folder's
    (other / "empty.md").write_text("# Empty\n\nNot any more.")
    _ingest(tenant, other, "--source", "Help")
    assert _titles(tenant) == {
        ("Help", "faq.md"): "Gift cards",
        ("Help", "news.md"): "News",
        ("Help", "empty.md"): "Empty",
    }
    assert KnowledgeSource.objects.get(tenant=tenant, name="Help").config == {"path": str(other)}
    # and the other tenant's "Help" is its own all along
    assert _titles(other_tenant) == {("Help", "faq.md"): "Parking", ("Help", "hours.md"): "Hours"}


def test_a_pruning_run_of_another_folder_with_a_folder_it_cannot_list_changes_nothing(
    tenant: Tenant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given "Help" made from docs/, and another folder whose subfolder cannot be listed
    docs, other = _folders(tmp_path)
    _ingest(tenant, docs, "--source", "Help")
    (other / "sub").mkdir()
    real_scandir = os.scandir

    def scandir(path: Any = ".") -> Any:
        if Path(path) == other / "sub":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    # when that folder is ingested into "Help" with pruning
    with pytest.raises(CommandError, match=r"^1 folder could not be read \(listed above\); nothing was changed: "):
        _ingest(tenant, other, "--source", "Help")
    # then the source holds its own folder's files still
    assert _titles(tenant) == {("Help", "faq.md"): "Parking", ("Help", "hours.md"): "Hours"}
    assert KnowledgeSource.objects.get(tenant=tenant, name="Help").config == {"path": str(docs)}
