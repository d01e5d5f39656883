"""``manage.py ingest`` without ``--source`` of a path inside an ingested folder writes into that
folder's source, and of a folder around ingested files or folders takes over their sources: one copy
of each file's documents, their ids and vectors kept (``knowledge/folder_sources.py``)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from knowledge import folder_ingest, folder_takeover
from knowledge.demo import CONTENT_DIR, demo_source
from knowledge.folder_takeover import moved_names
from knowledge.management.commands import ingest
from knowledge.models import Chunk, ChunkLevel, Document, DocumentStatus, KnowledgeSource
from knowledge.record_formats import csv_row_id
from knowledge.services import FileResult
from knowledge.source_config import UPLOAD_SOURCE
from knowledge.tests.embedders import RecordingEmbedder
from supportai.models import Tenant

pytestmark = pytest.mark.django_db

# Paragraphs of ~100 tokens: a document of several children, of which an edit of the last changes the last few.
PARAGRAPHS = [
    " ".join(f"{topic} sentence {n} about the {topic} policy of the studio." for n in range(9))
    for topic in ("parking", "refunds", "gift cards", "memberships", "classes", "lockers")
]


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    """A help folder: faq.md (six paragraphs), hours.md, sub/gifts.md and a CSV FAQ in sub/."""
    kb = tmp_path / "kb"
    (kb / "sub").mkdir(parents=True)
    (kb / "faq.md").write_text("# FAQ\n\n" + "\n\n".join(PARAGRAPHS))
    (kb / "hours.md").write_text("# Hours\n\nOpen 9 to 7.")
    (kb / "sub" / "gifts.md").write_text("# Gift cards\n\nThey never expire.")
    (kb / "sub" / "faq.csv").write_text("question,answer\nCan I park?,Yes.\nIs there wifi?,No.\n")
    return kb.resolve()


def _ingest(tenant: Tenant, path: Path, *args: str) -> str:
    """Run ``ingest`` of ``path`` (no --source unless ``args`` give one); returns its stdout."""
    out = io.StringIO()
    call_command("ingest", str(path), "--tenant", tenant.slug, "--no-progress", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _documents(tenant: Tenant) -> dict[tuple[str, str], int]:
    """The tenant's document ids by source name and external id."""
    rows = Document.objects.for_tenant(tenant).values_list("source__name", "external_id", "pk")
    return {(source, external_id): pk for source, external_id, pk in rows}


def _sources(tenant: Tenant) -> list[str]:
    return sorted(KnowledgeSource.objects.for_tenant(tenant).values_list("name", flat=True))


def _chunks(tenant: Tenant) -> set[int]:
    return set(Chunk.objects.filter(tenant=tenant).values_list("pk", flat=True))


def test_a_file_of_an_ingested_folder_is_updated_in_the_folders_source(
    tenant: Tenant, kb: Path, recorder: RecordingEmbedder
) -> None:
    # given the folder ingested, then one paragraph of faq.md edited and hours.md deleted
    _ingest(tenant, kb)
    before = _documents(tenant)
    lockers = " ".join(f"lockers sentence {n} about the five day locker rule of the studio." for n in range(9))
    (kb / "faq.md").write_text("# FAQ\n\n" + "\n\n".join([*PARAGRAPHS[:-1], lockers]))
    children = Chunk.objects.filter(tenant=tenant, document__external_id="faq.md", level=ChunkLevel.CHILD).count()
    (kb / "hours.md").unlink()
    recorder.seen.clear()
    # when faq.md alone is ingested, without --source
    out = _ingest(tenant, kb / "faq.md")
    # then it went into the folder's source, which says so and keeps its folder
    assert out.splitlines()[0] == f"{kb / 'faq.md'}: into the source of {kb}"
    assert "1 file: 0 documents created, 1 updated, 0 unchanged, 0 failed, 0 removed," in out
    assert _sources(tenant) == [str(kb)]
    assert KnowledgeSource.objects.for_tenant(tenant).get().config == {"path": str(kb)}
    # and the document was updated in place, only its edited child embedded again
    assert _documents(tenant) == before
    assert "five day locker" in Document.objects.get(pk=before[(str(kb), "faq.md")]).content
    assert 0 < len(recorder.seen) < children
    assert all("five day locker" in text for text in recorder.seen)
    # and hours.md, outside the path, was not pruned
    assert (str(kb), "hours.md") in _documents(tenant)


