"""The last line ``manage.py ingest`` prints on stdout: the files read, then what became of their
documents (a CSV FAQ's rows and a corpus's records are a document each), the files with errors, the
links, folders and files left out, and why nothing was pruned."""

from __future__ import annotations

from collections.abc import Mapping

from django.template.defaultfilters import pluralize

from knowledge.folder_files import FolderFiles, skipped_summary
from knowledge.services import Outcome


def run_summary(
    *, found: FolderFiles, totals: Mapping[Outcome, int], removed: int, failed: int, pruning_skipped: bool
) -> str:
    """``16 files: 10 documents created, 0 updated, 0 unchanged, 0 failed, 0 removed, 8 files with
    errors; pruning skipped: 8 files had errors`` for the files ``found`` (``pruning_skipped``: the run
    would have pruned, or deleted leftovers, had no file failed and every folder been listed)."""
    files, unlisted = len(found.files), len(found.unreadable)
    counts = [f"{count} {outcome}" for outcome, count in totals.items()]
    documents = totals[Outcome.CREATED]
    counts[0] = f"{documents} document{pluralize(documents)} {Outcome.CREATED}"
    line = f"{files} file{pluralize(files)}: {', '.join(counts)}, {removed} removed"
    line += f", {failed} file{pluralize(failed)} with errors"
    if found.skipped:
        line += f", {len(found.skipped)} link{pluralize(len(found.skipped))} skipped"
    if unlisted:
        line += f", {unlisted} folder{pluralize(unlisted)} unreadable"
    if not_read := skipped_summary(found):
        line += f", {not_read}"
    if pruning_skipped:
        reasons = [f"{failed} file{pluralize(failed)} had errors"] if failed else []
        reasons += [f"{unlisted} folder{pluralize(unlisted)} could not be read"] if unlisted else []
        line += f"; pruning skipped: {', '.join(reasons)}"
    return line


def run_failure(*, failed: int, files: int, unlisted: int, not_indexed: int) -> str:
    """Why the run fails (status 1), after its summary: files with errors (the others ingested, if
    any), else folders that could not be listed (nothing pruned), else documents stored but not
    indexed; "" for a run that did not fail."""
    if failed:
        rest = "nothing was ingested" if failed == files else "the others were ingested"
        return f"{failed} of {files} file{pluralize(files)} had errors (listed above); {rest}."
    if unlisted:
        folders = f"{unlisted} folder{pluralize(unlisted)} could not be read"
        return f"{folders} (listed above); the files found were ingested and nothing was pruned."
    if not_indexed:
        return (
            f"{not_indexed} document{pluralize(not_indexed)} could not be indexed (listed above); "
            "run ingest again to retry."
        )
    return ""
