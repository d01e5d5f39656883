from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from knowledge.models import Document, KnowledgeSource


@pytest.fixture
def help_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "parking.md").write_text("# Parking\n\nFree parking behind the studio.")
    (tmp_path / "sub" / "hours.html").write_text("<title>Hours</title><main><p>Open 9 to 7.</p></main>")
    (tmp_path / "faq.csv").write_text('question,answer\nDo you sell gift cards?,Yes.\nIs there wifi?,"Yes, free."\n')
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "latin.txt").write_bytes("café".encode("latin-1"))
    (tmp_path / "notes.docx").write_bytes(b"PK")  # unsupported suffixes in folders are skipped
    return tmp_path


def test_ingest_folder_recursively_reports_bad_files_and_is_idempotent(tenant, help_folder, capsys):
    # when
    call_command("ingest", str(help_folder), "--tenant", tenant.slug, "--no-progress")
    # then
    captured = capsys.readouterr()
    assert "5 files: 4 created, 0 updated, 0 unchanged, 0 failed, 0 removed, 2 files with errors" in captured.out
    assert "empty.txt: empty" in captured.err and "latin.txt: encoding" in captured.err
    assert set(Document.objects.for_tenant(tenant).values_list("title", flat=True)) == {
        "Parking",
        "Hours",
        "Do you sell gift cards?",
        "Is there wifi?",
    }
    source = KnowledgeSource.objects.get(tenant=tenant)
    assert source.last_synced_at is not None
    # when run again, then nothing is redone
    call_command("ingest", str(help_folder), "--tenant", tenant.slug, "--no-progress")
    assert "0 created, 0 updated, 4 unchanged" in capsys.readouterr().out
    # when a file disappears, then its document goes
    (help_folder / "parking.md").unlink()
    call_command("ingest", str(help_folder), "--tenant", tenant.slug, "--no-progress")
    assert "1 removed" in capsys.readouterr().out
    assert not Document.objects.filter(title="Parking").exists()


def test_ingest_unknown_tenant_or_path(tenant, tmp_path):
    with pytest.raises(CommandError, match="No tenant"):
        call_command("ingest", str(tmp_path), "--tenant", "nobody")
    with pytest.raises(CommandError, match="does not exist"):
        call_command("ingest", str(tmp_path / "missing"), "--tenant", tenant.slug)


def test_reindex_command(tenant, help_folder, capsys):
    call_command("ingest", str(help_folder / "parking.md"), "--tenant", tenant.slug, "--no-progress")
    call_command("reindex", "--tenant", tenant.slug)
    assert "re-embedded 0 documents" in capsys.readouterr().out
    call_command("reindex", "--tenant", tenant.slug, "--force")
    assert "re-embedded 1 documents" in capsys.readouterr().out