def test_a_subfolder_of_an_ingested_folder_is_pruned_only_inside(tenant: Tenant, kb: Path) -> None:
    # given the folder ingested, then a file deleted in sub/ and one outside it
    _ingest(tenant, kb)
    (kb / "sub" / "gifts.md").unlink()
    (kb / "hours.md").unlink()
    # when sub/ is ingested, without --source
    out = _ingest(tenant, kb / "sub")
    # then the folder's source lost the document of sub/gifts.md, and kept hours.md's
    assert out.splitlines()[0] == f"{kb / 'sub'}: into the source of {kb}"
    assert "1 file: 0 documents created, 0 updated, 2 unchanged, 0 failed, 1 removed," in out
    assert {name for _, name in _documents(tenant)} == {
        "faq.md",
        "hours.md",
        csv_row_id("sub/faq.csv", "Can I park?"),
        csv_row_id("sub/faq.csv", "Is there wifi?"),
    }
    assert KnowledgeSource.objects.for_tenant(tenant).get().config == {"path": str(kb)}
    # when a file under sub/ is deleted again and sub/ ingested with --no-prune, then its documents stay
    (kb / "sub" / "faq.csv").unlink()
    (kb / "sub" / "new.md").write_text("# New\n\nA new studio.")
    _ingest(tenant, kb / "sub", "--no-prune")
    assert {name for _, name in _documents(tenant)} == {
        "faq.md",
        "hours.md",
        "sub/new.md",
        csv_row_id("sub/faq.csv", "Can I park?"),
        csv_row_id("sub/faq.csv", "Is there wifi?"),
    }


def test_a_folder_takes_over_the_sources_of_the_files_and_folders_ingested_in_it(
    tenant: Tenant, kb: Path, recorder: RecordingEmbedder
) -> None:
    # given a file and a subfolder of the folder ingested first, each into a source of its own
    _ingest(tenant, kb / "faq.md")
    _ingest(tenant, kb / "sub")
    before = _documents(tenant)
    chunks = _chunks(tenant)
    recorder.seen.clear()
    # when the folder is ingested, without --source
    out = _ingest(tenant, kb)
    # then its source holds each document once, under the name the folder gives it, with its id
    assert _sources(tenant) == [str(kb)]
    park, wifi = csv_row_id("faq.csv", "Can I park?"), csv_row_id("faq.csv", "Is there wifi?")
    after = _documents(tenant)
    assert after == {
        (str(kb), "faq.md"): before[(str(kb / "faq.md"), "faq.md")],
        (str(kb), "sub/gifts.md"): before[(str(kb / "sub"), "gifts.md")],
        (str(kb), f"sub/{park}"): before[(str(kb / "sub"), park)],
        (str(kb), f"sub/{wifi}"): before[(str(kb / "sub"), wifi)],
        (str(kb), "hours.md"): after[(str(kb), "hours.md")],
    }
    assert set(Document.objects.for_tenant(tenant).values_list("external_id", "file_name")) >= {
        ("sub/gifts.md", "sub/gifts.md"),
        (f"sub/{park}", "sub/faq.csv"),
    }
    # and nothing of theirs was embedded or chunked again: only hours.md is new
    assert out.startswith("4 files: 1 document created, 0 updated, 4 unchanged, 0 failed, 0 removed,")
    assert chunks < _chunks(tenant)
    assert recorder.seen and all("Open 9 to 7." in text for text in recorder.seen)
    # and the run said what became of each source
    assert out.splitlines()[1:] == [
        f"Took over the source of {kb / 'faq.md'}: 1 document moved into this one, 0 removed with it.",
        f"Took over the source of {kb / 'sub'}: 3 documents moved into this one, 0 removed with it.",
    ]


