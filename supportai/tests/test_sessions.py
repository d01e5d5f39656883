"""A session cookie the server never issued is no session (``supportai/sessions.py``): a key with a
character Django never puts in one, such as a NUL written as a cookie's octal escape (``"\\000"``),
which PostgreSQL cannot even compare, is dropped before the database is asked, not a 500."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

pytestmark = pytest.mark.django_db

NUL_SESSION = f'{settings.SESSION_COOKIE_NAME}="abcdefgh\\000ijklmnop"'


@pytest.mark.parametrize("cookie", [NUL_SESSION, f"{settings.SESSION_COOKIE_NAME}=ABCDEFGH-not-ours"])
def test_a_session_key_never_issued_is_no_session(cookie: str) -> None:
    # when a console page and the API are asked with a session cookie the server never issued
    client = Client(raise_request_exception=False)
    console = client.get("/console/knowledge/", HTTP_COOKIE=cookie)
    api = client.get("/api/v1/knowledge/documents/", HTTP_COOKIE=cookie)
    # then the visitor is not logged in: sent to log in, and the API's 401, never a 500
    assert (console.status_code, console["Location"]) == (302, "/console/login/?next=/console/knowledge/")
    assert (api.status_code, api.json()) == (401, {"detail": "Authentication credentials were not provided."})


def test_a_session_the_server_issued_still_logs_in(owner: User) -> None:
    # given an owner logged in
    client = Client()
    client.force_login(owner)
    # when they open the console's knowledge page, then they are in
    assert client.get("/console/knowledge/").status_code == 200
