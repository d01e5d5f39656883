"""The knowledge console's form fields are described by their help text and errors: every id a
field's ``aria-describedby`` names (Django sets it from the help text and the errors) is on the
page, so a screen reader reads them with the field."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import User
from django.test import Client

from knowledge.source_config import url_source_create
from supportai.models import Tenant


class _Descriptions(HTMLParser):
    """The text of each element by id, and the ids each field's aria-describedby names."""

    def __init__(self) -> None:
        super().__init__()
        self.described: dict[str, list[str]] = {}
        self.text: dict[str, str] = {}
        self._open: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("aria-describedby"):
            self.described[found.get("name") or ""] = (found["aria-describedby"] or "").split()
        if tag in {"input", "br", "meta", "link"}:
            return
        element_id = found.get("id")
        if element_id:
            self.text[element_id] = ""
        self._open.append(element_id)

    def handle_endtag(self, tag: str) -> None:
        if tag not in {"input", "br", "meta", "link"} and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for element_id in filter(None, self._open):
            self.text[element_id] += data


def _descriptions(body: bytes) -> dict[str, str]:
    """Each described field's description, as the texts of the ids it names joined."""
    parser = _Descriptions()
    parser.feed(body.decode())
    missing = {name: ids for name, ids in parser.described.items() if not set(ids) <= parser.text.keys()}
    assert not missing, f"aria-describedby names ids not on the page: {missing}"
    return {name: " ".join(" ".join(parser.text[i].split()) for i in ids) for name, ids in parser.described.items()}


def test_the_upload_forms_language_is_described_by_its_help(client: Client, owner: User) -> None:
    client.force_login(owner)
    described = _descriptions(client.get("/console/knowledge/").content)
    assert "it chooses their stemming" in described["language"]


@pytest.mark.parametrize("editing", [False, True])
def test_website_source_fields_are_described_by_their_help_and_errors(
    client: Client, owner: User, tenant: Tenant, editing: bool
) -> None:
    # given
    client.force_login(owner)
    path = "/console/knowledge/sources/new/"
    if editing:
        source = url_source_create(tenant=tenant, name="Help", config={"start_url": "https://help.example.com/"})
        path = f"/console/knowledge/sources/{source.pk}/edit/"
    # when the form comes back with errors
    page = client.post(
        path, {"tenant": tenant.pk, "name": "", "start_url": "https://help.example.com/", "max_pages": "many"}
    )
    # then each field is described by its help text and its errors
    described = _descriptions(page.content)
    assert described["name"] == "This field is required."
    assert described["max_pages"].startswith("Empty: ") and described["max_pages"].endswith("Enter a whole number.")
    assert "following links on the same host" in described["start_url"]


def test_the_search_boxs_fields_are_described_by_their_errors(client: Client, agent: User) -> None:
    client.force_login(agent)
    described = _descriptions(client.get("/console/knowledge/search/", {"q": "", "k": "many"}).content)
    assert described == {"q": "This field is required.", "k": "Enter a whole number."}


def test_the_search_boxs_fields_say_what_they_are(client: Client, agent: User) -> None:
    client.force_login(agent)
    body = client.get("/console/knowledge/search/").content.decode()
    labels = dict((field, text) for field, text in re.findall(r'<label for="id_(\w+)">([^<]*)</label>', body))
    assert labels == {"q": "Query:", "mode": "Mode:", "k": "Passages to show:"}
