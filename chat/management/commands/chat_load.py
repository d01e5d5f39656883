"""Load-test a running SupportAI server's chat websocket (loopback only)."""

from __future__ import annotations

import asyncio
import json
import math
import resource
from argparse import ArgumentTypeError
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from chat.loadtest import run_load

BAD_SECONDS = "must be a number of seconds, 0 or more; got {value!r}"
# Ten times the benchmark's 1,000 idle sockets: a client holds every session's task and socket at
# once, so a count without a bound (a typo'd 1000000000) would only end when memory runs out.
MAX_SESSIONS = 10_000
TOO_MANY_SESSIONS = f"--sessions must be at most {MAX_SESSIONS:,} (one client process); got {{value}}"
TOO_FEW_FILES = (
    "--sessions {sessions} needs a socket each, and this process may open only {limit} files; "
    "raise the limit (ulimit -n) or run fewer sessions"
)
# Every session failing to connect measures nothing of the server: a wrong port, key or origin.
NONE_CONNECTED = (
    "no session of {sessions} connected to {url} (refused, closed or timed out): "
    "check that the server runs there and that the widget key and --origin are the tenant's"
)
# Files the process holds besides the sessions' sockets (interpreter, database, event loop).
OTHER_FILES = 64


def open_file_limit(wanted: int) -> int:
    """The files this process may open, its soft limit first raised toward ``wanted`` as far as the hard
    limit allows (any process may raise its own soft limit that far, as ``ulimit -n`` does)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or wanted <= soft:
        return soft
    raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
    except (ValueError, OSError):
        return soft
    return raised


def _seconds(value: str) -> float:
    # An endless pace or hold would keep the sockets open for ever; a negative one means nothing.
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds >= 0):
        raise ArgumentTypeError(BAD_SECONDS.format(value=value))
    return seconds


class Command(BaseCommand):
    help = "Open N chat sessions against ws://127.0.0.1… and report connect rate, first-delta and answer latency."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", required=True, help="ws://127.0.0.1:8000/ws/chat/?key=pk_…")
        parser.add_argument("--origin", default="http://127.0.0.1:8000")
        parser.add_argument("--sessions", type=int, default=50, help=f"1 to {MAX_SESSIONS:,}")
        parser.add_argument("--question", action="append", default=[], help="Question to ask (repeatable).")
        parser.add_argument("--pace", type=_seconds, default=1.0, help="Seconds between a session's questions.")
        parser.add_argument("--hold", type=_seconds, default=0.0, help="Seconds to keep each socket open at the end.")

    def handle(self, *args: Any, **options: Any) -> None:
        sessions = options["sessions"]
        if sessions < 1:
            raise CommandError("--sessions must be at least 1")
        if sessions > MAX_SESSIONS:
            raise CommandError(TOO_MANY_SESSIONS.format(value=sessions))
        # Sockets past the open-file limit fail to connect and would be reported as the server's errors.
        limit = open_file_limit(sessions + OTHER_FILES)
        if limit != resource.RLIM_INFINITY and sessions + OTHER_FILES > limit:
            raise CommandError(TOO_FEW_FILES.format(sessions=sessions, limit=limit))
        questions = options["question"] or ["What are your opening hours?"]
        try:
            result = asyncio.run(
                run_load(
                    url=options["url"],
                    origin=options["origin"],
                    sessions=sessions,
                    questions=questions,
                    pace_s=options["pace"],
                    hold_s=options["hold"],
                )
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(result.summary(), indent=2))
        if not result.connected:
            raise CommandError(NONE_CONNECTED.format(sessions=sessions, url=options["url"]))
