"""Uploads through a real daphne: Twisted leaves multipart bodies to Django (supportai/daphne_setup.py)."""

from __future__ import annotations

import httpx
import pytest

from knowledge.apis import NO_FILES
from knowledge.models import Document
from supportai.api_keys import api_key_create
from supportai.models import Tenant

pytestmark = pytest.mark.slow

UPLOAD = "/api/v1/knowledge/documents/"


def _headers(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key_create(tenant=tenant, name='ci').raw_key}"}


def test_a_malformed_multipart_body_reaches_the_api_and_gets_its_json_error(daphne_server: str, tenant: Tenant) -> None:
    # given a body with a closing boundary and no part, which Twisted's own parser answered with a
    # bare 400 and a dropped connection
    headers = {**_headers(tenant), "Content-Type": "multipart/form-data; boundary=abc"}
    # when
    response = httpx.post(f"{daphne_server}{UPLOAD}", content=b"--abc--\r\n", headers=headers, timeout=60)
    # then
    assert response.status_code == 400
    assert response.json() == {"files": [NO_FILES]}


def test_a_file_and_a_form_field_arrive_whole_through_daphne(daphne_server: str, tenant: Tenant) -> None:
    # given
    text = "# Passwort zurücksetzen\n\nÖffnen Sie die Anmeldeseite und wählen Sie „Passwort vergessen“."
    # when
    response = httpx.post(
        f"{daphne_server}{UPLOAD}",
        files={"files": ("Passwort-zurücksetzen.md", text.encode(), "text/markdown")},
        data={"language": "de"},
        headers=_headers(tenant),
        timeout=120,
    )
    # then
    assert response.status_code == 202, response.text
    (uploaded,) = response.json()["files"]
    assert (uploaded["name"], uploaded["error"]) == ("Passwort-zurücksetzen.md", "")
    document = Document.objects.for_tenant(tenant).get(pk=uploaded["documents"][0]["id"])
    assert (document.title, document.language) == ("Passwort zurücksetzen", "de")
