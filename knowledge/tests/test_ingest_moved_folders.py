"""``manage.py ingest`` of a folder given no source name recognises an ingested folder moved there
(``mv kb kb2``, nothing left behind): it takes over that folder's source instead of making a second
copy of every document (``knowledge/folder_moves.py``)."""

from __future__ import annotations

import io
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from knowledge import folder_ingest, services
from knowledge.folder_ingest import folder_file_ingest
from knowledge.folder_sources import folder_source
from knowledge.models import Document, KnowledgeSource
from knowledge.tests.embedders import RecordingEmbedder
from knowledge.tests.help_folders import help_folder, ingest_quietly
from supportai.models import Tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    return help_folder(tmp_path)


def _own_source(tenant: Tenant, file: Path) -> None:
    """A source of its own for ``file``, named by its path, beside that of the folder around it, as
    ``ingest FILE`` made it before a run of the folder took such sources over."""
    source = folder_source(tenant=tenant, name=str(file), path=str(file), prune=True)
    folder_file_ingest(tenant=tenant, source=source, file=file, name=file.name, language="en", taken={})


def _documents(tenant: Tenant) -> dict[str, tuple[str, int]]:
    """The tenant's documents by external id: their source's name and their id."""
    rows = Document.objects.for_tenant(tenant).values_list("external_id", "source__name", "pk")
    return {external_id: (source, pk) for external_id, source, pk in rows}


def _sources(tenant: Tenant) -> list[str]:
    return sorted(KnowledgeSource.objects.for_tenant(tenant).values_list("name", flat=True))


def test_a_folder_moved_with_nothing_left_behind_keeps_its_source_and_documents(
    tenant: Tenant, kb: Path, recorder: RecordingEmbedder
) -> None:
    # given the folder ingested, then moved
    ingest_quietly(tenant, kb)
    source = KnowledgeSource.objects.for_tenant(tenant).get()
    before = {external_id: pk for external_id, (_, pk) in _documents(tenant).items()}
    moved = kb.rename(kb.parent / "kb2")
    recorder.seen.clear()
    # when the folder is ingested where it is now
    out = ingest_quietly(tenant, moved)
    # then its source, renamed, holds the same documents, and nothing was embedded again
    assert out.splitlines()[0] == f"{moved}: recognised as {kb} moved here: 5 documents kept"
    assert "0 documents created, 0 updated, 5 unchanged, 0 failed, 0 removed," in out.splitlines()[1]
    assert _sources(tenant) == [str(moved)]
    renamed = KnowledgeSource.objects.for_tenant(tenant).get()
    assert (renamed.pk, renamed.config) == (source.pk, {"path": str(moved)})
    assert _documents(tenant) == {external_id: (str(moved), pk) for external_id, pk in before.items()}
    assert recorder.seen == []


def test_a_folder_moved_with_a_file_edited_indexes_that_file_again_and_keeps_the_others(
    tenant: Tenant, kb: Path, recorder: RecordingEmbedder
) -> None:
    # given the folder ingested, then moved, and one of its files edited
    ingest_quietly(tenant, kb)
    before = _documents(tenant)
    moved = kb.rename(kb.parent / "kb2")
    (moved / "hours.md").write_text("# Hours\n\nOpen 8 to 8.")
    recorder.seen.clear()
    # when the folder is ingested where it is now
    out = ingest_quietly(tenant, moved)
    # then the edited document was indexed again in place, and only it
    assert out.splitlines()[0] == f"{moved}: recognised as {kb} moved here: 5 documents kept"
    assert "0 documents created, 1 updated, 4 unchanged, 0 failed, 0 removed," in out.splitlines()[1]
    assert _sources(tenant) == [str(moved)]
    assert {external_id: pk for external_id, (_, pk) in _documents(tenant).items()} == {
        external_id: pk for external_id, (_, pk) in before.items()
    }
    assert "8 to 8" in Document.objects.for_tenant(tenant).get(external_id="hours.md").content
    assert recorder.seen and all("8 to 8" in text for text in recorder.seen)


