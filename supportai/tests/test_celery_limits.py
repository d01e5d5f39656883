"""Celery's time limits and Redis's visibility timeout: a task acknowledged late (acks_late) must never
outlast the timeout, or Redis hands its message to a second worker while the first still runs it."""

from __future__ import annotations

import pytest
from django.conf import settings

from escalations.notifications.targets import MAX_RETRY_AFTER_S as ESCALATION_RETRY_AFTER_CAP_S
from knowledge import conf
from knowledge.providers.remote import MAX_RETRY_AFTER_S as KNOWLEDGE_RETRY_AFTER_CAP_S
from supportai.celery import app
from supportai.outbox import backoff_seconds
from supportai.tests.test_settings import _import_settings, _run

# The longest countdown any task is retried with.
LONGEST_COUNTDOWN_S = max(ESCALATION_RETRY_AFTER_CAP_S, KNOWLEDGE_RETRY_AFTER_CAP_S, backoff_seconds(99))


def test_the_celery_app_runs_with_time_limits_and_a_visibility_timeout() -> None:
    assert app.conf.task_soft_time_limit == settings.CELERY_TASK_SOFT_TIME_LIMIT
    assert app.conf.task_time_limit == settings.CELERY_TASK_TIME_LIMIT
    assert app.conf.broker_transport_options == settings.CELERY_BROKER_TRANSPORT_OPTIONS


def test_a_url_sync_stops_itself_well_before_the_soft_time_limit() -> None:
    assert conf.SETTINGS.crawl_sync_max_s + 600 <= settings.CELERY_TASK_SOFT_TIME_LIMIT
    assert settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT


def test_no_message_is_redelivered_while_its_task_waits_for_its_countdown_or_runs() -> None:
    visibility_timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert visibility_timeout > LONGEST_COUNTDOWN_S + settings.CELERY_TASK_TIME_LIMIT
    # and longer than the hour Redis gives by default, which a re-index can outlast
    assert visibility_timeout > 3 * 3600


@pytest.mark.slow
def test_a_soft_time_limit_below_the_url_sync_limit_is_refused() -> None:
    result = _import_settings({"DEBUG": "1", "KNOWLEDGE_CRAWL_SYNC_MAX_S": "7200"})
    assert result.returncode != 0
    assert "CELERY_TASK_SOFT_TIME_LIMIT_S (7200) must be at least KNOWLEDGE_CRAWL_SYNC_MAX_S (7200)" in result.stderr


@pytest.mark.slow
def test_a_visibility_timeout_the_time_limit_could_outlast_is_refused() -> None:
    result = _import_settings({"DEBUG": "1", "CELERY_VISIBILITY_TIMEOUT_S": "3600"})
    assert result.returncode != 0
    assert "CELERY_VISIBILITY_TIMEOUT_S (3600) must exceed the longest retry countdown" in result.stderr


@pytest.mark.slow
def test_limits_raised_together_are_accepted() -> None:
    env = {
        "DEBUG": "1",
        "KNOWLEDGE_CRAWL_SYNC_MAX_S": "7200",
        "CELERY_TASK_SOFT_TIME_LIMIT_S": "7800",
        "CELERY_VISIBILITY_TIMEOUT_S": "20000",
    }
    script = "from supportai import settings as s; print(s.CELERY_TASK_TIME_LIMIT, s.CELERY_BROKER_TRANSPORT_OPTIONS)"
    result = _run(["-c", script], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "8100 {'visibility_timeout': 20000}"
