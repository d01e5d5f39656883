"""Websocket routes of every app, collected in one list for ``asgi.py``."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

websocket_urlpatterns: list[URLPattern | URLResolver] = []
