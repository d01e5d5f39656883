from __future__ import annotations

import dataclasses
import io
import json
import logging
import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from tqdm import tqdm

from knowledge import conf, folder_ingest, folder_path, services
from knowledge.demo import DEMO_CONFIG, demo_source
from knowledge.management.commands import ingest
from knowledge.models import Chunk, Document, DocumentStatus, KnowledgeSource, SourceKind, SourceStatus
from knowledge.record_formats import csv_row_id
from knowledge.services import FileResult
from knowledge.source_config import UPLOAD_SOURCE
from knowledge.tests.factories import add_document
from knowledge.uploads import files_upload
from supportai.models import Tenant

# What the summary says of help_folder's notes.docx.
DOCX_SKIPPED = "1 file skipped: unsupported type (.docx)"


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
    _ingest(tenant, help_folder, errors=2)
    # then
    captured = capsys.readouterr()
    assert captured.out == (
        "5 files: 4 documents created, 0 updated, 0 unchanged, 0 failed, 0 removed, 2 files with errors, "
        "1 file skipped: unsupported type (.docx); "
        "pruning skipped: 2 files had errors\n"
    )
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
    _ingest(tenant, help_folder, errors=2)
    assert "0 documents created, 0 updated, 4 unchanged" in capsys.readouterr().out
    # when the bad files are gone and so is a good one, then its document goes
    for name in ("parking.md", "empty.txt", "latin.txt"):
        (help_folder / name).unlink()
    _ingest(tenant, help_folder)
    assert capsys.readouterr().out.endswith(
        " 3 unchanged, 0 failed, 1 removed, 0 files with errors, 1 file skipped: unsupported type (.docx)\n"
    )
    assert not Document.objects.filter(title="Parking").exists()


def test_ingest_summary_counts_files_and_documents_apart(tenant: Tenant, tmp_path: Path) -> None:
    # given a FAQ of three rows and a file that cannot be read: two files, three documents
    (tmp_path / "faq.csv").write_text("question,answer\nIs there wifi?,Yes.\nCan I park?,Yes.\nGift cards?,Yes.\n")
    (tmp_path / "latin.txt").write_bytes("café".encode("latin-1"))
    out = io.StringIO()
    # when the folder is ingested
    with pytest.raises(CommandError, match=r"^1 of 2 files had errors"):
        call_command(
            "ingest", str(tmp_path), "--tenant", tenant.slug, "--no-progress", stdout=out, stderr=io.StringIO()
        )
    # then the summary says the three created are documents, not three of the two files
    assert out.getvalue().startswith("2 files: 3 documents created, 0 updated, 0 unchanged, 0 failed, 0 removed, ")
    assert ", 1 file with errors; " in out.getvalue()


def test_ingest_unknown_tenant_or_path(tenant, tmp_path):
    with pytest.raises(CommandError, match="No tenant"):
        call_command("ingest", str(tmp_path), "--tenant", "nobody")
    with pytest.raises(CommandError, match="does not exist"):
        call_command("ingest", str(tmp_path / "missing"), "--tenant", tenant.slug)


def test_reindex_command(tenant, help_folder, capsys):
    call_command("ingest", str(help_folder / "parking.md"), "--tenant", tenant.slug, "--no-progress")
    assert capsys.readouterr().out.startswith("1 file: 1 document created, ")
    call_command("reindex", "--tenant", tenant.slug)
    assert capsys.readouterr().out == "to re-index: nothing, every document matches the configuration\n"
    call_command("reindex", "--tenant", tenant.slug, "--force")
    assert "re-indexed 1 document of" in capsys.readouterr().out


def test_reindex_command_re_embeds_the_tenants_documents_when_the_configured_model_changes(
    tenant: Tenant, other_tenant: Tenant, help_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given both tenants' documents embedded by the configured model
    call_command(
        "ingest", str(help_folder / "parking.md"), "--tenant", tenant.slug, "--no-progress", stdout=io.StringIO()
    )
    call_command("ingest", str(help_folder / "faq.csv"), "--tenant", tenant.slug, "--no-progress", stdout=io.StringIO())
    add_document(other_tenant, "Theirs", "Their parking.")
    old = conf.SETTINGS.embedding_model or "fake-hash-384"
    # when the configuration names another model and the tenant is re-indexed
    monkeypatch.setattr(conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, embedding_model="fake-v2"))
    out = io.StringIO()
    call_command("reindex", "--tenant", tenant.slug, "--no-progress", stdout=out)
    # then the run says why and how many, and every chunk of the tenant's is the new model's
    assert "to re-index: 3 documents: another embedding model\n" in out.getvalue()
    assert out.getvalue().endswith(f"re-indexed 3 documents of {tenant.slug} with fake:fake-v2\n")
    ours = Chunk.objects.filter(tenant=tenant, level="child")
    assert ours.exists() and set(ours.values_list("embedding_model", flat=True)) == {"fake-v2"}
    assert set(Document.objects.for_tenant(tenant).values_list("embedding_model", "status")) == {("fake-v2", "ready")}
    # and the other tenant's are left to their own re-index
    theirs = Chunk.objects.filter(tenant=other_tenant, level="child")
    assert set(theirs.values_list("embedding_model", flat=True)) == {old}
    # and a second run finds nothing left to do
    again = io.StringIO()
    call_command("reindex", "--tenant", tenant.slug, "--no-progress", stdout=again)
    assert again.getvalue() == "to re-index: nothing, every document matches the configuration\n"


