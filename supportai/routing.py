"""Websocket routes of every app, collected in one list for ``asgi.py``."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

from chat.routing import websocket_urlpatterns as chat_websockets
from escalations.routing import websocket_urlpatterns as inbox_websockets

websocket_urlpatterns: list[URLPattern | URLResolver] = [*chat_websockets, *inbox_websockets]