def test_a_folder_with_other_content_where_an_ingested_folder_vanished_gets_a_source_of_its_own(
    tenant: Tenant, kb: Path
) -> None:
    # given the folder ingested, then deleted, and another folder whose files are named alike but say otherwise
    ingest_quietly(tenant, kb)
    other = kb.parent / "other"
    (other / "sub").mkdir(parents=True)
    for name in ("faq.md", "hours.md", "sub/gifts.md"):
        (other / name).write_text(f"# Other\n\nAnother studio's {name}.")
    (other / "sub" / "faq.csv").write_text("question,answer\nCan I park?,No.\nIs there wifi?,Yes.\n")
    shutil.rmtree(kb)
    # when that folder is ingested, then it gets a new source, as the old one's files are not there
    out = ingest_quietly(tenant, other)
    assert "recognised" not in out
    assert _sources(tenant) == [str(kb), str(other.resolve())]


def test_a_copy_of_an_ingested_folder_that_is_still_there_gets_a_source_of_its_own(tenant: Tenant, kb: Path) -> None:
    # given the folder ingested, then copied
    ingest_quietly(tenant, kb)
    copy = Path(shutil.copytree(kb, kb.parent / "kb2"))
    # when the copy is ingested, then it gets a new source, and the folder's keeps its documents
    out = ingest_quietly(tenant, copy)
    assert "recognised" not in out
    assert _sources(tenant) == [str(kb), str(copy)]
    assert Document.objects.for_tenant(tenant).filter(source__name=str(kb)).count() == 5


def test_another_tenants_moved_folder_is_never_taken(tenant: Tenant, other_tenant: Tenant, kb: Path) -> None:
    # given the folder ingested by the other tenant, then moved
    ingest_quietly(other_tenant, kb)
    theirs = _documents(other_tenant)
    moved = kb.rename(kb.parent / "kb2")
    # when the tenant ingests it where it is now, then it gets a source of its own
    out = ingest_quietly(tenant, moved)
    assert "recognised" not in out
    assert _sources(tenant) == [str(moved)]
    # and the other tenant's source is as it was
    assert _sources(other_tenant) == [str(kb)]
    assert _documents(other_tenant) == theirs


def test_a_copy_of_a_folder_on_a_disk_no_longer_mounted_gets_a_source_of_its_own(tenant: Tenant, kb: Path) -> None:
    # given a folder on a disk ingested, a copy of it elsewhere, then the disk unmounted: its mount
    # point is left, an empty folder
    on_disk = Path(shutil.copytree(kb, kb.parent / "disk" / "kb"))
    ingest_quietly(tenant, on_disk)
    theirs = set(Document.objects.for_tenant(tenant).values_list("pk", flat=True))
    shutil.rmtree(on_disk)
    # when the copy is ingested
    out = ingest_quietly(tenant, kb)
    # then it gets a source of its own: the disk's folder is out of reach, not moved, and keeps its source
    assert "recognised" not in out
    assert _sources(tenant) == [str(on_disk), str(kb)]
    kept = Document.objects.for_tenant(tenant).filter(source__name=str(on_disk))
    assert set(kept.values_list("pk", flat=True)) == theirs


def test_a_moved_folder_whose_run_is_refused_leaves_every_source_as_it_was(tenant: Tenant, kb: Path) -> None:
    # given the folder ingested, then moved, a new subfolder of it ingested into a source of its own,
    # and a file that cannot be read
    ingest_quietly(tenant, kb)
    before = _documents(tenant)
    moved = kb.rename(kb.parent / "kb2")
    (moved / "extra").mkdir()
    (moved / "extra" / "new.md").write_text("# New\n\nJust added.")
    ingest_quietly(tenant, moved / "extra")
    (moved / "empty.md").write_text("")
    # when the folder is ingested where it is now, then the run is refused before it changes anything
    with pytest.raises(CommandError, match="nothing was changed"):
        ingest_quietly(tenant, moved)
    # and nothing was changed: the moved folder's source keeps its old name and its documents
    assert _sources(tenant) == [str(kb), str(moved / "extra")]
    assert {key: value for key, value in _documents(tenant).items() if key != "new.md"} == before
    # when the file is mended, then the folder is recognised and takes the subfolder's source over
    (moved / "empty.md").unlink()
    out = ingest_quietly(tenant, moved)
    assert out.splitlines()[0] == f"{moved}: recognised as {kb} moved here: 5 documents kept"
    assert _sources(tenant) == [str(moved)]