def test_reindex_shows_its_progress_on_stderr_unless_told_not_to(tenant: Tenant, other_tenant: Tenant) -> None:
    # given three documents of ours and one of another tenant's
    for title in ("Parking", "Hours", "Refunds"):
        add_document(tenant, title, f"{title} of the studio.")
    add_document(other_tenant, "Theirs", "Their parking.")
    stdout, stderr = io.StringIO(), io.StringIO()
    # when all of ours are re-indexed
    call_command("reindex", "--tenant", tenant.slug, "--force", stdout=stdout, stderr=stderr)
    # then a bar counts them on one line of stderr, ended there, and stdout holds the report alone
    lines = stderr.getvalue().split("\n")
    assert len(lines) == 2 and lines[1] == ""
    assert "| 3/3 [" in lines[0].split("\r")[-1]
    assert "\r" not in stdout.getvalue() and "re-indexed 3 documents of" in stdout.getvalue()
    # and with --no-progress, or nothing to re-index, nothing is drawn
    quiet, idle = io.StringIO(), io.StringIO()
    call_command("reindex", "--tenant", tenant.slug, "--force", "--no-progress", stdout=io.StringIO(), stderr=quiet)
    call_command("reindex", "--tenant", tenant.slug, stdout=io.StringIO(), stderr=idle)
    assert quiet.getvalue() == idle.getvalue() == ""


def _ingest(tenant: Tenant, path: Path, *args: str, errors: int = 0) -> None:
    """Run ``ingest``; with ``errors``, expect it to end with status 1 for that many bad files."""
    if not errors:
        call_command("ingest", str(path), "--tenant", tenant.slug, "--no-progress", *args)
        return
    with pytest.raises(CommandError, match=rf"^{errors} of \d+ files? had errors \(listed above\); "):
        call_command("ingest", str(path), "--tenant", tenant.slug, "--no-progress", *args)


def _external_ids(tenant: Tenant) -> set[str]:
    return set(Document.objects.for_tenant(tenant).values_list("external_id", flat=True))


