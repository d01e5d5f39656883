"""The files ``manage.py ingest`` reads under a path (``files_under``), and those it leaves out:
links it does not follow (to a folder, to a file outside the path, to nothing), folders that could not
be listed, files of a type it does not read, special files (never opened) and hidden entries (a hidden
folder is not looked into); ``skipped_summary`` sums up the files left out for the run's last line.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.template.defaultfilters import pluralize

from knowledge.parsing import SUPPORTED_SUFFIXES, is_document_file

# Files of a type ingest does not read (an image, a Word file) and special files (a named pipe, a socket, a
# device), which it never opens: counted in the summary by kind (each named by the command at --verbosity 2).
SKIPPED = "{count} file{plural} skipped: {reasons}"
UNSUPPORTED = "unsupported type ({kinds})"
SPECIAL = "special file ({kinds})"
NO_SUFFIX = "no suffix"
# Hidden files and folders (a name beginning with "."): .git, .DS_Store, editors' swap files, but also a
# folder of drafts or an article named .faq.md, which an operator would miss. Each one the walk meets is
# counted (a hidden folder as one: it is not looked into), a few named, and at --verbosity 2 each.
HIDDEN = "{count} hidden entr{plural} left out ({names})"
HIDDEN_FILE = "hidden file"
HIDDEN_FOLDER = "hidden folder, not looked into"
# How many names HIDDEN quotes, the most frequent first ("…" when there are more).
HIDDEN_NAMED = 3
# What a special file is, by the type bits of its mode (opening a named pipe would wait for a writer).
SPECIAL_KINDS = {
    stat.S_IFIFO: "named pipe",
    stat.S_IFSOCK: "socket",
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
}
TIMES = "\u00d7"  # the multiplication sign, as in ".png \u00d72"
# Links left out, each with why (named on stderr by the command).
LINK_OUTSIDE = "a link to a file outside the folder"
LINK_TO_FOLDER = "a link to a folder; links to folders are not followed"
LINK_TO_NOTHING = "a link that leads to no file"


@dataclass(frozen=True)
class FolderFiles:
    files: list[Path]
    # Links left out, each with why.
    skipped: list[tuple[Path, str]]
    # Folders that could not be listed, each with why.
    unreadable: list[tuple[Path, str]] = field(default_factory=list)
    # Files of a type ingest does not read (hidden ones aside).
    unsupported: list[Path] = field(default_factory=list)
    # Special files (named pipes, sockets, devices), never opened, each with its kind.
    special: list[tuple[Path, str]] = field(default_factory=list)
    # Hidden files and folders the walk met (not those inside a hidden folder), each with HIDDEN_FILE or
    # HIDDEN_FOLDER.
    hidden: list[tuple[Path, str]] = field(default_factory=list)

    def skipped_files(self) -> list[tuple[Path, str]]:
        """The files skipped for their type or for being special files, and the hidden entries, each
        with why, by path."""
        unsupported = [(file, UNSUPPORTED.format(kinds=_suffix(file) or NO_SUFFIX)) for file in self.unsupported]
        special = [(file, SPECIAL.format(kinds=kind)) for file, kind in self.special]
        return sorted(unsupported + special + self.hidden)


def files_under(path: Path) -> FolderFiles:
    """``path`` itself, or the document files below it (a BEIR folder gives its ``corpus.jsonl`` and not
    ``queries.jsonl``). Files of other types (``unsupported``), special files (``special``: looked at,
    never opened) and hidden files and folders (``hidden``: a hidden folder is not walked) are returned
    apart, to be counted.

    Links to folders are not followed, so no loop of links can keep the walk going, and a link to a
    file is read only when the file lies under ``path``: a folder of help articles must not hand
    customers a file it merely points at (a key, a password file). The links left out, and those that
    lead nowhere (gone, or a loop), are returned with why, and so are the folders that could not be
    listed (``os.walk`` would pass over them silently, and their files would be taken for gone)."""
    if path.is_file():
        return FolderFiles([path], [])
    root = path.resolve()
    files: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    unreadable: list[tuple[Path, str]] = []
    unsupported: list[Path] = []
    special: list[tuple[Path, str]] = []
    hidden: list[tuple[Path, str]] = []

    def unlisted(error: OSError) -> None:
        unreadable.append((Path(error.filename or path), error.strerror or str(error)))

    # followlinks=False: a link to a folder is listed among the folders, and not walked into.
    for folder, folders, names in os.walk(path, onerror=unlisted):
        here = Path(folder)
        hidden.extend((here / name, HIDDEN_FOLDER) for name in folders if name.startswith("."))
        folders[:] = [name for name in folders if not name.startswith(".")]
        skipped.extend((here / name, LINK_TO_FOLDER) for name in folders if _is_link(here / name))
        for name in names:
            file = here / name
            if name.startswith("."):
                hidden.append((file, HIDDEN_FILE))
                continue
            if not is_document_file(name):
                if kind := _special_kind(file):
                    special.append((file, kind))
                elif _suffix(file) not in SUPPORTED_SUFFIXES:
                    unsupported.append(file)
                continue
            try:
                link, regular = file.is_symlink(), file.is_file()
            except OSError:  # in a folder that can be listed but not entered: read, it is reported unreadable
                files.append(file)
                continue
            if link:
                try:
                    target = file.resolve(strict=True)
                except (OSError, RuntimeError):  # gone, or a loop of links
                    skipped.append((file, LINK_TO_NOTHING))
                    continue
                if not target.is_relative_to(root):
                    skipped.append((file, LINK_OUTSIDE))
                    continue
            if regular:
                files.append(file)
            elif kind := _special_kind(file):
                special.append((file, kind))
    return FolderFiles(
        sorted(files), sorted(skipped), sorted(unreadable), sorted(unsupported), sorted(special), sorted(hidden)
    )


def _suffix(file: Path) -> str:
    return file.suffix.lower()


def _special_kind(file: Path) -> str:
    """What ``file`` (or the file a link leads to) is if it is a special file, from its mode, without
    opening it; "" for a regular file, a folder, or a file that cannot be looked at."""
    try:
        mode = file.stat().st_mode
    except OSError:  # gone, a link to nothing, a folder not entered: left to the walk's other checks
        return ""
    return SPECIAL_KINDS.get(stat.S_IFMT(mode), "")


def _counted(kinds: list[str], most: int | None = None) -> str:
    """``.png \u00d72, .docx``: the kinds most found first; only the first ``most`` of them, then "…"."""
    ordered = sorted(Counter(kinds).items(), key=lambda item: (-item[1], item[0]))
    named = [kind if count == 1 else f"{kind} {TIMES}{count}" for kind, count in ordered[:most]]
    return ", ".join(named + (["\u2026"] if most is not None and len(ordered) > most else []))


def skipped_summary(found: FolderFiles) -> str:
    """``4 files skipped: unsupported type (.png \u00d72, .docx), special file (named pipe), 2 hidden entries
    left out (.DS_Store, .git)``; "" for none."""
    parts = []
    reasons = []
    if found.unsupported:
        reasons.append(UNSUPPORTED.format(kinds=_counted([_suffix(file) or NO_SUFFIX for file in found.unsupported])))
    if found.special:
        reasons.append(SPECIAL.format(kinds=_counted([kind for _, kind in found.special])))
    if count := len(found.unsupported) + len(found.special):
        parts.append(SKIPPED.format(count=count, plural=pluralize(count), reasons=", ".join(reasons)))
    if hidden := len(found.hidden):
        names = _counted([entry.name for entry, _ in found.hidden], most=HIDDEN_NAMED)
        parts.append(HIDDEN.format(count=hidden, plural=pluralize(hidden, "y,ies"), names=names))
    return ", ".join(parts)


def _is_link(path: Path) -> bool:
    """Whether ``path`` is a link; a folder that cannot be looked at is not (the walk reports it unreadable)."""
    try:
        return path.is_symlink()
    except OSError:
        return False
