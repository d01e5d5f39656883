"""What ``manage.py ingest`` says when it refuses a run after reading every file first, storing
nothing: a pruning run that would move a folder source to another path, or a run of a folder that
would take over the sources of files and folders in it, while a file there has errors or a folder
there could not be listed (a move would have the files read replace the source's own named alike,
and keep its old folder; a takeover would move the documents of a file the run then fails)."""

from __future__ import annotations

from pathlib import Path

from django.template.defaultfilters import pluralize

from knowledge.folder_names import source_label
from knowledge.folder_sources import InnerSource
from knowledge.models import KnowledgeSource

# A pruning run of another folder into a folder source, refused before it stores anything (its
# files would replace the source's own named alike, and the source would keep its old folder).
MOVE_INCOMPLETE = (
    "{problems} (listed above); nothing was changed: this run would move the source {name!r} from {old} to "
    "{new}, which it does only once it has read every file there."
)
# A run of a folder given no source name takes over the sources of the files and folders in it that are
# named by their own path (knowledge/folder_sources.py): refused before it changes anything while a file
# there has errors, and after it each source taken over is named with what became of its documents
# (knowledge/folder_takeover.py); a pruning run also deletes those whose file or folder is gone.
TAKE_OVER_INCOMPLETE = (
    "{problems} (listed above); nothing was changed: this run would take over {sources} ({their} documents "
    "would move into {target}), which it does only once it has read every file here."
)


def files_problems(*, failed: int, files: int, unlisted: int) -> str:
    """What was wrong when every file was read first: ``failed`` of ``files`` files with errors,
    ``unlisted`` folders that could not be listed; "" when nothing."""
    problems = [f"{failed} of {files} file{pluralize(files)} had errors"] if failed else []
    problems += [f"{unlisted} folder{pluralize(unlisted)} could not be read"] if unlisted else []
    return " and ".join(problems)


def move_refused(*, problems: str, source: KnowledgeSource, old: str, new: Path) -> str:
    return MOVE_INCOMPLETE.format(problems=problems, name=source.name, old=old, new=new)


def take_over_refused(*, problems: str, inner: list[InnerSource], target: KnowledgeSource) -> str:
    return TAKE_OVER_INCOMPLETE.format(
        problems=problems,
        sources=f"the source{pluralize(len(inner))} of {', '.join(other.source.name for other in inner)}",
        their=pluralize(len(inner), "its,their"),
        target=source_label(target),
    )