def test_ingest_keeps_the_documents_of_a_file_that_became_malformed(
    tenant: Tenant, help_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    (help_folder / "empty.txt").unlink()
    (help_folder / "latin.txt").unlink()
    _ingest(tenant, help_folder)
    before = _external_ids(tenant)
    capsys.readouterr()
    # when the FAQ loses its header row
    (help_folder / "faq.csv").write_text("Do you sell gift cards?,Yes.\nIs there wifi?,Yes.\n")
    _ingest(tenant, help_folder, errors=1)
    # then it is reported and its two questions are still there
    captured = capsys.readouterr()
    assert "faq.csv: malformed: A CSV FAQ needs a header row" in captured.err
    assert captured.out.endswith(
        "0 removed, 1 file with errors, 1 file skipped: unsupported type (.docx); pruning skipped: 1 file had errors\n"
    )
    assert _external_ids(tenant) == before and len(before) == 4
    # when it is fixed with one question left, then the other goes
    (help_folder / "faq.csv").write_text("question,answer\nDo you sell gift cards?,Yes.\n")
    _ingest(tenant, help_folder)
    assert "1 removed, 0 files with errors, 1 file skipped: unsupported type (.docx)\n" in capsys.readouterr().out
    assert len(_external_ids(tenant)) == 3


def test_ingest_reports_an_unreadable_file_and_goes_on(
    tenant: Tenant, help_folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a file that cannot be read (chmod 000 does not stop root, who runs the tests)
    locked = help_folder / "parking.md"
    real_read_bytes = Path.read_bytes

    def read_bytes(path: Path) -> bytes:
        if path == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    # when
    _ingest(tenant, help_folder, errors=3)
    # then
    captured = capsys.readouterr()
    assert "parking.md: unreadable: The file could not be read: Permission denied.\n" in captured.err
    assert (
        "3 documents created" in captured.out
        and "3 files with errors, 1 file skipped: unsupported type (.docx); pruning skipped" in captured.out
    )
    assert "Parking" not in set(Document.objects.for_tenant(tenant).values_list("title", flat=True))


def _unlistable(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Make ``folder`` fail to list, as a folder whose permissions changed or a dropped network mount
    does (chmod 000 does not stop root, who runs the tests)."""
    real_scandir = os.scandir

    def scandir(path: Any = ".") -> Any:
        if Path(path) == folder:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)


def test_ingest_reports_a_folder_it_cannot_list_and_prunes_nothing(
    tenant: Tenant, help_folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a folder ingested with its subfolder's page
    (help_folder / "empty.txt").unlink()
    (help_folder / "latin.txt").unlink()
    _ingest(tenant, help_folder)
    before = _external_ids(tenant)
    assert "sub/hours.html" in before
    capsys.readouterr()
    # when the subfolder can no longer be listed
    _unlistable(monkeypatch, help_folder / "sub")
    with pytest.raises(CommandError, match=r"^1 folder could not be read \(listed above\); "):
        call_command("ingest", str(help_folder), "--tenant", tenant.slug, "--no-progress")
    # then it is named, the run fails, and the page under it is not taken for gone
    captured = capsys.readouterr()
    assert "sub: unreadable: The folder could not be read: Permission denied.\n" in captured.err
    assert captured.out.endswith("pruning skipped: 1 folder could not be read\n")
    assert _external_ids(tenant) == before


def test_ingest_of_a_folder_it_cannot_list_changes_nothing_and_says_why(
    tenant: Tenant, help_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _unlistable(monkeypatch, help_folder)
    with pytest.raises(CommandError, match=r"could not be read: Permission denied; nothing was changed"):
        call_command("ingest", str(help_folder), "--tenant", tenant.slug, "--no-progress")
    assert not KnowledgeSource.objects.filter(tenant=tenant).exists()


def test_ingest_reports_a_file_it_cannot_look_at_instead_of_crashing(
    tenant: Tenant, help_folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a folder ingested, then a subfolder that can be listed but not entered (mode r--: its
    # files' names are known, but looking at them fails; chmod does not stop root, who runs the tests)
    (help_folder / "empty.txt").unlink()
    (help_folder / "latin.txt").unlink()
    _ingest(tenant, help_folder)
    before = _external_ids(tenant)
    capsys.readouterr()
    locked = help_folder / "sub" / "hours.html"
    real_stat = Path.stat

    def stat(path: Path, **kwargs: Any) -> os.stat_result:
        if path == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_stat(path, **kwargs)

    monkeypatch.setattr(Path, "stat", stat)
    # when
    _ingest(tenant, help_folder, errors=1)
    # then the file is named with why, and its page is not taken for gone
    captured = capsys.readouterr()
    assert "sub/hours.html: unreadable: The file could not be read: Permission denied.\n" in captured.err
    assert captured.out.endswith("pruning skipped: 1 file had errors\n")
    assert _external_ids(tenant) == before


def test_ingest_logs_an_unexpected_error_and_goes_on(
    tenant: Tenant,
    help_folder: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given a file whose ingestion raises what nothing expects
    real_file_ingest = folder_ingest.file_ingest

    def file_ingest(**kwargs: Any) -> FileResult:
        if kwargs["name"] == "parking.md":
            raise RuntimeError("ingest bug")
        return real_file_ingest(**kwargs)

    monkeypatch.setattr(folder_ingest, "file_ingest", file_ingest)
    # when
    with caplog.at_level(logging.ERROR, logger=folder_ingest.__name__):
        _ingest(tenant, help_folder, errors=3)
    # then
    captured = capsys.readouterr()
    assert "parking.md: internal: This file could not be indexed; the error was logged.\n" in captured.err
    assert "RuntimeError: ingest bug" in caplog.text
    assert (
        "3 documents created" in captured.out
        and "3 files with errors, 1 file skipped: unsupported type (.docx); pruning skipped" in captured.out
    )


def test_ingest_refuses_an_oversized_file_without_reading_it(
    tenant: Tenant, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, max_upload_bytes=1024))
    big = "# Big\n\n" + "Long text. " * 200
    (tmp_path / "big.md").write_text(big)
    (tmp_path / "small.md").write_text("# Small\n\nShort text.")
    read: list[str] = []
    real_read_bytes = Path.read_bytes

    def read_bytes(path: Path) -> bytes:
        read.append(path.name)
        return real_read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    _ingest(tenant, tmp_path, errors=1)
    said = f"The file is {len(big)} bytes ({len(big) / 1024:.1f} KB); the limit is 1024 bytes (1.0 KB)."
    assert f"big.md: too_large: {said}" in capsys.readouterr().err
    assert read == ["small.md"] and _external_ids(tenant) == {"small.md"}


def test_ingest_beir_folder_takes_the_corpus_and_not_the_queries(
    tenant: Tenant, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a BEIR folder
    (tmp_path / "qrels").mkdir()
    (tmp_path / "corpus.jsonl").write_text(
        json.dumps({"_id": "d1", "title": "Parking", "text": "Free parking behind the studio."}) + "\n"
    )
    (tmp_path / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "Where do I park?"}) + "\n")
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    # when
    _ingest(tenant, tmp_path)
    # then
    assert capsys.readouterr().out.startswith("1 file: 1 document created,")
    assert _external_ids(tenant) == {"d1"}
    # when the queries file is named on its own, then it is refused and says why
    _ingest(tenant, tmp_path / "queries.jsonl", errors=1)
    assert "queries.jsonl: unsupported: queries.jsonl is a BEIR data set's questions, not documents" in (
        capsys.readouterr().err
    )
    assert _external_ids(tenant) == {"d1"}


def test_ingest_reads_a_folder_inside_a_hidden_one(tenant: Tenant, tmp_path: Path) -> None:
    folder = tmp_path / ".config" / "help"
    (folder / ".drafts").mkdir(parents=True)
    (folder / "parking.md").write_text("# Parking\n\nFree parking.")
    (folder / ".drafts" / "hours.md").write_text("# Hours\n\nOpen 9 to 7.")
    _ingest(tenant, folder)
    assert _external_ids(tenant) == {"parking.md"}


def test_ingest_counts_the_files_it_skips_and_the_hidden_entries_and_lists_them_at_verbosity_2(
    tenant: Tenant, other_tenant: Tenant, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a folder of one article, files of types ingest does not read, and hidden files and folders
    (tmp_path / "img").mkdir()
    (tmp_path / "parking.md").write_text("# Parking\n\nFree parking.")
    (tmp_path / "img" / "map.png").write_bytes(b"\x89PNG")
    (tmp_path / "img" / "LOGO.PNG").write_bytes(b"\x89PNG")
    (tmp_path / "notes.docx").write_bytes(b"PK")
    (tmp_path / "LICENSE").write_text("MIT")
    (tmp_path / ".DS_Store").write_bytes(b"\x00")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("[core]")
    # when it is ingested
    _ingest(tenant, tmp_path)
    # then the run succeeds and its summary counts the skipped files by type, and the hidden entries it
    # met, a hidden folder as one (what .git holds is not counted)
    captured = capsys.readouterr()
    assert captured.out == (
        "1 file: 1 document created, 0 updated, 0 unchanged, 0 failed, 0 removed, 0 files with errors, "
        "4 files skipped: unsupported type (.png \u00d72, .docx, no suffix), "
        "2 hidden entries left out (.DS_Store, .git)\n"
    )
    assert captured.err == ""
    assert _external_ids(tenant) == {"parking.md"}
    # and at verbosity 2 each skipped file and hidden entry is named on stderr
    _ingest(tenant, tmp_path, "--verbosity", "2")
    err = capsys.readouterr().err
    assert err.splitlines() == [
        ".DS_Store: skipped: hidden file",
        ".git: skipped: hidden folder, not looked into",
        "LICENSE: skipped: unsupported type (no suffix)",
        "img/LOGO.PNG: skipped: unsupported type (.png)",
        "img/map.png: skipped: unsupported type (.png)",
        "notes.docx: skipped: unsupported type (.docx)",
    ]
    # and the other tenant got nothing
    assert not Document.objects.for_tenant(other_tenant).exists()


def test_ingest_of_a_folder_of_only_unsupported_files_says_what_it_skipped(tenant: Tenant, tmp_path: Path) -> None:
    (tmp_path / "logo.png").write_bytes(b"\x89PNG")
    with pytest.raises(CommandError, match=r"under .* \(1 file skipped: unsupported type \(\.png\)\); nothing was"):
        _ingest(tenant, tmp_path)


def test_ingest_of_a_folder_of_only_hidden_entries_says_what_it_left_out(tenant: Tenant, tmp_path: Path) -> None:
    # given a folder whose articles are all hidden: a drafts folder and a file
    (tmp_path / ".drafts").mkdir()
    (tmp_path / ".drafts" / "hours.md").write_text("# Hours\n\nOpen 9 to 7.")
    (tmp_path / ".drafts" / ".old.md").write_text("# Old\n\nGone.")
    (tmp_path / ".faq.md").write_text("# FAQ\n\nAsk us.")
    # when / then the run changes nothing, and says the two were left out
    hidden = "2 hidden entries left out (.drafts, .faq.md)"
    with pytest.raises(
        CommandError, match=re.escape(ingest.NO_FILES.format(path=tmp_path.resolve(), skipped=f" ({hidden})"))
    ):
        _ingest(tenant, tmp_path)
    assert not KnowledgeSource.objects.exists()


def test_ingest_names_a_few_hidden_entries_and_counts_those_in_subfolders(
    tenant: Tenant, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given an article, and hidden files at the top and in subfolders, two of them named alike
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "parking.md").write_text("# Parking\n\nFree parking.")
    for name in (".a.md", ".b.md", ".c.md", "a/.swp", "a/b/.swp", "a/.z"):
        (tmp_path / name).write_text("x")
    # when
    _ingest(tenant, tmp_path)
    # then the summary counts all six, names the most frequent few, and says there are more
    assert capsys.readouterr().out.endswith(", 6 hidden entries left out (.swp \u00d72, .a.md, .b.md, \u2026)\n")
    assert _external_ids(tenant) == {"parking.md"}


def test_ingest_refuses_a_source_name_longer_than_its_column(tenant: Tenant, help_folder: Path) -> None:
    with pytest.raises(CommandError, match="longer than 255 characters"):
        _ingest(tenant, help_folder, "--source", "s" * 256)
    assert not KnowledgeSource.objects.exists()


def test_ingest_into_one_tenant_never_touches_another_tenants_documents(
    tenant: Tenant, other_tenant: Tenant, help_folder: Path
) -> None:
    # given both tenants ingested the same folder: same source name, same external ids
    _ingest(tenant, help_folder, "--source", "Help", errors=2)
    _ingest(other_tenant, help_folder, "--source", "Help", errors=2)
    theirs = {
        document.external_id: (document.pk, document.content_hash, document.updated_at)
        for document in Document.objects.for_tenant(other_tenant)
    }
    their_chunks = set(Chunk.objects.filter(tenant=other_tenant).values_list("pk", flat=True))
    assert set(theirs) == _external_ids(tenant) and len(theirs) == 4
    # when one tenant's folder changes (an edit, a removal) and is ingested again with pruning
    for name in ("empty.txt", "latin.txt", "parking.md"):
        (help_folder / name).unlink()
    (help_folder / "sub" / "hours.html").write_text("<title>Hours</title><main><p>Open 8 to 8.</p></main>")
    _ingest(tenant, help_folder, "--source", "Help")
    # then only that tenant's documents changed
    assert "parking.md" not in _external_ids(tenant)
    assert {
        document.external_id: (document.pk, document.content_hash, document.updated_at)
        for document in Document.objects.for_tenant(other_tenant)
    } == theirs
    assert set(Chunk.objects.filter(tenant=other_tenant).values_list("pk", flat=True)) == their_chunks


def test_ingest_refuses_a_path_with_no_document_files_and_removes_nothing(tenant: Tenant, tmp_path: Path) -> None:
    # given a folder ingested once, then emptied (an unmounted volume, a mistyped path)
    folder = tmp_path / "help"
    folder.mkdir()
    (folder / "parking.md").write_text("# Parking\n\nFree parking.")
    _ingest(tenant, folder)
    (folder / "parking.md").unlink()
    (folder / "notes.docx").write_bytes(b"PK")
    # when / then
    with pytest.raises(
        CommandError, match=re.escape(ingest.NO_FILES.format(path=folder.resolve(), skipped=f" ({DOCX_SKIPPED})"))
    ):
        _ingest(tenant, folder)
    assert _external_ids(tenant) == {"parking.md"}


def test_ingest_refuses_a_path_that_is_a_loop_of_links_with_a_message(tenant: Tenant, tmp_path: Path) -> None:
    # given a link to a link back to it
    (tmp_path / "faq.md").symlink_to(tmp_path / "help.md")
    (tmp_path / "help.md").symlink_to(tmp_path / "faq.md")
    # when / then: said, not a traceback
    with pytest.raises(CommandError, match=re.escape(folder_path.LINK_LOOP.format(path=tmp_path / "faq.md"))):
        _ingest(tenant, tmp_path / "faq.md")
    assert not KnowledgeSource.objects.exists()


def _not_utf8(folder: Path, name: bytes) -> Path:
    """``folder``'s entry ``name``, a name that is not UTF-8 (as Python spells it: surrogate escapes)."""
    return Path(os.fsdecode(os.fsencode(folder) + b"/" + name))


def test_ingest_refuses_a_path_that_is_not_utf8_with_a_message(tenant: Tenant, tmp_path: Path) -> None:
    # given a folder named in Latin-1, which the source could not record (PostgreSQL text is UTF-8)
    folder = _not_utf8(tmp_path, b"caf\xe9")
    folder.mkdir()
    (folder / "parking.md").write_text("# Parking\n\nFree parking.")
    # when / then
    with pytest.raises(CommandError, match=re.escape(folder_path.PATH_NOT_UTF8.format(path=str(folder)))):
        _ingest(tenant, folder, "--source", "Help")
    assert not KnowledgeSource.objects.exists()


def test_ingest_refuses_a_source_name_that_is_not_utf8_with_a_message(tenant: Tenant, help_folder: Path) -> None:
    name = os.fsdecode(b"Caf\xe9")
    expected = ingest.SOURCE_NOT_UTF8.format(name=name, hint=ingest.NAMED_SOURCE_HINT)
    with pytest.raises(CommandError, match=re.escape(expected)):
        _ingest(tenant, help_folder, "--source", name)
    assert not KnowledgeSource.objects.exists()


def test_ingest_names_no_tenant_for_a_slug_that_is_not_utf8(tenant: Tenant, tmp_path: Path) -> None:
    (tmp_path / "parking.md").write_text("# Parking\n\nFree parking.")
    with pytest.raises(CommandError, match="No tenant with slug"):
        call_command("ingest", str(tmp_path), "--tenant", os.fsdecode(b"caf\xe9"), "--no-progress")
    assert not KnowledgeSource.objects.exists()


def test_ingest_refuses_a_path_that_is_neither_a_file_nor_a_folder(tenant: Tenant, tmp_path: Path) -> None:
    fifo = tmp_path / "faq.md"
    os.mkfifo(fifo)
    with pytest.raises(CommandError, match="is neither a file nor a folder"):
        _ingest(tenant, fifo)
    assert not KnowledgeSource.objects.exists()


def test_ingest_never_prunes_the_uploads_of_a_source_it_is_pointed_at(
    tenant: Tenant, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a file uploaded through the console
    files_upload(tenant=tenant, files=[SimpleUploadedFile("secret.md", b"# Secret\n\nOnly uploaded here.")])
    (tmp_path / "parking.md").write_text("# Parking\n\nFree parking.")
    # when a folder is ingested into that source with pruning, then it is refused and nothing changes
    with pytest.raises(CommandError, match="The source 'Uploads' holds uploaded files, and this run would delete"):
        _ingest(tenant, tmp_path, "--source", UPLOAD_SOURCE)
    assert _external_ids(tenant) == {"secret.md"}
    # when it is added without pruning, then both are there and the source stays an uploads source
    _ingest(tenant, tmp_path, "--source", UPLOAD_SOURCE, "--no-prune")
    assert _external_ids(tenant) == {"secret.md", "parking.md"}
    assert KnowledgeSource.objects.get(tenant=tenant, name=UPLOAD_SOURCE).config == {}


def test_ingest_refuses_a_website_source(tenant: Tenant, other_tenant: Tenant, tmp_path: Path) -> None:
    website = KnowledgeSource.objects.create(tenant=tenant, name="Help site", kind=SourceKind.URL)
    (tmp_path / "parking.md").write_text("# Parking\n\nFree parking.")
    with pytest.raises(CommandError, match="The knowledge source 'Help site' is a URL source, so files cannot go"):
        _ingest(tenant, tmp_path, "--source", website.name, "--no-prune")
    assert not Document.objects.exists()
    # another tenant's source of that name is no obstacle to its own folder source
    _ingest(other_tenant, tmp_path, "--source", website.name)
    assert Document.objects.for_tenant(other_tenant).get().source.kind == SourceKind.UPLOAD


def test_ingest_remembers_the_new_path_of_a_folder_source_it_syncs(tenant: Tenant, tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    for folder in (old, new):
        folder.mkdir()
        (folder / "parking.md").write_text("# Parking\n\nFree parking.")
    _ingest(tenant, old, "--source", "Help")
    _ingest(tenant, new, "--source", "Help")
    assert KnowledgeSource.objects.get(tenant=tenant, name="Help").config == {"path": str(new)}


def test_ingest_never_makes_an_upload_source_name_a_folder_source(tenant: Tenant, tmp_path: Path) -> None:
    (tmp_path / "parking.md").write_text("# Parking\n\nFree parking.")
    # when the console's upload source does not exist yet, then a pruning run is refused all the same
    with pytest.raises(CommandError, match="The source 'Uploads' holds uploaded files"):
        _ingest(tenant, tmp_path, "--source", UPLOAD_SOURCE)
    assert not KnowledgeSource.objects.exists()
    # when files are added to it, it is made an upload source without a path, and uploads to it stay
    _ingest(tenant, tmp_path, "--source", UPLOAD_SOURCE, "--no-prune")
    assert KnowledgeSource.objects.get(tenant=tenant).config == {}
    files_upload(tenant=tenant, files=[SimpleUploadedFile("secret.md", b"# Secret\n\nOnly uploaded here.")])
    (tmp_path / "parking.md").unlink()
    (tmp_path / "hours.md").write_text("# Hours\n\nOpen 9 to 7.")
    _ingest(tenant, tmp_path, "--source", UPLOAD_SOURCE, "--no-prune")
    assert _external_ids(tenant) == {"parking.md", "secret.md", "hours.md"}


def test_ingest_leaves_the_demo_help_centre_to_seed_demo(tenant: Tenant, tmp_path: Path) -> None:
    demo = demo_source(tenant)
    (tmp_path / "parking.md").write_text("# Parking\n\nFree parking.")
    for args in ((), ("--no-prune",)):
        with pytest.raises(CommandError, match="is the demo help centre, which seed_demo keeps"):
            _ingest(tenant, tmp_path, "--source", demo.name, *args)
    demo.refresh_from_db()
    assert demo.config == DEMO_CONFIG and not Document.objects.exists()


def test_ingest_says_nothing_was_ingested_when_every_file_failed(tenant: Tenant, tmp_path: Path) -> None:
    (tmp_path / "empty.md").write_text("")
    with pytest.raises(CommandError, match=r"^1 of 1 file had errors \(listed above\); nothing was ingested\.$"):
        _ingest(tenant, tmp_path)


@pytest.mark.parametrize("name", ["empty.md", "report.docx"])
def test_a_run_that_stored_nothing_leaves_no_source_of_its_own(tenant: Tenant, tmp_path: Path, name: str) -> None:
    # given one file that cannot be ingested (no text; not a document file at all)
    (tmp_path / name).write_bytes(b"")
    # when it is ingested on its own
    with pytest.raises(CommandError, match="nothing was ingested"):
        _ingest(tenant, tmp_path / name)
    # then no empty source named after it is left behind
    assert not KnowledgeSource.objects.for_tenant(tenant).exists()


@pytest.mark.parametrize("stop", [KeyboardInterrupt, SystemExit], ids=["ctrl-c", "sigterm"])
@pytest.mark.parametrize("stored", [0, 1])
def test_ctrl_c_before_a_run_stored_anything_leaves_no_source_of_its_own(
    tenant: Tenant, help_folder: Path, monkeypatch: pytest.MonkeyPatch, stored: int, stop: type[BaseException]
) -> None:
    # given a first run of a folder that the operator interrupts while it ingests its first file, or its second
    # (Ctrl-C, or SIGTERM or SIGHUP, which manage.py raises as SystemExit: supportai/management/console.py)
    (help_folder / "empty.txt").unlink()
    (help_folder / "latin.txt").unlink()
    calls: list[str] = []
    real_file_ingest = folder_ingest.file_ingest

    def interrupted(**kwargs: Any) -> FileResult:
        calls.append(kwargs["name"])
        if len(calls) > stored:
            raise stop
        return real_file_ingest(**kwargs)

    monkeypatch.setattr(folder_ingest, "file_ingest", interrupted)
    # when
    with pytest.raises(stop):
        call_command("ingest", str(help_folder), "--tenant", tenant.slug, "--no-progress")
    # then a source is left only with what it stored, to go on from on the next run
    sources = KnowledgeSource.objects.for_tenant(tenant)
    assert [source.documents.count() for source in sources] == ([2] if stored else [])


def test_a_failed_run_keeps_the_source_it_found(tenant: Tenant, other_tenant: Tenant, tmp_path: Path) -> None:
    # given the folder source of an earlier run of the file, empty, and one of that name in another tenant
    name = str(tmp_path / "empty.md")
    for owner in (tenant, other_tenant):
        KnowledgeSource.objects.create(tenant=owner, name=name, kind="upload", config={"path": name})
    (tmp_path / "empty.md").write_text("")
    # when the file fails
    with pytest.raises(CommandError, match="nothing was ingested"):
        _ingest(tenant, tmp_path / "empty.md")
    # then the sources stay, the run's marked failed
    assert KnowledgeSource.objects.for_tenant(tenant).get().status == SourceStatus.FAILED
    assert KnowledgeSource.objects.for_tenant(other_tenant).get().status == SourceStatus.IDLE


def test_ingest_refuses_a_file_that_gives_a_document_id_an_earlier_file_gave(
    tenant: Tenant, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given two BEIR corpora in one folder, both with a document "1"
    (tmp_path / "gifts").mkdir()
    (tmp_path / "parking").mkdir()
    (tmp_path / "gifts" / "corpus.jsonl").write_text(json.dumps({"_id": "1", "text": "Gift cards at the desk."}))
    (tmp_path / "parking" / "corpus.jsonl").write_text(json.dumps({"_id": "1", "text": "Free parking behind."}))
    # when
    _ingest(tenant, tmp_path, errors=1)
    # then the second is refused instead of overwriting the first's document, on every run
    captured = capsys.readouterr()
    assert captured.out.startswith("2 files: 1 document created, 0 updated,")
    assert (
        "parking/corpus.jsonl: duplicate: An earlier file, gifts/corpus.jsonl, gave the document id '1', "
        "so this file was not stored; give each document its own id."
    ) in captured.err
    assert list(Document.objects.for_tenant(tenant).values_list("external_id", "content")) == [
        ("1", "Gift cards at the desk.")
    ]
    _ingest(tenant, tmp_path, errors=1)
    assert capsys.readouterr().out.startswith("2 files: 0 documents created, 0 updated, 1 unchanged,")


def test_ingest_removes_the_rows_a_csv_faq_lost_once_no_file_fails_even_without_pruning(
    tenant: Tenant, help_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    _ingest(tenant, help_folder, errors=2)
    capsys.readouterr()
    # when a row is deleted from the FAQ and the folder is ingested again while two files fail
    (help_folder / "faq.csv").write_text("question,answer\nDo you sell gift cards?,Yes.\n")
    _ingest(tenant, help_folder, "--no-prune", errors=2)
    # then the row stays (it might have moved into a failing file), and the summary says why
    assert capsys.readouterr().out.endswith(
        f"0 removed, 2 files with errors, {DOCX_SKIPPED}; pruning skipped: 2 files had errors\n"
    )
    assert Document.objects.for_tenant(tenant).filter(title="Is there wifi?").exists()
    # when the bad files are mended and the folder is ingested again, still without pruning
    (help_folder / "empty.txt").write_text("Text.")
    (help_folder / "latin.txt").write_text("café")
    _ingest(tenant, help_folder, "--no-prune")
    # then the row's document went, and the summary says so
    assert (
        "2 documents created, 0 updated, 3 unchanged, 0 failed, 1 removed, 0 files with errors"
        in capsys.readouterr().out
    )
    assert not Document.objects.for_tenant(tenant).filter(title="Is there wifi?").exists()


def test_ingest_keeps_a_record_that_moved_to_a_file_read_later_in_the_run(
    tenant: Tenant, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given two corpora ingested, and record 2 then moved, unchanged, from the first to the second
    two = json.dumps({"_id": "2", "text": "Gift cards never expire."})
    (tmp_path / "a.jsonl").write_text(json.dumps({"_id": "1", "text": "Parking is behind."}) + "\n" + two)
    (tmp_path / "b.jsonl").write_text(json.dumps({"_id": "3", "text": "Open 9 to 7."}))
    _ingest(tenant, tmp_path)
    moved = Document.objects.get(tenant=tenant, external_id="2")
    (tmp_path / "a.jsonl").write_text(json.dumps({"_id": "1", "text": "Parking is behind."}))
    (tmp_path / "b.jsonl").write_text(two + "\n" + json.dumps({"_id": "3", "text": "Open 9 to 7."}))
    capsys.readouterr()
    # when the folder is ingested again (a.jsonl is read first)
    _ingest(tenant, tmp_path)
    # then the record is the same document, now b's, and nothing was removed or embedded again
    assert capsys.readouterr().out.startswith(
        "2 files: 0 documents created, 0 updated, 3 unchanged, 0 failed, 0 removed,"
    )
    assert Document.objects.filter(pk=moved.pk, file_name="b.jsonl").exists()


def test_ingest_of_one_file_of_a_folder_source_keeps_the_name_the_folder_gave_it(
    tenant: Tenant, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a folder with two BEIR corpora ingested into a source
    (tmp_path / "sub").mkdir()
    (tmp_path / "corpus.jsonl").write_text(json.dumps({"_id": "1", "text": "Parking is behind the studio."}))
    (tmp_path / "sub" / "corpus.jsonl").write_text(json.dumps({"_id": "2", "text": "Gift cards never expire."}))
    _ingest(tenant, tmp_path, "--source", "Help")
    capsys.readouterr()
    # when the corpus in the subfolder is edited and ingested alone into that source, without pruning
    (tmp_path / "sub" / "corpus.jsonl").write_text(json.dumps({"_id": "2", "text": "Gift cards last a year."}))
    _ingest(tenant, tmp_path / "sub" / "corpus.jsonl", "--source", "Help", "--no-prune")
    # then it is the same file as before: the other corpus, named like it, keeps its record
    assert capsys.readouterr().out.startswith(
        "1 file: 0 documents created, 1 updated, 0 unchanged, 0 failed, 0 removed,"
    )
    assert dict(Document.objects.for_tenant(tenant).values_list("external_id", "file_name")) == {
        "1": "corpus.jsonl",
        "2": "sub/corpus.jsonl",
    }


def _titles(tenant: Tenant) -> dict[tuple[str, str], str]:
    """The tenant's documents' titles by source name and document id."""
    documents = Document.objects.for_tenant(tenant).values_list("source__name", "external_id", "title")
    return {(source, external_id): title for source, external_id, title in documents}


def test_ingest_refuses_another_folder_into_a_folder_source_instead_of_overwriting_its_files(
    tenant: Tenant, other_tenant: Tenant, tmp_path: Path
) -> None:
    # given two folders that each hold a faq.md, the first ingested into "Help" without pruning
    first, second = tmp_path / "first", tmp_path / "second"
    for folder, title in ((first, "Parking"), (second, "Gift cards")):
        folder.mkdir()
        (folder / "faq.md").write_text(f"# {title}\n\nAsked often.")
    _ingest(tenant, first, "--source", "Help", "--no-prune")
    # when the second folder is added to the same source, without pruning
    with pytest.raises(CommandError) as refused:
        _ingest(tenant, second, "--source", "Help", "--no-prune")
    # then it is refused with how to go on, and the first folder's faq.md is still its own document
    said = str(refused.value)
    assert said.startswith(f"The source 'Help' holds the files of {first}; {second} is not under it")
    assert said.endswith(ingest.NAMED_SOURCE_HINT)
    assert _titles(tenant) == {("Help", "faq.md"): "Parking"}
    assert KnowledgeSource.objects.get(tenant=tenant, name="Help").config == {"path": str(first)}
    # when it goes to a source of its own, then both are kept
    _ingest(tenant, second, "--source", "Help 2", "--no-prune")
    assert _titles(tenant) == {("Help", "faq.md"): "Parking", ("Help 2", "faq.md"): "Gift cards"}
    # and another tenant's "Help" holds another folder: no obstacle, and nothing of the tenant's changes
    _ingest(other_tenant, second, "--source", "Help", "--no-prune")
    assert _titles(other_tenant) == {("Help", "faq.md"): "Gift cards"}
    assert _titles(tenant) == {("Help", "faq.md"): "Parking", ("Help 2", "faq.md"): "Gift cards"}


def test_ingest_of_a_subfolder_or_a_neighbour_file_names_them_as_the_source_folder_does(
    tenant: Tenant, tmp_path: Path
) -> None:
    # given a folder source with a faq.md at its top and one in a subfolder
    (tmp_path / "sub").mkdir()
    (tmp_path / "faq.md").write_text("# Parking\n\nFree parking.")
    (tmp_path / "sub" / "faq.md").write_text("# Gift cards\n\nThey never expire.")
    _ingest(tenant, tmp_path, "--source", "Help")
    # when the subfolder is edited and ingested alone into it, without pruning
    (tmp_path / "sub" / "faq.md").write_text("# Gift cards\n\nThey last a year.")
    _ingest(tenant, tmp_path / "sub", "--source", "Help", "--no-prune")
    # then its file keeps its name under the source's folder, and the top faq.md is untouched
    assert _titles(tenant) == {("Help", "faq.md"): "Parking", ("Help", "sub/faq.md"): "Gift cards"}
    assert "a year" in Document.objects.for_tenant(tenant).get(external_id="sub/faq.md").content
    # and a source made from one file takes the files next to it (and under them) by their names there
    (tmp_path / "hours.md").write_text("# Hours\n\nOpen 9 to 7.")
    _ingest(tenant, tmp_path / "faq.md", "--source", "One", "--no-prune")
    _ingest(tenant, tmp_path / "sub", "--source", "One", "--no-prune")
    _ingest(tenant, tmp_path / "hours.md", "--source", "One", "--no-prune")
    assert {name for source, name in _titles(tenant) if source == "One"} == {"faq.md", "sub/faq.md", "hours.md"}


def test_ingest_reads_no_file_outside_its_folder_through_a_link_and_says_what_it_skipped(
    tenant: Tenant, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a folder with links: to a file in it, to a file and a folder outside it, to itself
    # (a loop), to a link that loops, and to nothing
    folder, outside = tmp_path / "help", tmp_path / "outside"
    (folder / "sub").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.md").write_text("# Secret\n\nThe root password.")
    (outside / "more.md").write_text("# More\n\nNot for customers.")
    (folder / "parking.md").write_text("# Parking\n\nFree parking.")
    (folder / "same-parking.md").symlink_to("parking.md")
    (folder / "secret.md").symlink_to(outside / "secret.md")
    (folder / "outside").symlink_to(outside, target_is_directory=True)
    (folder / "sub" / "loop").symlink_to("..", target_is_directory=True)
    (folder / "self.md").symlink_to("self.md")
    (folder / "gone.md").symlink_to("nowhere.md")
    # when
    _ingest(tenant, folder)
    # then the link inside the folder is read, nothing outside is, and each link skipped is named
    assert _external_ids(tenant) == {"parking.md", "same-parking.md"}
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        "gone.md: skipped: a link that leads to no file",
        "outside: skipped: a link to a folder; links to folders are not followed",
        "secret.md: skipped: a link to a file outside the folder",
        "self.md: skipped: a link that leads to no file",
        "sub/loop: skipped: a link to a folder; links to folders are not followed",
    ]
    assert captured.out.endswith(", 0 files with errors, 5 links skipped\n")


def test_ingest_names_a_file_in_nfc_whichever_form_its_folder_spells_it_in(tenant: Tenant, tmp_path: Path) -> None:
    # given a folder copied from a Mac: its names in NFD ("e" and a combining accent)
    (tmp_path / "Fe\u0301vrier").mkdir()
    (tmp_path / "Fe\u0301vrier" / "cafe\u0301.md").write_text("# Caf\u00e9\n\nOpen at 8.")
    (tmp_path / "faq.csv").write_text("question,answer\nWifi?,Yes.\n")
    # when it is ingested, and a file of it alone after
    _ingest(tenant, tmp_path, "--source", "Help")
    _ingest(tenant, tmp_path / "Fe\u0301vrier" / "cafe\u0301.md", "--source", "Help", "--no-prune")
    # then its documents are named as an upload from Windows names them (NFC), once
    assert dict(Document.objects.for_tenant(tenant).values_list("external_id", "file_name")) == {
        "F\u00e9vrier/caf\u00e9.md": "F\u00e9vrier/caf\u00e9.md",
        csv_row_id("faq.csv", "Wifi?"): "faq.csv",
    }


def test_ingest_asks_for_another_source_name_as_the_run_named_its_source(tenant: Tenant, tmp_path: Path) -> None:
    # given a folder, an upload source and a website source of the tenant
    (tmp_path / "parking.md").write_text("# Parking\n\nFree parking.")
    KnowledgeSource.objects.create(tenant=tenant, name="Site", kind=SourceKind.URL)
    # when runs that passed --source are refused, then they are told to give it another name, not to pass it
    for name, said in (("Uploads", "holds uploaded files"), ("Site", "is a URL source"), ("s" * 256, "longer")):
        with pytest.raises(CommandError, match=said) as refused:
            _ingest(tenant, tmp_path, "--source", name)
        said_all = str(refused.value)
        assert said_all.endswith(ingest.NAMED_SOURCE_HINT) and "pass --source" not in said_all.lower()
    # and a run whose source is named by its path (a website source's name here) is told to pass --source
    KnowledgeSource.objects.create(tenant=tenant, name=str(tmp_path.resolve()), kind=SourceKind.URL)
    with pytest.raises(CommandError, match="is a URL source") as refused:
        _ingest(tenant, tmp_path)
    assert str(refused.value).endswith(ingest.UNNAMED_SOURCE_HINT)


def test_ingest_fails_the_documents_an_unexpected_indexing_error_stopped_instead_of_leaving_them_pending(
    tenant: Tenant,
    other_tenant: Tenant,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given another tenant's document of that name, pending, and indexing that raises what nothing expects
    (tmp_path / "parking.md").write_text("# Parking\n\nFree parking.")
    _ingest(other_tenant, tmp_path)
    Document.objects.for_tenant(other_tenant).update(status=DocumentStatus.PENDING)

    def documents_index(**kwargs: Any) -> None:
        raise RuntimeError("indexing bug")

    monkeypatch.setattr(services, "documents_index", documents_index)
    (tmp_path / "parking.md").write_text("# Parking\n\nFree parking behind the studio.")
    # when
    _ingest(tenant, tmp_path, errors=1)
    # then the file is named, and its document says it failed instead of waiting for an index that never comes
    assert "parking.md: internal: " in capsys.readouterr().err
    document = Document.objects.for_tenant(tenant).get()
    assert (document.status, document.error) == (DocumentStatus.FAILED, services.INDEX_INTERNAL_ERROR)
    assert Document.objects.for_tenant(other_tenant).get().status == DocumentStatus.PENDING


def test_a_pruning_run_that_fails_leaves_the_folder_source_where_it_was(tenant: Tenant, tmp_path: Path) -> None:
    # given a folder source of a good folder, and a mistyped folder whose only file is malformed
    good, typo = tmp_path / "docs", tmp_path / "docs-typo"
    for folder in (good, typo):
        folder.mkdir()
    (good / "parking.md").write_text("# Parking\n\nFree parking.")
    (typo / "empty.md").write_text("")
    _ingest(tenant, good, "--source", "Docs")
    # when the mistyped folder is ingested into it, pruning
    with pytest.raises(CommandError, match="nothing was changed: this run would move the source 'Docs' from"):
        _ingest(tenant, typo, "--source", "Docs")
    # then the source still holds the good folder, which a run without pruning may add to
    assert KnowledgeSource.objects.get(tenant=tenant, name="Docs").config == {"path": str(good)}
    (good / "hours.md").write_text("# Hours\n\nOpen 9 to 7.")
    _ingest(tenant, good, "--source", "Docs", "--no-prune")
    assert _external_ids(tenant) == {"parking.md", "hours.md"}


def test_ingest_draws_its_progress_bar_on_one_line_and_each_file_error_on_its_own(
    tenant: Tenant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given three files, the second malformed, and a bar redrawn after every file
    (tmp_path / "a-parking.md").write_text("# Parking\n\nFree parking.")
    (tmp_path / "b-empty.md").write_text("")
    (tmp_path / "c-hours.md").write_text("# Hours\n\nOpen 9 to 7.")

    class EveryFile(tqdm):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, mininterval=0, miniters=1, **kwargs)

    monkeypatch.setattr(ingest, "tqdm", EveryFile)
    stderr = io.StringIO()
    # when it runs with its progress bar
    with pytest.raises(CommandError, match="1 of 3 files had errors"):
        call_command("ingest", str(tmp_path), "--tenant", tenant.slug, stderr=stderr)
    # then the bar's redraws share one line (each starts with a carriage return), ended once; the
    # error line clears the bar, stands on a line of its own, and the bar is drawn again below it
    lines = stderr.getvalue().split("\n")
    assert len(lines) == 3 and lines[-1] == ""
    assert lines[0].split("\r")[-1] == "b-empty.md: empty: The file has no text to index."
    redraws = lines[1].split("\r")
    assert redraws[0] == "" and len(redraws) > 2
    assert redraws[-1].startswith("100%|") and "| 3/3 [" in redraws[-1]