def test_a_moved_folder_s_files_are_each_parsed_once(tenant: Tenant, kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # given the folder ingested, then moved, one file edited, one emptied (it cannot be stored) and one
    # added, and every parse counted by file name
    ingest_quietly(tenant, kb)
    moved = kb.rename(kb.parent / "kb2")
    (moved / "hours.md").write_text("# Hours\n\nOpen 8 to 8.")
    (moved / "new.md").write_text("# New\n\nJust added.")
    (moved / "sub" / "gifts.md").write_text("")
    parses: Counter[str] = Counter()
    real_parse_file = services.parse_file

    def counted(name: str, *args: Any, **kwargs: Any) -> Any:
        parses[name] += 1
        return real_parse_file(name, *args, **kwargs)

    monkeypatch.setattr(services, "parse_file", counted)
    # when the folder is ingested where it is now
    with pytest.raises(CommandError, match="1 of 5 files had errors"):
        ingest_quietly(tenant, moved)
    # then it was recognised, and each file was parsed once: to be compared, then ingested from that parse
    assert _sources(tenant) == [str(moved)]
    assert parses == dict.fromkeys(["faq.md", "hours.md", "new.md", "sub/faq.csv", "sub/gifts.md"], 1)
    assert "8 to 8" in Document.objects.for_tenant(tenant).get(external_id="hours.md").content
    assert Document.objects.for_tenant(tenant).filter(external_id="new.md", source__name=str(moved)).exists()


@pytest.mark.parametrize("stop", [KeyboardInterrupt, SystemExit], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_while_a_moved_folder_is_recognised_leaves_every_source_as_it_was(
    tenant: Tenant, kb: Path, monkeypatch: pytest.MonkeyPatch, stop: type[BaseException]
) -> None:
    # given the folder ingested, then moved, and Ctrl-C pressed (or SIGTERM sent) as its files are
    # read to recognise it
    ingest_quietly(tenant, kb)
    before = _documents(tenant)
    moved = kb.rename(kb.parent / "kb2")

    def interrupted(**kwargs: Any) -> Any:
        raise stop

    monkeypatch.setattr(folder_ingest, "file_parse", interrupted)
    # when the folder is ingested where it is now
    with pytest.raises(stop):
        ingest_quietly(tenant, moved)
    # then no source of the run is left behind, and the folder's source is as it was
    assert _sources(tenant) == [str(kb)]
    assert _documents(tenant) == before


def test_a_moved_folder_s_run_deletes_the_source_of_one_of_its_files(tenant: Tenant, kb: Path) -> None:
    # given the folder ingested, a file of it with a source of its own too, then the folder moved
    ingest_quietly(tenant, kb)
    kept = _documents(tenant)
    _own_source(tenant, kb / "faq.md")
    moved = kb.rename(kb.parent / "kb2")
    # when the folder is ingested where it is now
    out = ingest_quietly(tenant, moved)
    # then the file's source, whose path went with the folder, is deleted with its copy of the file's
    # document, and the folder's source, renamed, keeps its own
    lines = out.splitlines()
    assert lines[0] == f"{moved}: recognised as {kb} moved here: 5 documents kept"
    assert lines[-1] == f"Took over the source of {kb / 'faq.md'}, which no longer exists: 1 document removed with it."
    assert _sources(tenant) == [str(moved)]
    assert _documents(tenant) == {external_id: (str(moved), pk) for external_id, (_, pk) in kept.items()}


def test_a_moved_folder_s_run_deletes_the_source_of_one_of_its_files_deleted_since(tenant: Tenant, kb: Path) -> None:
    # given the folder ingested, then a file added to it and given a source of its own, then the folder
    # moved and that file deleted
    ingest_quietly(tenant, kb)
    (kb / "extra.md").write_text("# Extra\n\nAdded later.")
    _own_source(tenant, kb / "extra.md")
    moved = kb.rename(kb.parent / "kb2")
    (moved / "extra.md").unlink()
    # when the folder is ingested where it is now
    out = ingest_quietly(tenant, moved)
    # then the file's source is deleted with its document, and the folder's source keeps its own
    lines = out.splitlines()
    assert lines[0] == f"{moved}: recognised as {kb} moved here: 5 documents kept"
    assert "0 documents created, 0 updated, 5 unchanged, 0 failed, 0 removed," in lines[1]
    assert (
        lines[-1] == f"Took over the source of {kb / 'extra.md'}, which no longer exists: 1 document removed with it."
    )
    assert _sources(tenant) == [str(moved)]
    assert "extra.md" not in _documents(tenant)


def test_a_moved_folder_s_run_without_pruning_keeps_the_source_of_one_of_its_files(tenant: Tenant, kb: Path) -> None:
    # given the folder ingested, a file of it with a source of its own too, then the folder moved
    ingest_quietly(tenant, kb)
    _own_source(tenant, kb / "faq.md")
    moved = kb.rename(kb.parent / "kb2")
    # when the folder is ingested where it is now without pruning, then the file's source is left alone
    out = ingest_quietly(tenant, moved, "--no-prune")
    assert out.splitlines()[0] == f"{moved}: recognised as {kb} moved here: 5 documents kept"
    assert "Took over" not in out
    assert _sources(tenant) == [str(kb / "faq.md"), str(moved)]


def test_a_moved_folder_s_run_with_errors_keeps_the_source_of_one_of_its_files(tenant: Tenant, kb: Path) -> None:
    # given the folder ingested, a file of it with a source of its own too, then the folder moved and a
    # file added that cannot be stored
    ingest_quietly(tenant, kb)
    _own_source(tenant, kb / "faq.md")
    moved = kb.rename(kb.parent / "kb2")
    (moved / "empty.md").write_text("")
    out = io.StringIO()
    # when the folder is ingested where it is now, then the run fails and keeps the file's source
    with pytest.raises(CommandError, match="1 of 5 files had errors"):
        call_command("ingest", str(moved), "--tenant", tenant.slug, "--no-progress", stdout=out, stderr=io.StringIO())
    assert out.getvalue().splitlines()[-1] == (
        f"The source of {kb / 'faq.md'}, which no longer exists, was kept, as this run had errors."
    )
    assert _sources(tenant) == [str(kb / "faq.md"), str(moved)]


def test_a_moved_folder_with_a_file_deleted_is_recognised_and_that_file_s_documents_go(
    tenant: Tenant, kb: Path
) -> None:
    # given the folder ingested, a file of it with a source of its own too, then the folder moved and
    # that file deleted
    ingest_quietly(tenant, kb)
    kept = _documents(tenant)
    _own_source(tenant, kb / "faq.md")
    moved = kb.rename(kb.parent / "kb2")
    (moved / "faq.md").unlink()
    # when the folder is ingested where it is now
    out = ingest_quietly(tenant, moved)
    # then it is recognised (4 of its 5 documents are here unchanged), the deleted file's document goes
    # from the folder's source, and the file's own source goes with its copy
    lines = out.splitlines()
    assert lines[0] == f"{moved}: recognised as {kb} moved here: 4 documents kept, 1 whose file is not here"
    assert "0 documents created, 0 updated, 4 unchanged, 0 failed, 1 removed," in lines[1]
    assert lines[-1] == f"Took over the source of {kb / 'faq.md'}, which no longer exists: 1 document removed with it."
    assert _sources(tenant) == [str(moved)]
    assert _documents(tenant) == {
        external_id: (str(moved), pk) for external_id, (_, pk) in kept.items() if external_id != "faq.md"
    }


def test_a_folder_holding_less_than_half_of_a_vanished_folder_s_documents_gets_a_source_of_its_own(
    tenant: Tenant, kb: Path
) -> None:
    # given the folder ingested, then moved, and files giving 3 of its 5 documents deleted
    ingest_quietly(tenant, kb)
    moved = kb.rename(kb.parent / "kb2")
    (moved / "hours.md").unlink()
    (moved / "sub" / "faq.csv").unlink()
    # when the folder is ingested where it is now, then it is not taken for the old one: 2 of 5 are here
    out = ingest_quietly(tenant, moved)
    assert "recognised" not in out
    assert _sources(tenant) == [str(kb), str(moved)]
    assert Document.objects.for_tenant(tenant).filter(source__name=str(kb)).count() == 5


def test_another_tenants_moved_folder_with_a_file_deleted_is_never_taken(
    tenant: Tenant, other_tenant: Tenant, kb: Path
) -> None:
    # given the folder ingested by the other tenant, a file of it with a source of its own too, then the
    # folder moved and that file deleted
    ingest_quietly(other_tenant, kb)
    _own_source(other_tenant, kb / "faq.md")
    theirs = set(Document.objects.for_tenant(other_tenant).values_list("pk", "source__name", "external_id"))
    moved = kb.rename(kb.parent / "kb2")
    (moved / "faq.md").unlink()
    # when the tenant ingests the folder where it is now, then it gets a source of its own
    out = ingest_quietly(tenant, moved)
    assert "recognised" not in out
    assert "Took over" not in out
    assert _sources(tenant) == [str(moved)]
    # and the other tenant's sources and documents are as they were
    assert _sources(other_tenant) == [str(kb), str(kb / "faq.md")]
    assert set(Document.objects.for_tenant(other_tenant).values_list("pk", "source__name", "external_id")) == theirs
