"""Celery tasks for bookings: emails (queued after commit) and the periodic housekeeping."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="bookings.send_booking_email", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_booking_email(booking_id: int, kind: str) -> bool:
    from bookings.emails import send_booking_email as send

    return send(booking_id=booking_id, kind=kind)


@shared_task(name="bookings.housekeeping")
def housekeeping() -> dict[str, int]:
    from bookings.housekeeping import run_housekeeping

    return run_housekeeping().as_dict()
