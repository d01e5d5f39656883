"""The Celery application. Without ``REDIS_URL`` tasks run eagerly in-process."""

from __future__ import annotations

import os

import django
from celery import Celery
from django.apps import apps

from supportai.startup import refusing_bad_configuration

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportai.settings")

app = Celery("supportai")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_configure.connect
def _set_up_django(**_: object) -> None:
    """A worker or beat loads Django here, when Celery first reads its configuration (Django's settings).

    Celery's own hooks would set Django up later and log a bad variable's error with its traceback;
    the ``SystemExit`` of ``refusing_bad_configuration`` passes through them. A process that has
    Django set up already (daphne, manage.py, tests) is left alone.
    """
    if not apps.ready:
        with refusing_bad_configuration():
            django.setup()
