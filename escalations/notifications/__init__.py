"""Escalation notifications: email, Slack incoming webhook, signed outbound webhook, tickets.

``dispatch`` records one ``NotificationDelivery`` per channel inside the escalation's transaction
and enqueues ``tasks.deliver_notification`` on commit; the task retries with backoff and records
every attempt, so a failure is visible in admin and never lost silently.
"""
