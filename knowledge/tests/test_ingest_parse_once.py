"""``manage.py ingest`` runs that read every file first (a folder taking over the sources of files and
folders in it, a pruning run moving a folder source, a moved folder recognised) parse each file once:
the run ingests it from the parse its first read made (``folder_ingest.ParsedAhead``), within a bound
on the text kept (``AHEAD_MAX_CHARS``), past which a file is parsed again at its turn."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from knowledge import folder_ingest, services
from knowledge.folder_ingest import ParsedAhead
from knowledge.models import Document, KnowledgeSource
from knowledge.tests.help_folders import help_folder, ingest_quietly
from supportai.models import Tenant

pytestmark = pytest.mark.django_db

FILES = ["faq.md", "hours.md", "sub/faq.csv", "sub/gifts.md"]


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    return help_folder(tmp_path)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Every parse of a file from now on, counted by the file's name."""
    counted: Counter[str] = Counter()
    real_parse_file = services.parse_file

    def counting(name: str, *args: Any, **kwargs: Any) -> Any:
        counted[name] += 1
        return real_parse_file(name, *args, **kwargs)

    monkeypatch.setattr(services, "parse_file", counting)
    return counted


def _sources(tenant: Tenant) -> list[str]:
    return sorted(KnowledgeSource.objects.for_tenant(tenant).values_list("name", flat=True))


def _contents(tenant: Tenant) -> dict[tuple[str, str], str]:
    rows = Document.objects.for_tenant(tenant).values_list("source__name", "external_id", "content")
    return {(source, external_id): content for source, external_id, content in rows}


def test_a_folder_taking_over_the_sources_in_it_parses_each_file_once(
    tenant: Tenant, kb: Path, parses: Counter[str]
) -> None:
    # given a file and a subfolder of the folder ingested into sources of their own, then a file edited
    ingest_quietly(tenant, kb / "faq.md")
    ingest_quietly(tenant, kb / "sub")
    (kb / "sub" / "gifts.md").write_text("# Gift cards\n\nThey expire after a year.")
    parses.clear()
    # when the folder is ingested, which reads every file before it takes those sources over
    out = ingest_quietly(tenant, kb)
    # then each file was parsed once, and the run stored what it read
    assert parses == dict.fromkeys(FILES, 1)
    assert out.startswith("4 files: 1 document created, 1 updated, 3 unchanged, 0 failed, 0 removed,")
    assert _sources(tenant) == [str(kb)]
    assert "after a year" in _contents(tenant)[(str(kb), "sub/gifts.md")]


def test_a_pruning_run_moving_a_named_source_parses_each_file_once(
    tenant: Tenant, kb: Path, tmp_path: Path, parses: Counter[str]
) -> None:
    # given "Help" made from another folder, whose faq.md the folder's replaces
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "faq.md").write_text("# Parking\n\nFree parking.")
    ingest_quietly(tenant, docs, "--source", "Help")
    parses.clear()
    # when the folder is ingested into "Help" with pruning, which reads every file before it moves the source
    out = ingest_quietly(tenant, kb, "--source", "Help")
    # then each file was parsed once, and the source holds the folder's files
    assert parses == dict.fromkeys(FILES, 1)
    assert out.startswith("4 files: 4 documents created, 1 updated, 0 unchanged, 0 failed, 0 removed,")
    assert KnowledgeSource.objects.for_tenant(tenant).get(name="Help").config == {"path": str(kb)}
    assert "Asked often." in _contents(tenant)[("Help", "faq.md")]


def test_a_moved_folder_taking_over_a_source_in_it_parses_each_file_once(
    tenant: Tenant, kb: Path, parses: Counter[str]
) -> None:
    # given the folder ingested, then moved, and a new subfolder of it ingested into a source of its own
    ingest_quietly(tenant, kb)
    moved = kb.rename(kb.parent / "kb2")
    (moved / "extra").mkdir()
    (moved / "extra" / "new.md").write_text("# New\n\nJust added.")
    ingest_quietly(tenant, moved / "extra")
    parses.clear()
    # when the folder is ingested where it is now: its files read first, then compared to recognise it
    out = ingest_quietly(tenant, moved)
    # then each file was parsed once, the folder recognised and the subfolder's source taken over
    assert parses == dict.fromkeys([*FILES, "extra/new.md"], 1)
    assert out.splitlines()[0] == f"{moved}: recognised as {kb} moved here: 5 documents kept"
    assert _sources(tenant) == [str(moved)]


def test_files_past_the_text_kept_ahead_are_parsed_again_at_their_turn(
    tenant: Tenant, kb: Path, parses: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a file of the folder ingested into a source of its own, and room for no parsed text at all
    ingest_quietly(tenant, kb / "faq.md")
    monkeypatch.setattr(folder_ingest, "AHEAD_MAX_CHARS", 0)
    parses.clear()
    # when the folder is ingested, taking that source over
    out = ingest_quietly(tenant, kb)
    # then nothing was kept between a file's first read and its turn: each was parsed twice, and stored
    assert parses == dict.fromkeys(FILES, 2)
    assert out.startswith("4 files: 4 documents created, 0 updated, 1 unchanged, 0 failed, 0 removed,")
    assert _sources(tenant) == [str(kb)]


def test_parsed_ahead_keeps_parses_only_while_their_text_fits(kb: Path) -> None:
    # given room for the text (title and body) of faq.md's document and no more
    faq = services.file_parse(name="faq.md", data=(kb / "faq.md").read_bytes(), default_language="en")
    room = sum(len(document.title) + len(document.text) for document in faq.documents)
    ahead = ParsedAhead(language="en", room=room)
    # when faq.md, then hours.md are parsed ahead
    assert ahead.parse(kb / "faq.md", "faq.md") == faq
    hours = ahead.parse(kb / "hours.md", "hours.md")
    # then hours.md was parsed but not kept: the run reads it again at its turn
    assert [document.external_id for document in hours.documents] == ["hours.md"]
    assert ahead.take(kb / "hours.md", "hours.md") is None
    # and faq.md was kept, until taken, which frees its room
    assert ahead.room == 0
    assert ahead.take(kb / "faq.md", "faq.md") == faq
    assert ahead.room == room
    assert ahead.take(kb / "faq.md", "faq.md") is None
