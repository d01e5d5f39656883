"""Options and look-ups shared by the knowledge commands."""

from __future__ import annotations

import os
from argparse import ArgumentParser, ArgumentTypeError
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from knowledge.providers.base import EmbeddingProvider, setup_error
from knowledge.providers.bulk_retry import bulk_retries
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


def add_progress_option(parser: ArgumentParser) -> None:
    parser.add_argument("--no-progress", action="store_true", help="draw no progress bars on stderr")


class StepBars:
    """Progress bars of a long run on ``command``'s stderr (a ``knowledge.types.Progress``): one per
    step, counting ``units[step]`` (else ``unit``), each ended when the next step starts; ``close``
    ends the last. None are drawn with ``--no-progress``, nor for a step of no items."""

    def __init__(self, command: BaseCommand, options: dict[str, Any], *, unit: str, units: Mapping[str, str]) -> None:
        # Drawn on stderr's own stream: a redraw is a carriage return and the bar, which
        # OutputWrapper would end with a newline each (and colour on a terminal).
        self.stream = cast(TextIO, command.stderr._out)
        self.disable = bool(options["no_progress"])
        self.unit = unit
        self.units = units
        self.step = ""
        self.bar: tqdm[Any] | None = None

    def __call__(self, step: str, total: int, done: int) -> None:
        if self.bar is None or step != self.step:
            self.close()
            self.step = step
            unit = self.units.get(step, self.unit)
            self.bar = tqdm(total=total, desc=step, unit=unit, file=self.stream, disable=self.disable or not total)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


@contextmanager
def embedding_retries(command: BaseCommand) -> Iterator[None]:
    """Within the block, a hosted provider's request (a document batch or a query) that fails with a
    passing error (a rate limit, an outage) is sent again a bounded number of times
    (``knowledge.providers.bulk_retry``), each wait told on ``command``'s stderr above any progress bar."""
    stream = cast(TextIO, command.stderr._out)

    def notify(line: str) -> None:
        with tqdm.external_write_mode(file=stream):  # cleared, a bar is drawn again below the line
            command.stderr.write(line)

    with bulk_retries(notify=notify):
        yield


def provider_check(provider: EmbeddingProvider, *, consequence: str) -> None:
    """Stop the command at once (``CommandError``: the detail, then ``consequence``, e.g. "nothing was
    ingested") when ``provider`` cannot embed as configured, a hosted provider without its API key,
    rather than sending requests it would refuse, or failing every document one by one."""
    error = setup_error(provider)
    if error is not None:
        raise CommandError(f"{error}; {consequence}.")
