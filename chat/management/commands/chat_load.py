"""Load-test a running SupportAI server's chat websocket (loopback only)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from chat.loadtest import run_load


class Command(BaseCommand):
    help = "Open N chat sessions against ws://127.0.0.1… and report connect rate, first-delta and answer latency."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", required=True, help="ws://127.0.0.1:8000/ws/chat/?key=pk_…")
        parser.add_argument("--origin", default="http://127.0.0.1:8000")
        parser.add_argument("--sessions", type=int, default=50)
        parser.add_argument("--question", action="append", default=[], help="Question to ask (repeatable).")
        parser.add_argument("--pace", type=float, default=1.0, help="Seconds between a session's questions.")
        parser.add_argument("--hold", type=float, default=0.0, help="Seconds to keep each socket open at the end.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["sessions"] < 1:
            raise CommandError("--sessions must be at least 1")
        questions = options["question"] or ["What are your opening hours?"]
        try:
            result = asyncio.run(
                run_load(
                    url=options["url"],
                    origin=options["origin"],
                    sessions=options["sessions"],
                    questions=questions,
                    pace_s=options["pace"],
                    hold_s=options["hold"],
                )
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(result.summary(), indent=2))
