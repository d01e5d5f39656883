from __future__ import annotations

import logging

import pytest
from django.test import Client

from supportai.celery import app as celery_app
from supportai.channel_layer import channels_redis_settings
from supportai.health import UNAVAILABLE

pytestmark = pytest.mark.django_db

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


def test_healthz_reports_every_component_up() -> None:
    response = Client().get("/healthz")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "channel_layer", "celery_broker"}
    assert all(check["ok"] for check in body["checks"].values())
    assert "pgvector" in body["checks"]["database"]["detail"]
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_is_503_when_the_cache_is_down(settings, caplog) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": UNREACHABLE_REDIS,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }
    with caplog.at_level(logging.WARNING, logger="supportai.health"):
        response = Client().get("/healthz")
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "fail"
    assert body["checks"]["cache"]["ok"] is False
    assert body["checks"]["cache"]["detail"] == UNAVAILABLE
    assert body["checks"]["database"]["ok"] is True
    # the public answer names no host, port or exception; the log keeps them for the operator
    assert "127.0.0.1" not in response.content.decode()
    assert "Error" not in response.content.decode()
    [record] = [r for r in caplog.records if r.name == "supportai.health"]
    assert record.levelno == logging.WARNING
    assert "cache" in record.getMessage()
    assert record.exc_info is not None and "Connection" in type(record.exc_info[1]).__name__


def test_healthz_is_503_when_the_broker_is_down(settings, monkeypatch) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(celery_app.conf, "broker_url", UNREACHABLE_REDIS)
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["celery_broker"]["ok"] is False
    assert response.json()["checks"]["celery_broker"]["detail"] == UNAVAILABLE
    assert "127.0.0.1" not in response.content.decode()


@pytest.mark.parametrize("redis", ["refusing", "silent"])
def test_healthz_is_503_when_the_channel_layer_is_down(settings, request: pytest.FixtureRequest, redis: str) -> None:
    # given a channel layer on a Redis that refuses connections, or one that accepts them and never
    # answers (the layer's sockets have no read timeout, so only the check's own deadline ends that wait)
    from channels.layers import channel_layers

    url = UNREACHABLE_REDIS if redis == "refusing" else request.getfixturevalue("silent_redis")
    settings.CHANNEL_LAYERS = {"default": channels_redis_settings(url, "supportai")}
    channel_layers.backends.clear()
    try:
        # when
        response = Client().get("/healthz")
    finally:
        channel_layers.backends.clear()
    # then
    assert response.status_code == 503
    assert response.json()["checks"]["channel_layer"]["ok"] is False
    assert response.json()["checks"]["channel_layer"]["detail"] == UNAVAILABLE
    assert "127.0.0.1" not in response.content.decode()


def test_healthz_only_answers_get() -> None:
    assert Client().post("/healthz").status_code == 405


@pytest.mark.redis
def test_healthz_all_green_on_real_redis(settings, redis_url: str, monkeypatch) -> None:
    from channels.layers import channel_layers

    settings.CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": redis_url}}
    settings.CHANNEL_LAYERS = {"default": channels_redis_settings(redis_url, "supportai")}
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(celery_app.conf, "broker_url", redis_url)
    channel_layers.backends.clear()
    try:
        response = Client().get("/healthz")
    finally:
        channel_layers.backends.clear()
    body = response.json()
    assert response.status_code == 200, body
    assert body["checks"]["channel_layer"]["detail"] == "RedisChannelLayer"
    assert body["checks"]["cache"]["detail"] == "RedisCache"
    assert "broker reachable" in body["checks"]["celery_broker"]["detail"]
