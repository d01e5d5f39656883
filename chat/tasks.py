"""Celery tasks of the chat app."""

from __future__ import annotations

from celery import shared_task

from chat.services import replies_finish_abandoned
from escalations.realtime import publish_committed_sync
from escalations.watch import message_publication

FINISH_ABANDONED_TASK = "chat.finish_abandoned_replies"


@shared_task(name=FINISH_ABANDONED_TASK)
def finish_abandoned_replies() -> int:
    """Finish replies whose server died mid-answer (``chat.services.reply_abandoned_after``) and show
    them to the staff watching; how many. A resend or a resumed socket finishes them sooner.

    Showing them is best effort (``publish_committed_sync``): each batch has committed, so a channel-layer
    failure (Redis down) is a warning naming the groups, and the sweep goes on to the next batch."""
    finished = 0
    for batch in replies_finish_abandoned():
        publish_committed_sync(message_publication(reply) for reply in batch)
        finished += len(batch)
    return finished