def test_a_folder_takes_over_the_sources_of_files_and_folders_deleted_from_it(tenant: Tenant, kb: Path) -> None:
    # given a file and a subfolder of the folder ingested into sources of their own, then both deleted
    _ingest(tenant, kb / "faq.md")
    _ingest(tenant, kb / "sub")
    (kb / "faq.md").unlink()
    shutil.rmtree(kb / "sub")
    # when the folder is ingested
    out = _ingest(tenant, kb)
    # then their sources went, with the documents of the files that are gone
    assert _sources(tenant) == [str(kb)]
    assert {name for _, name in _documents(tenant)} == {"hours.md"}
    assert out.splitlines()[1:] == [
        f"Took over the source of {kb / 'faq.md'}, which no longer exists: 1 document removed with it.",
        f"Took over the source of {kb / 'sub'}, which no longer exists: 3 documents removed with it.",
    ]


def test_the_source_of_a_deleted_file_is_kept_by_a_run_that_keeps_what_is_gone_and_by_another_tenant(
    tenant: Tenant, other_tenant: Tenant, kb: Path
) -> None:
    # given a file of the folder ingested into its own source in both tenants, then deleted, and a file that
    # cannot be read
    for owner in (tenant, other_tenant):
        _ingest(owner, kb / "faq.md")
    theirs = _documents(other_tenant)
    (kb / "faq.md").unlink()
    (kb / "empty.md").write_text("")
    # when the folder is ingested with a file error, then with --no-prune, then the source is kept
    with pytest.raises(CommandError, match=r"^1 of 4 files had errors"):
        _ingest(tenant, kb)
    (kb / "empty.md").unlink()
    assert "no longer exists" not in _ingest(tenant, kb, "--no-prune")
    assert _sources(tenant) == [str(kb), str(kb / "faq.md")]
    # when the folder is ingested with pruning and no file error, then it goes
    assert "no longer exists: 1 document removed with it." in _ingest(tenant, kb)
    assert _sources(tenant) == [str(kb)]
    # and the other tenant's source of the file was never touched
    assert _documents(other_tenant) == theirs


def test_a_folder_deletes_the_duplicates_an_older_source_of_a_file_in_it_holds(tenant: Tenant, kb: Path) -> None:
    # given the folder's source and the file's, each holding faq.md (as runs before takeovers left them)
    _ingest(tenant, kb)
    _ingest(tenant, kb / "faq.md", "--source", str(kb / "faq.md"))
    kept = _documents(tenant)[(str(kb), "faq.md")]
    # when the folder is ingested again
    out = _ingest(tenant, kb)
    # then the file's source went with its copy, and the folder's document is the one left
    assert f"Took over the source of {kb / 'faq.md'}: 0 documents moved into this one, 1 removed with it." in out
    assert _sources(tenant) == [str(kb)]
    assert _documents(tenant)[(str(kb), "faq.md")] == kept
    assert len(_documents(tenant)) == 5


def test_the_nearest_folder_source_around_a_path_takes_it(tenant: Tenant, kb: Path) -> None:
    # given the folder and its subfolder ingested into sources named by hand
    _ingest(tenant, kb, "--source", "Help")
    _ingest(tenant, kb / "sub", "--source", "Gifts")
    (kb / "sub" / "gifts.md").write_text("# Gift cards\n\nThey last a year.")
    (kb / "hours.md").write_text("# Hours\n\nOpen 8 to 8.")
    # when a file in the subfolder, and then one at the top, are ingested without --source
    inner = _ingest(tenant, kb / "sub" / "gifts.md")
    outer = _ingest(tenant, kb / "hours.md")
    # then each went into the nearest source around it, under the name that source's folder gives it
    assert inner.splitlines()[0] == f"{kb / 'sub' / 'gifts.md'}: into the source 'Gifts' of {kb / 'sub'}"
    assert outer.splitlines()[0] == f"{kb / 'hours.md'}: into the source 'Help' of {kb}"
    assert _sources(tenant) == ["Gifts", "Help"]
    gifts = Document.objects.for_tenant(tenant).get(source__name="Gifts", external_id="gifts.md")
    hours = Document.objects.for_tenant(tenant).get(source__name="Help", external_id="hours.md")
    assert "a year" in gifts.content and "8 to 8" in hours.content
    assert "a year" not in Document.objects.for_tenant(tenant).get(external_id="sub/gifts.md").content


