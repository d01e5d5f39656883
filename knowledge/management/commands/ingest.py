"""``manage.py ingest PATH --tenant SLUG``: files or folders (recursively), idempotent by content hash.

A file that cannot be read, parsed or stored gets an error line on stderr and the others go on; the
run then exits with status 1, as it does when the embedding provider failed a document (one line
each). A run with any such file prunes nothing: a file that fails after an edit gives no external
ids, and pruning would delete the documents it gave on an earlier run.

The source is a folder source: it remembers its PATH, and documents no longer under PATH leave it
(a run that prunes nothing, as one with a file that failed, leaves the source's folder as it was).
It holds that one folder: a run without pruning takes PATH only if it is that folder or lies under
it (its files keep the names a run of the folder gives them), and refuses another folder, whose
files would replace those named alike. A pruning run of another PATH moves the source there all at
once: it first reads every file there, storing nothing, and while any has errors (or a folder there
cannot be listed) it names them and changes nothing.
Without --source, the run writes into the source PATH is already in: the one named by PATH, else the
nearest folder source whose folder is PATH or holds it, which keeps its folder (its files are named
from there) and is pruned only under PATH; and a folder takes over the sources named by their own
path of the files and folders in it (their documents moved in, the sources deleted once no file
failed), after reading every file first, as a move does, and a pruning one those whose file or folder
is gone, with their documents, once no file failed (``knowledge.folder_sources``); a folder moved with
nothing left behind keeps its source, renamed (``knowledge.folder_moves``), and a pruning run deletes
those of the files and folders in its old folder, gone with it.
Pruning never reaches a source that holds uploaded files or the demo's (``knowledge.folder_sources``),
and a PATH with no document files changes nothing (an unmounted or mistyped folder would otherwise
empty its source). Links to folders are not followed and links to files outside PATH are not read:
each is named on stderr, as a skipped link, and the run goes on. A folder under PATH that cannot be
listed is named on stderr too and, like a file with errors, stops pruning and fails the run.
Ctrl-C (or SIGTERM or SIGHUP) stops the run: the files stored so far stay (the next run goes on from
them, by content hash), nothing is pruned, and a source the run created that holds nothing yet is removed.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from knowledge.folder_check import files_problems, move_refused, take_over_refused
from knowledge.folder_files import files_under, skipped_summary
from knowledge.folder_ingest import ParsedAhead, folder_file_check, folder_file_ingest, folder_file_name
from knowledge.folder_moves import MovedFolder, moved_folder_take_over
from knowledge.folder_names import name_prefix, names_root, source_label
from knowledge.folder_path import IngestPathError, ingest_path
from knowledge.folder_sources import (
    PATH_KEY,
    FolderSourceError,
    InnerSource,
    enclosing_folder_source,
    folder_source,
    folder_source_move,
    inner_folder_sources,
    source_folder,
    vanished_inner_sources,
)
from knowledge.folder_summary import run_failure, run_summary
from knowledge.folder_takeover import TakeOver, folder_sources_take_over, take_overs_end
from knowledge.languages import DEFAULT_LANGUAGE, clean_language
from knowledge.management.options import (
    add_progress_option,
    add_threads_option,
    apply_threads_option,
    embedding_retries,
    provider_check,
)
from knowledge.models import Document, DocumentStatus, KnowledgeSource
from knowledge.parsed import UNSTORABLE, ErrorCode
from knowledge.services import (
    FileResult,
    Outcome,
    default_provider,
    file_leftovers_delete,
    source_mark_synced,
    source_prune,
)
from knowledge.source_config import NAME_MAX_LENGTH
from supportai.management.options import tenant_by_slug
from supportai.models import Tenant

# How to choose another source, for a run that named its source with --source and one named by its path.
NAMED_SOURCE_HINT = "Give --source another name."
UNNAMED_SOURCE_HINT = (
    "Pass --source NAME to name another source (without it, the source is the one named by the path, or the "
    "folder source the path lies in)."
)
NO_FILES = (
    "No document files (.md, .markdown, .txt, .html, .htm, .pdf, .csv, .jsonl) under {path}{skipped}; nothing was "
    "changed."
)
# A file left out (knowledge/folder_files.py), named at --verbosity 2 with why.
SKIPPED_FILE = "{name}: skipped: {reason}"
# PostgreSQL text is UTF-8: a source name that is not cannot be stored (a PATH that is not: folder_path.py).
SOURCE_NOT_UTF8 = "The source name {name!r} is not valid UTF-8 text. {hint}"
# A folder the walk could not list (permissions, a dropped network mount): its files are unknown, not
# gone, so the run prunes nothing and fails.
FOLDER_UNREADABLE = "The folder could not be read: {reason}."
PATH_UNREADABLE = "{path} could not be read: {reason}; nothing was changed."
# A run given no source name writes into the folder source its path lies in, and says so first.
INTO_SOURCE = "{path}: into {source}"


def _bar_off(options: Any) -> bool:
    """Whether the progress bar is left out: with --no-progress, and at --verbosity 0."""
    return bool(options["no_progress"] or not options["verbosity"])


def _language(value: str) -> str:
    try:
        return clean_language(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


class Command(BaseCommand):
    help = (
        "Ingest knowledge files (md, markdown, txt, html, htm, pdf, csv FAQ, any .jsonl as a BEIR corpus) into "
        "a tenant. Documents no longer under PATH are deleted, except on a run where a file had errors: then "
        "nothing is deleted."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_threads_option(parser)
        parser.add_argument("path", type=Path)
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument(
            "--source",
            default="",
            help="knowledge source name (default: the source named by the path if there is one, else the "
            "nearest folder source whose folder is PATH or holds it, else that of the folder moved to PATH, else a "
            "new one named by the path; a folder given no name also takes over the sources named by their own path "
            "of the files and folders in it). A folder source holds one folder, its files named by their path "
            "under it: give another folder another source",
        )
        parser.add_argument(
            "--no-prune",
            action="store_true",
            help="keep documents no longer under PATH (a run with file errors keeps them anyway). Into a folder "
            "source, PATH must be its folder or a file or folder under it; without --no-prune, a run with no "
            "file errors moves the source to PATH, and one with any stores nothing. Into the folder source "
            "PATH lies in (no --source), pruning deletes only the documents of files under PATH, and the "
            "source keeps its folder",
        )
        parser.add_argument(
            "--language",
            type=_language,
            default=DEFAULT_LANGUAGE,
            help="language of the documents whose files declare none, e.g. de or pt-BR (default: en); "
            "it chooses their stemming for keyword search",
        )
        add_progress_option(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbosity = options["verbosity"]
        apply_threads_option(options)
        try:
            path = ingest_path(options["path"])
        except IngestPathError as exc:
            raise CommandError(str(exc)) from exc
        tenant = tenant_by_slug(options["tenant"])
        provider_check(default_provider(), consequence="nothing was ingested")
        hint = NAMED_SOURCE_HINT if options["source"] else UNNAMED_SOURCE_HINT
        enclosing = None
        if not options["source"]:
            try:
                enclosing = enclosing_folder_source(tenant=tenant, path=path)
            except FolderSourceError as exc:
                raise CommandError(f"{exc} {hint}") from exc
        source_name = enclosing.name if enclosing else options["source"] or str(path)
        if len(source_name) > NAME_MAX_LENGTH:
            raise CommandError(f"The source name is longer than {NAME_MAX_LENGTH} characters. {hint}")
        if UNSTORABLE.search(source_name):
            raise CommandError(SOURCE_NOT_UTF8.format(name=source_name, hint=hint))
        found = files_under(path)
        for link, reason in found.skipped:
            self.stderr.write(f"{link.relative_to(path)}: skipped: {reason}")
        if options["verbosity"] >= 2:
            for file, reason in found.skipped_files():
                self.stderr.write(SKIPPED_FILE.format(name=file.relative_to(path), reason=reason))
        for folder, reason in found.unreadable:
            if folder == path:
                raise CommandError(PATH_UNREADABLE.format(path=path, reason=reason))
            self.stderr.write(
                f"{folder.relative_to(path)}: {ErrorCode.UNREADABLE}: {FOLDER_UNREADABLE.format(reason=reason)}"
            )
        unlisted = len(found.unreadable)
        files = found.files
        if not files and not unlisted:
            not_read = skipped_summary(found)
            raise CommandError(NO_FILES.format(path=path, skipped=f" ({not_read})" if not_read else ""))
        new_source = not KnowledgeSource.objects.for_tenant(tenant).filter(name=source_name).exists()
        unnamed_folder = new_source and not options["source"] and path.is_dir()
        prune = not options["no_prune"]
        try:
            source = folder_source(tenant=tenant, name=source_name, path=str(path), prune=prune)
        except FolderSourceError as exc:
            raise CommandError(f"{exc} {hint}") from exc
        # Into the folder source the path lies in: its files named from its folder, pruned only under the path.
        enclosing_folder = source_folder(source) if enclosing else None
        root = enclosing_folder or names_root(path, source, prune=prune)
        within = folder_file_name(path, root) if enclosing_folder and path != root else ""
        if enclosing:
            self._say(INTO_SOURCE.format(path=path, source=source_label(source)))
        moving = prune and not enclosing and source.config.get(PATH_KEY) != str(path)
        inner = (
            [] if options["source"] or path.is_file() else inner_folder_sources(tenant=tenant, path=path, files=files)
        )
        # The files a run parses before their turn (read first, or compared to recognise a moved folder)
        # are ingested from that parse, not parsed again.
        ahead = ParsedAhead(language=options["language"])
        if moving or inner:
            self._read_first(
                source=source,
                path=path,
                root=root,
                files=files,
                unlisted=unlisted,
                options=options,
                moving=moving,
                inner=inner,
                new_source=new_source,
                ahead=ahead,
            )
        # A folder moved here with nothing left behind: its source, renamed, replaces the run's new one
        # (only now, once the run may go on: a refused run leaves it as it was).
        moved_here = (
            self._moved_here(tenant=tenant, source=source, path=path, files=files, ahead=ahead, options=options)
            if unnamed_folder
            else None
        )
        if moved_here:
            self._say(moved_here.told())
            source, new_source = moved_here.source, False
        # A pruning folder run also takes over (to delete) those whose file or folder is gone, those in
        # the folder moved here among them: their paths went with it.
        gone: list[KnowledgeSource] = []
        if prune and path.is_dir() and not options["source"]:
            gone = vanished_inner_sources(tenant=tenant, path=path)
            gone += vanished_inner_sources(tenant=tenant, path=Path(moved_here.old)) if moved_here else []
        totals = dict.fromkeys(Outcome, 0)
        # The document ids stored by this run, with their file: a file that gives one of them again is refused.
        taken: dict[str, str] = {}
        with_leftovers: list[FileResult] = []
        failed = removed = 0
        stream = self._stream()
        # A rate limit or an outage of a hosted provider is waited out a bounded time, batch by batch.
        try:
            # Before the run, which then finds their documents unchanged under the names it gives them.
            take = [TakeOver(other.source, name_prefix(other.folder, root)) for other in inner]
            moved = folder_sources_take_over(tenant=tenant, take=take, into=source) if take else []
            with embedding_retries(self):
                for file in tqdm(files, unit="file", disable=_bar_off(options), file=stream):
                    result = folder_file_ingest(
                        tenant=tenant,
                        source=source,
                        file=file,
                        name=folder_file_name(file, root),
                        language=options["language"],
                        taken=taken,
                        ahead=ahead,
                    )
                    taken.update(dict.fromkeys(result.external_ids, result.name))
                    failed += self._told(result, stream)
                    if result.leftovers:
                        with_leftovers.append(result)
                    for outcome, count in result.outcomes.items():
                        totals[outcome] += count
        except (KeyboardInterrupt, SystemExit):  # Ctrl-C, SIGTERM, SIGHUP: what was stored stays for the next run
            if new_source and not source.documents.exists():
                source.delete()  # but no empty source of the run's own is left behind
            raise
        # After the last file: a record moved to a file read later is that file's now, not a leftover.
        # While a file failed (or a folder was not listed), a record may have moved into it: no
        # leftover goes, as nothing is pruned.
        complete = not failed and not unlisted
        for result in with_leftovers if complete else []:
            removed += file_leftovers_delete(tenant=tenant, result=result)
        if prune and complete:
            if not enclosing:
                folder_source_move(source=source, path=str(path))
            removed += source_prune(tenant=tenant, source=source, keep=set(taken), within=within)
        if failed == len(files) and new_source and not source.documents.exists():
            source.delete()  # a run that stored nothing leaves no empty source of its own behind
        else:
            source_mark_synced(source=source, failed=failed == len(files))
        pruning_skipped = not complete and bool(with_leftovers or not options["no_prune"])
        self._say(
            run_summary(found=found, totals=totals, removed=removed, failed=failed, pruning_skipped=pruning_skipped)
        )
        for line in take_overs_end(tenant=tenant, take=take, moved=moved, gone=gone, complete=complete):
            self._say(line)
        not_indexed = 0
        if totals[Outcome.FAILED]:
            # Documents stored but not indexed (the embedding provider failed): name them with its message.
            failed_documents = Document.objects.for_tenant(tenant).filter(
                source=source, external_id__in=taken, status=DocumentStatus.FAILED
            )
            for document in failed_documents.order_by("external_id"):
                not_indexed += 1
                self.stderr.write(f"{taken[document.external_id]}: {document.title}: {document.error}")
        if failure := run_failure(failed=failed, files=len(files), unlisted=unlisted, not_indexed=not_indexed):
            raise CommandError(failure)

    def _moved_here(
        self,
        *,
        tenant: Tenant,
        source: KnowledgeSource,
        path: Path,
        files: list[Path],
        ahead: ParsedAhead,
        options: Any,
    ) -> MovedFolder | None:
        """``moved_folder_take_over`` in place of ``source``, the run's new one: removed on Ctrl-C,
        SIGTERM or SIGHUP too, as the files are read (it holds nothing yet). The files it compares
        with a vanished folder's documents get a bar of their own ("comparing"), before the run's."""

        def bar(names: list[str]) -> Iterable[str]:
            return tqdm(names, unit="file", desc="comparing", disable=_bar_off(options), file=self._stream())

        try:
            return moved_folder_take_over(
                tenant=tenant, path=path, files=files, ahead=ahead, replacing=source, progress=bar
            )
        except (KeyboardInterrupt, SystemExit):
            source.delete()
            raise

    def _say(self, line: str) -> None:
        """Print ``line`` on stdout, unless at --verbosity 0, which prints nothing on success."""
        if self.verbosity:
            self.stdout.write(line)

    def _told(self, result: FileResult, stream: TextIO) -> bool:
        """Name a file with an error, or a note, on stderr (above the bar); True for an error."""
        line = f"{result.error_code}: {result.error}" if result.error else result.note
        if line:
            with tqdm.external_write_mode(file=stream):  # cleared, the bar is drawn again below the line
                self.stderr.write(f"{result.name}: {line}")
        return bool(result.error)

    def _stream(self) -> TextIO:
        # The bar is drawn on stderr's own stream: its redraws are a carriage return and the bar, which
        # OutputWrapper would end with a newline each (and colour on a terminal).
        return cast(TextIO, self.stderr._out)

    def _read_first(
        self,
        *,
        source: KnowledgeSource,
        path: Path,
        root: Path,
        files: list[Path],
        unlisted: int,
        options: Any,
        moving: bool,
        inner: list[InnerSource],
        new_source: bool,
        ahead: ParsedAhead,
    ) -> None:
        """Before a run that moves ``source`` to ``path`` (``moving``), or takes over the sources
        ``inner``, stores anything: read every file as the run would (naming each file with errors on
        stderr), and refuse the run while any has errors or a folder there could not be listed. A move
        would have the files read replace the source's own named alike, and keep its old folder; a
        takeover would move the documents of a file the run then fails. The files are parsed into
        ``ahead``, for the run to ingest them from there. A source made by this run is removed, on
        Ctrl-C, SIGTERM or SIGHUP too (it holds nothing yet)."""
        try:
            problems = self._files_problems(root=root, files=files, unlisted=unlisted, options=options, ahead=ahead)
        except (KeyboardInterrupt, SystemExit):  # Ctrl-C, SIGTERM, SIGHUP
            if new_source:
                source.delete()
            raise
        if not problems:
            return
        if moving:
            raise CommandError(move_refused(problems=problems, source=source, old=source.config[PATH_KEY], new=path))
        if new_source:
            source.delete()
        raise CommandError(take_over_refused(problems=problems, inner=inner, target=source))

    def _files_problems(self, *, root: Path, files: list[Path], unlisted: int, options: Any, ahead: ParsedAhead) -> str:
        """Read every file as the run would, into ``ahead``, storing nothing (naming each file with
        errors on stderr); what was wrong (files with errors, folders that could not be listed), "" when nothing."""
        stream = self._stream()
        taken: dict[str, str] = {}
        failed = 0
        for file in tqdm(files, unit="file", desc="checking", disable=_bar_off(options), file=stream):
            result = folder_file_check(file=file, name=folder_file_name(file, root), ahead=ahead, taken=taken)
            taken.update(dict.fromkeys(result.external_ids, result.name))
            failed += self._told(result, stream)
        return files_problems(failed=failed, files=len(files), unlisted=unlisted)
