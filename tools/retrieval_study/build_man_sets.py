"""Rebuild the man-desc and man-option stress sets (docs/retrieval.md, "Session 28") as BEIR folders.

Sections 1 and 8 of /usr/share/man, symlinks and the gcloud pages left out, rendered with
``man -l`` at 120 columns (cached under ``<out>/rendered``) and split at unindented capitalised
headings. A document is every section but NAME (its first 4,000 characters), titled by the command's
name. Pages whose NAME description has fewer than three words, reads "manual page for", or is shared
with another page, and pages with under 200 characters of body, are dropped. man-desc asks each
page's NAME description; man-option asks the first line of one option's description in the page's
OPTIONS section (the first option whose first line has 6-24 words and lies in the document's 4,000
characters), verbatim as rendered.

Usage: python tools/retrieval_study/build_man_sets.py --out /tmp/rev4/sets
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

MAN_DIRS = (Path("/usr/share/man/man1"), Path("/usr/share/man/man8"))
WIDTH = "120"
BODY_CHARS = 4000
MIN_BODY = 200
HEADING = re.compile(r"^[A-Z][A-Z0-9 ,/&()'-]*$")
OVERSTRIKE = re.compile(r".\x08")
OPTION_LINE = re.compile(r"^(?P<indent> +)-")
NAME_DESCRIPTION = re.compile(r"\s+\\?[-\u2010\u2013\u2014]+\s+")


@dataclass(frozen=True)
class Page:
    command: str
    description: str
    body: str
    option_line: str | None


def rendered(path: Path, cache: Path) -> str:
    target = cache / f"{path.parent.name}_{path.name}.txt"
    if target.exists():
        return target.read_text()
    env = {**os.environ, "MANWIDTH": WIDTH, "MAN_KEEP_FORMATTING": "", "LC_ALL": "C.UTF-8"}
    done = subprocess.run(["man", "-l", str(path)], capture_output=True, env=env, timeout=60, check=False)
    text = OVERSTRIKE.sub("", done.stdout.decode("utf-8", "replace"))
    target.write_text(text)
    return text


def sections(text: str) -> list[tuple[str, list[str]]]:
    """(heading, lines) pairs split at unindented capitalised headings; the header line is dropped."""
    found: list[tuple[str, list[str]]] = []
    for line in text.splitlines()[1:]:
        if line and not line[0].isspace() and HEADING.match(line.strip()):
            found.append((line.strip(), []))
        elif found:
            found[-1][1].append(line)
    if found and found[-1][1] and not found[-1][1][-1].strip():
        found[-1][1].pop()
    # The footer line (date, title) closes the last section; drop it.
    if found and found[-1][1]:
        found[-1] = (found[-1][0], found[-1][1][:-1])
    return found


def option_lines(lines: list[str]) -> list[str]:
    """The first line of each option's description with 6-24 words, verbatim (stripped), in order."""
    found = []
    for index, line in enumerate(lines):
        match = OPTION_LINE.match(line)
        if not match:
            continue
        indent = len(match.group("indent"))
        rest = line.strip()
        same_line = re.split(r"\s{2,}", rest, maxsplit=1)
        candidate = same_line[1] if len(same_line) == 2 else None
        if candidate is None and index + 1 < len(lines):
            following = lines[index + 1]
            if following.strip() and len(following) - len(following.lstrip()) > indent:
                candidate = following.strip()
        if candidate and not candidate.startswith("-") and 6 <= len(candidate.split()) <= 24:
            found.append(candidate)
    return found


def page_of(path: Path, cache: Path) -> Page | None:
    parts = sections(rendered(path, cache))
    names = [lines for heading, lines in parts if heading == "NAME"]
    if not names:
        return None
    name_text = " ".join(line.strip() for line in names[0]).strip()
    split = NAME_DESCRIPTION.split(name_text, maxsplit=1)
    if len(split) != 2:
        return None
    description = split[1].strip()
    body = "\n".join(f"{heading}\n" + "\n".join(lines) for heading, lines in parts if heading != "NAME")
    options = [lines for heading, lines in parts if heading == "OPTIONS"]
    command = path.name.split(".")[0]
    # The first option line the document (its first BODY_CHARS characters) still holds.
    held = [line for line in option_lines(options[0]) if line in body[:BODY_CHARS]] if options else []
    return Page(command, description, body[:BODY_CHARS], held[0] if held else None)


def man_files() -> list[Path]:
    return sorted(
        path
        for directory in MAN_DIRS
        for path in directory.iterdir()
        if not path.is_symlink() and path.is_file() and not path.name.startswith("gcloud")
    )


def kept(pages: list[Page]) -> list[Page]:
    counts = Counter(page.description.lower() for page in pages)
    return [
        page
        for page in pages
        if len(page.description.split()) >= 3
        and "manual page for" not in page.description.lower()
        and counts[page.description.lower()] == 1
        and len(page.body) >= MIN_BODY
    ]


def write_beir(folder: Path, pages: list[Page], queries: dict[str, tuple[str, str]]) -> None:
    """``queries``: query id -> (text, relevant document id)."""
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    with (folder / "corpus.jsonl").open("w") as corpus:
        for number, page in enumerate(pages):
            record = {"_id": f"d{number}", "title": page.command, "text": page.body}
            corpus.write(json.dumps(record) + "\n")
    with (folder / "queries.jsonl").open("w") as out:
        for query_id, (text, _) in queries.items():
            out.write(json.dumps({"_id": query_id, "text": text}) + "\n")
    with (folder / "qrels" / "test.tsv").open("w") as qrels:
        qrels.write("query-id\tcorpus-id\tscore\n")
        for query_id, (_, doc_id) in queries.items():
            qrels.write(f"{query_id}\t{doc_id}\t1\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the two BEIR sets")
    args = parser.parse_args()
    cache = args.out / "rendered"
    cache.mkdir(parents=True, exist_ok=True)
    files = man_files()
    pages = [page for page in (page_of(path, cache) for path in files) if page is not None]
    chosen = kept(pages)
    write_beir(args.out / "man-desc", chosen, {f"q{i}": (p.description, f"d{i}") for i, p in enumerate(chosen)})
    options = {f"q{i}": (p.option_line, f"d{i}") for i, p in enumerate(chosen) if p.option_line}
    write_beir(args.out / "man-option", chosen, {key: (text, doc) for key, (text, doc) in options.items() if text})
    lengths = sorted(len(text.split()) for text, _ in options.values() if text)
    elsewhere = sum(1 for key, (text, doc) in options.items() if text and sum(text in p.body for p in chosen) > 1)
    sys.stdout.write(
        json.dumps(
            {
                "files": len(files),
                "parsed": len(pages),
                "documents": len(chosen),
                "man_option_queries": len(lengths),
                "option_words_min_median_max": [lengths[0], lengths[len(lengths) // 2], lengths[-1]] if lengths else [],
                "option_lines_in_more_than_one_document": elsewhere,
            }
        )
    )


if __name__ == "__main__":
    main()
