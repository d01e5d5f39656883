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


# Compatibility with the previous release: remove after one release. Its processes (web, workers)
# queued emails as "bookings.send_booking_email"(booking_id, kind); a worker of this release would drop
# those still queued during a rolling deploy as an unregistered task.
@shared_task(name="bookings.send_booking_email")
def send_booking_email(booking_id: object, kind: object) -> None:
    """A message of the old email task: recorded as a ``BookingEmail`` and sent like any other."""
    from bookings.notifications import notify_legacy

    notify_legacy(booking_id, kind)


@shared_task(name="bookings.sweep_emails")
def sweep_emails() -> int:
    from bookings.notifications import emails_requeue_overdue

    return emails_requeue_overdue()


@shared_task(name="bookings.housekeeping")
def housekeeping() -> dict[str, int]:
    from bookings.housekeeping import run_housekeeping

    return run_housekeeping().as_dict()
