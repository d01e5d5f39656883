"""The questions a chat socket answers, one turn at a time, in the order they came.

Contract: ``enqueue`` queues a stored question and starts the worker task when none runs; a question
already queued or being answered here is queued once. One handed back by staff meanwhile
(``handed_back=True``) is queued again once its turn let go of it, when that turn stayed silent (it
found the handoff live just before). The worker answers through ``answer`` (True: answered, False: the
turn stayed silent); a turn that raises costs its own answer, never the questions queued behind it, and
``failed`` tells the client by the question's ``client_id`` (the client may resend it). The socket owns
the queue: ``close`` cancels the worker as the socket goes and waits for it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from chat.models import Message

logger = logging.getLogger(__name__)

Answer = Callable[[Message], Awaitable[bool]]
Failed = Callable[[str], Awaitable[None]]  # takes the failed question's client_id


class TurnQueue:
    def __init__(self, *, answer: Answer, failed: Failed) -> None:
        self.answer = answer
        self.failed = failed
        self.turns: asyncio.Queue[Message] = asyncio.Queue()
        self.unanswered: set[int] = set()  # ids of the questions queued or being answered here
        self.handed_back: set[int] = set()  # ids of those handed back by staff meanwhile
        self.worker: asyncio.Task[None] | None = None

    def enqueue(self, message: Message, *, handed_back: bool = False) -> None:
        if message.pk in self.unanswered:  # resent while it waits here: answered once
            if handed_back:
                self.handed_back.add(message.pk)
            return
        self.unanswered.add(message.pk)
        self.turns.put_nowait(message)
        if self.worker is None or self.worker.done():
            self.worker = asyncio.create_task(self.answer_queued())

    async def answer_queued(self) -> None:
        while not self.turns.empty():
            question = self.turns.get_nowait()
            answered = True
            try:
                answered = await self.answer(question)
            except Exception:  # a failed turn costs its answer, never the questions queued behind it
                logger.exception("answer to message %s failed", question.pk)
                self.unanswered.discard(question.pk)  # first: the client may resend it on the error frame
                await self.failed(question.client_id)
            finally:
                self.unanswered.discard(question.pk)
            if question.pk in self.handed_back:
                self.handed_back.discard(question.pk)
                if not answered:  # its claim is released by now, so this turn may answer it
                    self.enqueue(question)

    async def close(self) -> None:
        """Cancel the worker and wait for it (the partial answer is stored as it stops)."""
        if self.worker is None:
            return
        self.worker.cancel()
        try:
            await self.worker
        except asyncio.CancelledError:
            pass
        except Exception:  # e.g. the partial answer could not be stored: the socket still leaves its group
            logger.exception("answer worker failed as the socket closed")
