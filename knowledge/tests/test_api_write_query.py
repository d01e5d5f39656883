"""A write of the knowledge API refuses query parameters too (its fields go in its body): an upload
sent to ``…/documents/?language=de`` stored its files as English without a word, and a website source
created at ``…/sources/?sync_now=false`` synced at once."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.settings import api_settings

from knowledge.models import Document, KnowledgeSource
from knowledge.tests.factories import add_document
from supportai.api_fields import unknown_fields_error
from supportai.api_query import UNKNOWN_BODY_QUERY_PARAMETERS
from supportai.models import Tenant
from supportai.tests.factories import api_client

DOCUMENTS = "/api/v1/knowledge/documents/"
NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY


def _refusal(*names: str) -> dict[str, list[str]]:
    return {NON_FIELD: [unknown_fields_error(names, ["format"], UNKNOWN_BODY_QUERY_PARAMETERS)]}


def test_an_upload_with_its_language_in_the_query_stores_nothing(tenant: Tenant, other_tenant: Tenant) -> None:
    # when files are uploaded with the language as a query parameter
    def files() -> dict[str, list[SimpleUploadedFile]]:
        return {"files": [SimpleUploadedFile("hours.md", "# Hours\n\nGeöffnet 9 bis 19 Uhr.".encode())]}

    response = api_client(tenant).post(f"{DOCUMENTS}?language=de", files(), format="multipart")
    # then the upload is refused, naming it, and no tenant got a document
    assert response.status_code == 400 and response.json() == _refusal("language")
    assert not Document.objects.exists()
    # and with format only, it goes through
    assert api_client(tenant).post(f"{DOCUMENTS}?format=json", files(), format="multipart").status_code == 202


def test_a_source_with_a_setting_in_the_query_is_not_created(tenant: Tenant) -> None:
    body = {"name": "Help", "start_url": "https://help.example.com/"}
    response = api_client(tenant).post("/api/v1/knowledge/sources/?sync_now=false", body, format="json")
    assert response.status_code == 400 and response.json() == _refusal("sync_now")
    assert not KnowledgeSource.objects.exists()


def test_a_delete_sync_or_search_with_a_query_parameter_is_refused(tenant: Tenant, other_tenant: Tenant) -> None:
    # given the tenant's document and another tenant's
    mine, theirs = add_document(tenant, "Parking", "Free parking."), add_document(other_tenant, "Secret", "Nope.")
    client = api_client(tenant)
    # when / then
    deleted = client.delete(f"{DOCUMENTS}{mine.pk}/?force=1")
    assert deleted.status_code == 400 and deleted.json() == _refusal("force")
    assert client.delete(f"{DOCUMENTS}{theirs.pk}/?force=1").status_code == 400
    assert Document.objects.filter(pk__in=[mine.pk, theirs.pk]).count() == 2
    synced = client.post(f"/api/v1/knowledge/sources/{mine.source_id}/sync/?now=1")
    assert synced.status_code == 400 and synced.json() == _refusal("now")
    searched = client.post("/api/v1/knowledge/search/?k=1", {"query": "parking"}, format="json")
    assert searched.status_code == 400 and searched.json() == _refusal("k")
    # and without them each does as before
    assert client.post("/api/v1/knowledge/search/", {"query": "parking"}, format="json").status_code == 200
    assert client.delete(f"{DOCUMENTS}{mine.pk}/").status_code == 204
    assert client.delete(f"{DOCUMENTS}{theirs.pk}/").status_code == 404