def test_another_tenants_folder_sources_are_never_used_nor_taken_over(
    tenant: Tenant, other_tenant: Tenant, kb: Path
) -> None:
    # given the other tenant's source of the folder
    _ingest(other_tenant, kb)
    # when the tenant ingests a file of the folder
    out = _ingest(tenant, kb / "hours.md")
    # then it goes into a source of the tenant's own, named by its path
    assert not out.startswith(f"{kb / 'hours.md'}: into the source")
    assert _sources(tenant) == [str(kb / "hours.md")]
    # given the other tenant's own file source, when the tenant ingests the folder
    _ingest(other_tenant, kb / "faq.md", "--source", str(kb / "faq.md"))
    theirs = _documents(other_tenant)
    out = _ingest(tenant, kb)
    # then it takes over the tenant's own source of the file only
    assert [line for line in out.splitlines() if line.startswith("Took over")] == [
        f"Took over the source of {kb / 'hours.md'}: 1 document moved into this one, 0 removed with it."
    ]
    assert _sources(tenant) == [str(kb)]
    assert _documents(other_tenant) == theirs
    # and the other tenant's file runs keep using its own sources
    _ingest(other_tenant, kb / "sub" / "gifts.md")
    assert _sources(other_tenant) == [str(kb), str(kb / "faq.md")]


