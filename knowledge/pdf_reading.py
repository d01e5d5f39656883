"""A PDF's pages read by pypdf in a child process that is killed when it takes too long.

pypdf bounds each stream, array and page tree, not the work of a whole file: a 4 KB PDF of 9 pages
sharing one content stream of 300,000 drawing operators took 94 s to read, one page of 100 fonts
sharing one large ToUnicode map took 33 s before its first operator, and a page tree may list one
such page 100,000 times. Read in the request (an upload) or the command, such a file held it for
hours. The child runs under a time limit (``KNOWLEDGE_PDF_READ_SECONDS``) and is killed past it;
the file is then refused, ``too_large``, and the others go on.

Children come from a ``forkserver`` (a clean process that has imported pypdf once), not from a fork
of the caller, whose threads (the ASGI server's, the database driver's) may hold locks a fork would
copy held. A child costs ~20-30 ms.
"""

from __future__ import annotations

import io
import logging
import multiprocessing
import sys
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from types import ModuleType

from knowledge.parsed import ErrorCode, ParseError

# Reads a PDF of ~4,300 text pages, the most KNOWLEDGE_MAX_UPLOAD_BYTES' default of text holds (12 ms a page).
PDF_READ_SECONDS = 60
PDF_ENCRYPTED = "The PDF is encrypted (password protected); upload a copy saved without a password."
# A PDF's streams are compressed, so a file of a few kilobytes can hold gigabytes of text (pypdf caps
# each stream at 75 MB, not their number): it may give as much text as an upload of text may hold.
PDF_TEXT_TOO_LONG = "The PDF holds more than {limit} characters of text; split it into smaller files."
PDF_TOO_SLOW = (
    "The PDF takes more than {seconds} seconds to read, so it was stopped; split it into smaller files, "
    "or save it again as a plain PDF."
)
PDF_READER_DIED = "The PDF could not be read: its reader stopped (out of memory?); save it again as a plain PDF."

_CONTEXT = multiprocessing.get_context("forkserver")


@dataclass(frozen=True)
class PdfPages:
    pages: list[str]
    title: str  # the metadata's, "" without one
    language: str  # the catalog's /Lang, "" without one


class PdfReaderCrashed(Exception):
    """pypdf raised what no broken file was seen to raise: the child's traceback, for the log."""


class _TextTooLong(Exception):
    pass


def pdf_pages(data: bytes, *, max_chars: int, seconds: float) -> PdfPages:
    """The text of each page of the PDF ``data``, its title and its language, read in a child
    process. Raises ``ParseError`` for a file that is refused (encrypted, broken, more than
    ``max_chars`` characters of text, or more than ``seconds`` seconds of reading: the child is
    then killed) and ``PdfReaderCrashed`` for an unexpected error of the reader."""
    # Read when the forkserver starts, at the first PDF.
    _CONTEXT.set_forkserver_preload([__name__, "pypdf", *_script_modules()])
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    child = _CONTEXT.Process(target=_read_into, args=(sender, data, max_chars), daemon=True)
    child.start()
    sender.close()
    try:
        if not receiver.poll(seconds):
            # Only while it runs: the forkserver reaps a child that has returned, and its pid is free.
            if child.exitcode is None:
                child.kill()
            raise ParseError(ErrorCode.TOO_LARGE, PDF_TOO_SLOW.format(seconds=seconds))
        try:
            outcome: PdfPages | tuple[ErrorCode, str] | PdfReaderCrashed = receiver.recv()
        except EOFError as exc:  # the child died without a word: killed, out of memory
            raise ParseError(ErrorCode.MALFORMED, PDF_READER_DIED) from exc
    finally:
        child.join()  # a child that answered returns at once
        receiver.close()
    if isinstance(outcome, PdfPages):
        return outcome
    if isinstance(outcome, PdfReaderCrashed):
        raise outcome
    code, message = outcome
    raise ParseError(code, message)


def _script_modules() -> list[str]:
    """The modules the main script took names from (daphne's ``from daphne.cli import …``): each
    child runs the script again, as multiprocessing does, and finds them imported by the forkserver
    (daphne's took 0.2 s a PDF to import them itself)."""
    script = sys.modules.get("__main__")
    values = vars(script).values() if script is not None else []
    names = {
        value.__name__ if isinstance(value, ModuleType) else getattr(value, "__module__", None) for value in values
    }
    return sorted(name for name in names if isinstance(name, str) and name in sys.modules and name != "__main__")


def _read_into(sender: Connection, data: bytes, max_chars: int) -> None:
    """In the child: send ``_read``'s pages, the refusal of a file, or an unexpected error."""
    # pypdf warns of each flaw of a broken file; it is the file's, not the server's.
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    try:
        sender.send(_read(data, max_chars))
    except ParseError as exc:
        sender.send((exc.code, str(exc)))
    except Exception:
        sender.send(PdfReaderCrashed(traceback.format_exc()))
    finally:
        sender.close()


def _read(data: bytes, max_chars: int) -> PdfPages:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, DeprecationError, FileNotDecryptedError, PyPdfError

    extracted = 0

    def count(text: str, *_: object) -> None:
        # Called for each piece of text as it is extracted: a bomb stops before it fills the memory.
        nonlocal extracted
        extracted += len(text)
        if extracted > max_chars:
            raise _TextTooLong

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text(visitor_text=count) or "" for page in reader.pages]
        title = reader.metadata.title if reader.metadata else None
        language = reader.root_object.get("/Lang")  # the catalog's natural language, e.g. "de-DE"
    except _TextTooLong as exc:
        raise ParseError(ErrorCode.TOO_LARGE, PDF_TEXT_TOO_LONG.format(limit=max_chars)) from exc
    except FileNotDecryptedError as exc:
        raise ParseError(ErrorCode.MALFORMED, detail=PDF_ENCRYPTED) from exc
    except (NotImplementedError, DependencyError) as exc:
        # An encryption handler or a stream filter that pypdf cannot read.
        detail = f"The PDF uses a feature that cannot be read here ({exc}); save it again as a plain PDF."
        raise ParseError(ErrorCode.MALFORMED, detail=detail) from exc
    # pypdf's own errors, and what broken files were seen to raise from inside it.
    except (
        PyPdfError,
        DeprecationError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        AssertionError,
        RecursionError,
        OverflowError,  # a number too large for a file offset
    ) as exc:
        raise ParseError(ErrorCode.MALFORMED, detail=f"The PDF could not be read: {exc}") from exc
    # Plain strings: pypdf's own types would need pypdf to be unpickled.
    return PdfPages(
        [str(page) for page in pages],
        str(title or ""),
        str(language) if isinstance(language, str) else "",
    )
