"""Celery tasks for bookings: emails (queued after commit, swept when lost) and the periodic housekeeping."""

from __future__ import annotations

from celery import Task, shared_task


@shared_task(name="bookings.deliver_email", bind=True)
def deliver_email(self: Task, email_id: int) -> None:
    """One attempt at a ``BookingEmail``; a retry is a new task queued for when it is due (the row
    counts the attempts, not Celery). Eager mode (no broker) cannot wait: the sweeper or staff make
    the next attempt."""
    from bookings.delivery import deliver_email as attempt
    from bookings.notifications import enqueue_email

    retry_in = attempt(email_id)
    if retry_in is not None and not self.request.is_eager:
        enqueue_email(email_id, countdown=retry_in)


@shared_task(name="bookings.sweep_emails")
def sweep_emails() -> int:
    from bookings.notifications import emails_requeue_overdue

    return emails_requeue_overdue()


@shared_task(name="bookings.housekeeping")
def housekeeping() -> dict[str, int]:
    from bookings.housekeeping import run_housekeeping

    return run_housekeeping().as_dict()
