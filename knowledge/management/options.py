"""Options and look-ups shared by the knowledge commands."""

from __future__ import annotations

import os
from argparse import ArgumentParser, ArgumentTypeError
from typing import Any

from knowledge.providers.local import use_threads

BAD_THREADS = "must be a whole number of threads, 1 or more; got {value!r}"
# A retrieval statement the database cancelled (knowledge.timeouts.RetrievalTimedOut): the commands
# set no limit of their own, so it is the role's or session's statement_timeout, or an operator's cancel.
RETRIEVAL_STOPPED = (
    "the database cancelled a retrieval statement ({reason}), so {consequence}. A statement_timeout set "
    "for the database role or session stops searches that run (or wait for a lock) longer; run the command "
    "again when the database is less busy, or with a longer statement_timeout"
)


def _thread_count(value: str) -> int:
    # A count under 1 used to be taken as 1 without a word; argparse names the option in the error.
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise ArgumentTypeError(BAD_THREADS.format(value=value))
    return count


def add_threads_option(parser: ArgumentParser) -> None:
    parser.add_argument(
        "--threads",
        type=_thread_count,
        default=os.cpu_count() or 1,
        help="intra-op threads for the local embedding model (default: all cores; serving uses 1)",
    )


def apply_threads_option(options: dict[str, Any]) -> None:
    use_threads(options["threads"])
