"""ASGI entry point: HTTP through Django, websockets through Channels (served by daphne)."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

from supportai.startup import refusing_bad_configuration

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportai.settings")
with refusing_bad_configuration():
    django_asgi_app = get_asgi_application()

# The imports below need Django set up.
from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter

from knowledge.warmup import warm_up_in_background
from supportai.allowed_hosts import AllowedHostsMiddleware
from supportai.daphne_setup import leave_form_parsing_to_django
from supportai.routing import websocket_urlpatterns

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsMiddleware(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
leave_form_parsing_to_django()
warm_up_in_background()
