"""``manage.py ingest DIR`` skips the special files under DIR (named pipes, sockets, devices) without
opening them, as opening a named pipe waits for a writer, and says so: they are counted in the
summary's skipped files, by kind, and named at ``--verbosity 2``, as files of a type it does not read."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from knowledge.models import Document
from supportai.models import Tenant


@pytest.fixture
def folder_with_special_files(tmp_path: Path) -> Iterator[Path]:
    """An article, a Word file, two named pipes (one named like an article), a link to one, and a socket."""
    (tmp_path / "parking.md").write_text("# Parking\n\nFree parking.")
    (tmp_path / "notes.docx").write_bytes(b"PK")
    (tmp_path / "sub").mkdir()
    os.mkfifo(tmp_path / "sub" / "pipe.md")
    os.mkfifo(tmp_path / "queue")
    (tmp_path / "link.md").symlink_to(tmp_path / "sub" / "pipe.md")
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind(str(tmp_path / "agent.sock"))
        yield tmp_path


@pytest.mark.timeout(60)  # a named pipe opened for reading would wait for a writer until then
def test_ingest_counts_special_files_as_skipped_and_names_them_at_verbosity_2(
    tenant: Tenant, other_tenant: Tenant, folder_with_special_files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # when the folder is ingested
    call_command("ingest", str(folder_with_special_files), "--tenant", tenant.slug, "--no-progress")
    # then its article is read, and the special files are counted by kind next to the Word file
    captured = capsys.readouterr()
    assert captured.out == (
        "1 file: 1 document created, 0 updated, 0 unchanged, 0 failed, 0 removed, 0 files with errors, "
        "5 files skipped: unsupported type (.docx), special file (named pipe \u00d73, socket)\n"
    )
    assert Document.objects.for_tenant(tenant).get().external_id == "parking.md"
    assert not Document.objects.for_tenant(other_tenant).exists()
    # and at verbosity 2 each skipped file is named with why
    call_command("ingest", str(folder_with_special_files), "--tenant", tenant.slug, "--no-progress", "--verbosity", 2)
    assert capsys.readouterr().err.splitlines() == [
        "agent.sock: skipped: special file (socket)",
        "link.md: skipped: special file (named pipe)",
        "notes.docx: skipped: unsupported type (.docx)",
        "queue: skipped: special file (named pipe)",
        "sub/pipe.md: skipped: special file (named pipe)",
    ]


@pytest.mark.timeout(60)
def test_ingest_of_a_folder_of_only_special_files_says_what_it_skipped(tenant: Tenant, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "faq.csv")
    with pytest.raises(CommandError, match=r"under .* \(1 file skipped: special file \(named pipe\)\); nothing was"):
        call_command("ingest", str(tmp_path), "--tenant", tenant.slug, "--no-progress")
    assert not Document.objects.for_tenant(tenant).exists()
