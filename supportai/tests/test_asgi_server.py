"""The real ASGI stack under daphne: what `make run` serves."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.slow


def test_daphne_serves_health_console_admin_and_static(daphne_server: str) -> None:
    with httpx.Client(base_url=daphne_server, timeout=30) as client:
        health = client.get("/healthz")
        login = client.get("/console/login/")
        admin = client.get("/admin/login/")
        css = client.get("/static/console/console.css")
        console = client.get("/console/", follow_redirects=False)
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert login.status_code == 200
    assert "Log in to the console" in login.text
    assert admin.status_code == 200
    assert css.status_code == 200
    assert "--accent" in css.text
    assert console.status_code == 302
    assert console.headers["location"].startswith("/console/login/")