def test_a_run_with_a_file_error_takes_over_nothing(
    tenant: Tenant, kb: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a file of the folder ingested into its own source, and a file in the folder that cannot be read
    _ingest(tenant, kb / "faq.md")
    before = _documents(tenant)
    (kb / "empty.md").write_text("")
    # when the folder is ingested
    err = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("ingest", str(kb), "--tenant", tenant.slug, "--no-progress", stdout=io.StringIO(), stderr=err)
    # then the bad file is named, and nothing changed: no source of the folder, the file's as it was
    assert str(refused.value) == (
        f"1 of 5 files had errors (listed above); nothing was changed: this run would take over the source of "
        f"{kb / 'faq.md'} (its documents would move into the source of {kb}), which it does only once it has "
        "read every file here."
    )
    assert "empty.md: empty: " in err.getvalue()
    assert _sources(tenant) == [str(kb / "faq.md")]
    assert _documents(tenant) == before


def test_a_path_in_the_demo_help_centres_folder_is_left_to_seed_demo(tenant: Tenant, other_tenant: Tenant) -> None:
    # given the tenant's demo help centre
    demo = demo_source(tenant)
    article = sorted(CONTENT_DIR.glob("*.md"))[0]
    # when one of its articles is ingested without --source, then it is refused, saying why
    with pytest.raises(CommandError) as refused:
        _ingest(tenant, article)
    assert str(refused.value).startswith(
        f"{article} lies in the folder of the demo help centre (the source {demo.name!r}), which seed_demo keeps: "
        "run seed_demo to refresh it."
    )
    assert not Document.objects.for_tenant(tenant).exists()
    assert _sources(tenant) == [demo.name]
    # and a tenant without the demo ingests it into a source named by its path
    _ingest(other_tenant, article)
    assert _sources(other_tenant) == [str(article)]


def test_an_upload_source_is_never_taken_for_a_folder_around_a_path(tenant: Tenant, kb: Path) -> None:
    # given the console's upload source, even one a superuser gave a path to
    KnowledgeSource.objects.create(tenant=tenant, name=UPLOAD_SOURCE, config={"path": str(kb)})
    # when a file of that folder is ingested without --source
    out = _ingest(tenant, kb / "faq.md")
    # then it goes into a source named by its path, and nothing goes into the uploads
    assert "into the source" not in out
    assert _sources(tenant) == [str(kb / "faq.md"), UPLOAD_SOURCE]
    assert not Document.objects.for_tenant(tenant).filter(source__name=UPLOAD_SOURCE).exists()


def test_a_path_in_the_folder_of_two_sources_is_refused_naming_them(tenant: Tenant, kb: Path) -> None:
    # given the folder ingested into two sources named by hand
    _ingest(tenant, kb, "--source", "Help")
    _ingest(tenant, kb, "--source", "Docs")
    # when a file of it is ingested without --source, then the run cannot tell which and says so
    with pytest.raises(CommandError) as refused:
        _ingest(tenant, kb / "faq.md")
    assert str(refused.value) == (
        f"{kb / 'faq.md'} lies in the folder of more than one source ('Docs', 'Help'), so the run cannot tell "
        f"which to write into. {ingest.UNNAMED_SOURCE_HINT}"
    )
    assert _sources(tenant) == ["Docs", "Help"]


def test_a_source_taken_over_is_kept_when_a_file_fails_after_all(
    tenant: Tenant, kb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a file of the folder ingested into its own source, and storing another file that fails unexpectedly
    _ingest(tenant, kb / "faq.md")
    faq = _documents(tenant)[(str(kb / "faq.md"), "faq.md")]
    real_file_ingest = folder_ingest.file_ingest

    def failing(**kwargs: Any) -> FileResult:
        if kwargs["name"] == "hours.md":
            raise RuntimeError("storage bug")
        return real_file_ingest(**kwargs)

    monkeypatch.setattr(folder_ingest, "file_ingest", failing)
    out = io.StringIO()
    # when the folder is ingested
    with pytest.raises(CommandError, match=r"^1 of 4 files had errors"):
        call_command("ingest", str(kb), "--tenant", tenant.slug, "--no-progress", stdout=out, stderr=io.StringIO())
    # then the file's document is the folder source's, and its source, emptied, is not deleted
    assert out.getvalue().splitlines()[1:] == [
        f"The source of {kb / 'faq.md'} was kept, as this run had errors: 1 document moved into this one."
    ]
    assert _sources(tenant) == [str(kb), str(kb / "faq.md")]
    assert _documents(tenant)[(str(kb), "faq.md")] == faq


def test_the_take_overs_of_a_run_are_made_all_at_once_or_not_at_all(
    tenant: Tenant, kb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a file and a subfolder of the folder ingested into sources of their own, and the run
    # interrupted as it takes over the second of them
    _ingest(tenant, kb / "faq.md")
    _ingest(tenant, kb / "sub")
    before = _documents(tenant)
    real_moved_names = folder_takeover.moved_names

    def interrupted(*, external_id: str, file_name: str, prefix: str) -> tuple[str, str]:
        if prefix == "sub/":
            raise KeyboardInterrupt
        return real_moved_names(external_id=external_id, file_name=file_name, prefix=prefix)

    monkeypatch.setattr(folder_takeover, "moved_names", interrupted)
    # when the folder is ingested
    with pytest.raises(KeyboardInterrupt):
        _ingest(tenant, kb)
    # then the first source still holds its document: neither was taken over, and no source of the run is left
    assert _documents(tenant) == before
    assert _sources(tenant) == [str(kb / "faq.md"), str(kb / "sub")]


@pytest.mark.parametrize(
    ("external_id", "file_name", "moved"),
    [
        ("faq.md", "faq.md", ("sub/faq.md", "sub/faq.md")),
        ("faq.csv#0123456789abcdef", "faq.csv", ("sub/faq.csv#0123456789abcdef", "sub/faq.csv")),
        ("42", "corpus.jsonl", ("42", "sub/corpus.jsonl")),
        ("42", "", ("42", "")),
    ],
)
def test_a_document_taken_over_is_named_as_the_folder_names_its_file(
    external_id: str, file_name: str, moved: tuple[str, str]
) -> None:
    assert moved_names(external_id=external_id, file_name=file_name, prefix="sub/") == moved


def test_the_folder_of_a_source_named_by_hand_goes_into_that_source(tenant: Tenant, kb: Path) -> None:
    # given the folder ingested into a source named by hand, then a file of it deleted
    _ingest(tenant, kb, "--source", "Help")
    before = _documents(tenant)
    (kb / "hours.md").unlink()
    # when the folder is ingested again without --source
    out = _ingest(tenant, kb)
    # then it is that source's run, pruning as ever, and no second source holds a copy
    assert out.splitlines()[0] == f"{kb}: into the source 'Help' of {kb}"
    assert "0 documents created, 0 updated, 4 unchanged, 0 failed, 1 removed," in out
    assert _sources(tenant) == ["Help"]
    assert _documents(tenant) == {key: pk for key, pk in before.items() if key != ("Help", "hours.md")}


@pytest.mark.parametrize("stop", [KeyboardInterrupt, SystemExit], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_while_a_takeover_reads_its_files_first_leaves_no_source_of_the_run(
    tenant: Tenant, kb: Path, monkeypatch: pytest.MonkeyPatch, stop: type[BaseException]
) -> None:
    # given a file of the folder ingested into its own source, and Ctrl-C pressed (or SIGTERM or SIGHUP sent:
    # SystemExit) as the folder's run reads its files
    _ingest(tenant, kb / "faq.md")
    before = _documents(tenant)

    def interrupted(**kwargs: Any) -> FileResult:
        raise stop

    monkeypatch.setattr(ingest, "folder_file_check", interrupted)
    # when the folder is ingested
    with pytest.raises(stop):
        _ingest(tenant, kb)
    # then the run left no empty source of the folder behind, and the file's source is as it was
    assert _sources(tenant) == [str(kb / "faq.md")]
    assert _documents(tenant) == before


@pytest.mark.parametrize("hidden", [".drafts", ".drafts/new.md", "sub/.new.md"])
def test_a_hidden_path_in_an_ingested_folder_keeps_a_source_of_its_own(tenant: Tenant, kb: Path, hidden: str) -> None:
    # given the folder ingested, then a hidden article added to it (a folder's run leaves it out)
    _ingest(tenant, kb)
    (kb / ".drafts").mkdir()
    (kb / ".drafts" / "new.md").write_text("# New\n\nA draft article.")
    (kb / "sub" / ".new.md").write_text("# New\n\nA draft article.")
    # when the hidden path is ingested on purpose, then it goes into a source named by it
    out = _ingest(tenant, kb / hidden)
    assert "into the source" not in out
    assert _sources(tenant) == [str(kb), str(kb / hidden)]
    # and a run of the folder, which leaves it out, neither prunes nor takes over its document
    _ingest(tenant, kb)
    assert _sources(tenant) == [str(kb), str(kb / hidden)]
    assert Document.objects.for_tenant(tenant).filter(source__name=str(kb / hidden)).count() == 1


def _moved_behind_a_link(kb: Path) -> Path:
    """Move the folder elsewhere and leave a link to it in its place (a new disk, say); returns where it is now."""
    moved = kb.parent / "disk" / "kb"
    moved.parent.mkdir()
    kb.rename(moved)
    kb.symlink_to(moved)
    return moved


def test_a_path_in_an_ingested_folder_moved_behind_a_link_goes_into_its_source(tenant: Tenant, kb: Path) -> None:
    # given the folder ingested, then moved elsewhere with a link to it in its place
    _ingest(tenant, kb)
    before = _documents(tenant)
    moved = _moved_behind_a_link(kb)
    (kb / "hours.md").write_text("# Hours\n\nOpen 8 to 8.")
    # when a file of it, and then the folder, are ingested through the link without --source
    file_run = _ingest(tenant, kb / "hours.md")
    (kb / "sub" / "gifts.md").unlink()
    folder_run = _ingest(tenant, kb)
    # then both went into the folder's source, which keeps its path, and no second source holds a copy
    assert file_run.splitlines()[0] == f"{moved / 'hours.md'}: into the source of {kb}"
    assert "1 file: 0 documents created, 1 updated, 0 unchanged, 0 failed, 0 removed," in file_run
    assert folder_run.splitlines()[0] == f"{moved}: into the source of {kb}"
    assert "3 files: 0 documents created, 0 updated, 4 unchanged, 0 failed, 1 removed," in folder_run
    assert _sources(tenant) == [str(kb)]
    assert KnowledgeSource.objects.for_tenant(tenant).get().config == {"path": str(kb)}
    assert _documents(tenant) == {key: pk for key, pk in before.items() if key != (str(kb), "sub/gifts.md")}


def test_a_folder_takes_over_the_sources_in_it_recorded_before_it_moved_behind_a_link(tenant: Tenant, kb: Path) -> None:
    # given a file and a subfolder of the folder ingested into sources of their own, then the folder moved
    _ingest(tenant, kb / "faq.md")
    _ingest(tenant, kb / "sub")
    before = _documents(tenant)
    moved = _moved_behind_a_link(kb)
    # when the folder is ingested through the link
    out = _ingest(tenant, kb)
    # then its source, named by where it is, took their documents over
    assert _sources(tenant) == [str(moved)]
    assert out.splitlines()[1:] == [
        f"Took over the source of {kb / 'faq.md'}: 1 document moved into this one, 0 removed with it.",
        f"Took over the source of {kb / 'sub'}: 3 documents moved into this one, 0 removed with it.",
    ]
    assert _documents(tenant)[(str(moved), "faq.md")] == before[(str(kb / "faq.md"), "faq.md")]
    assert _documents(tenant)[(str(moved), "sub/gifts.md")] == before[(str(kb / "sub"), "gifts.md")]


def test_no_prune_into_a_named_source_reaches_its_folder_moved_behind_a_link(tenant: Tenant, kb: Path) -> None:
    # given the folder ingested into a source named by hand, then moved elsewhere with a link in its place
    _ingest(tenant, kb, "--source", "Help")
    _moved_behind_a_link(kb)
    (kb / "sub" / "new.md").write_text("# New\n\nA new studio.")
    # when its subfolder is added to that source through the link
    _ingest(tenant, kb / "sub", "--source", "Help", "--no-prune")
    # then its files are named from the source's folder, as a run of the whole folder names them
    assert ("Help", "sub/new.md") in _documents(tenant)
    assert len(_documents(tenant)) == 6


def test_a_folder_whose_name_begins_with_an_ingested_folders_is_not_in_it(tenant: Tenant, kb: Path) -> None:
    # given the folder ingested, and a neighbour whose name begins with its name (/kb and /kb2)
    _ingest(tenant, kb)
    neighbour = kb.parent / f"{kb.name}2"
    neighbour.mkdir()
    (neighbour / "faq.md").write_text("# Neighbour\n\nAnother studio.")
    # when a file of the neighbour is ingested without --source
    out = _ingest(tenant, neighbour / "faq.md")
    # then it goes into a source of its own, not into the folder's
    assert "into the source" not in out
    assert _sources(tenant) == [str(kb), str(neighbour / "faq.md")]
    # and a run of the folder leaves that source alone
    assert "Took over" not in _ingest(tenant, kb)
    assert _sources(tenant) == [str(kb), str(neighbour / "faq.md")]


def test_a_folder_takes_over_a_beir_corpus_and_a_failed_document_in_it(
    tenant: Tenant, kb: Path, recorder: RecordingEmbedder
) -> None:
    # given a BEIR corpus and a subfolder ingested into sources of their own, one of whose documents failed
    beir = kb / "beir"
    beir.mkdir()
    (beir / "corpus.jsonl").write_text(
        '{"_id": "d1", "title": "One", "text": "Lockers are free."}\n'
        '{"_id": "d2", "title": "Two", "text": "Mats too."}\n'
    )
    (beir / "queries.jsonl").write_text('{"_id": "q1", "text": "lockers"}\n')
    _ingest(tenant, beir / "corpus.jsonl")
    _ingest(tenant, kb / "sub")
    before = _documents(tenant)
    Document.objects.for_tenant(tenant).filter(external_id="gifts.md").update(status=DocumentStatus.FAILED)
    recorder.seen.clear()
    # when the folder is ingested
    out = _ingest(tenant, kb)
    # then the records keep their ids and vectors, named by the corpus's path in the folder
    corpus = Document.objects.for_tenant(tenant).filter(source__name=str(kb), file_name="beir/corpus.jsonl")
    assert {(d.external_id, d.pk) for d in corpus} == {
        (i, before[(str(beir / "corpus.jsonl"), i)]) for i in ("d1", "d2")
    }
    # and the failed document is indexed again, in place; only it and hours.md are embedded
    gifts = Document.objects.for_tenant(tenant).get(source__name=str(kb), external_id="sub/gifts.md")
    assert (gifts.pk, gifts.status) == (before[(str(kb / "sub"), "gifts.md")], DocumentStatus.READY)
    assert recorder.seen and all("Lockers" not in text and "Mats" not in text for text in recorder.seen)
    assert out.startswith("5 files: 2 documents created, 1 updated, 4 unchanged, 0 failed, 0 removed,")
    assert _sources(tenant) == [str(kb)]


def test_the_source_of_a_folder_on_a_disk_no_longer_mounted_is_kept(tenant: Tenant, kb: Path) -> None:
    # given a folder of a disk mounted in the folder ingested into a source of its own, then the disk
    # unmounted: its mount point is left, an empty folder
    manuals = kb / "disk" / "manuals"
    manuals.mkdir(parents=True)
    (manuals / "oven.md").write_text("# Oven\n\nPreheat to 180.")
    _ingest(tenant, manuals)
    kept = _documents(tenant)
    shutil.rmtree(manuals)
    # when the folder is ingested
    out = _ingest(tenant, kb)
    # then the disk's source is kept with its documents: its files are out of reach, not gone
    assert "no longer exists" not in out
    assert str(manuals) in _sources(tenant)
    assert {key: pk for key, pk in _documents(tenant).items() if key[0] == str(manuals)} == kept


def test_the_source_of_a_folder_restored_during_the_run_is_kept(
    tenant: Tenant, kb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a subfolder ingested into a source of its own, then moved away, and moved back (restored
    # from a backup, say) while the folder's run reads its files
    _ingest(tenant, kb / "sub")
    kept = {key: pk for key, pk in _documents(tenant).items() if key[0] == str(kb / "sub")}
    backup = kb.parent / "backup"
    (kb / "sub").rename(backup)
    real_ingest = ingest.folder_file_ingest

    def restoring(**kwargs: Any) -> FileResult:
        if backup.exists():
            backup.rename(kb / "sub")
        return real_ingest(**kwargs)

    monkeypatch.setattr(ingest, "folder_file_ingest", restoring)
    # when the folder is ingested
    out = _ingest(tenant, kb)
    # then the subfolder's source, there again by the end of the run, is kept with its documents
    assert "no longer exists" not in out
    assert out.splitlines()[1:] == [f"The source of {kb / 'sub'} was kept: it is there again."]
    assert {key: pk for key, pk in _documents(tenant).items() if key[0] == str(kb / "sub")} == kept
