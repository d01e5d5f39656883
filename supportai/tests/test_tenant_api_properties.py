"""Property: nothing sent to the tenant REST API gets a 5xx, a traceback or another tenant's data.

The schemathesis tests (``test_api_properties.py``) send schema-shaped requests with one valid key.
These send what the schema does not describe, to every operation: Authorization headers of any kind
(another tenant's key, a revoked one, an inactive tenant's, altered ones, any Latin-1 text), any
method, bodies of any JSON shape or none in any content type, multipart uploads with odd parts, file
names and contents, query strings and path ids of any size, and Host, Accept and proxy headers. A
refusal is a 4xx in the API's JSON error shape (``supportai.api_errors``), no ERROR with a traceback
is logged, and the other tenant's documents and sources never show in an answer to this tenant's
key (their titles, names or ids), nor change. The API's own key handling is test_api_keys'.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge import conf
from knowledge.models import Document, KnowledgeSource, SourceKind
from knowledge.services import source_get_or_create
from knowledge.tests.factories import add_document, faq_csv
from supportai.api_keys import api_key_create, api_key_revoke
from supportai.api_parsers import JSON_TOO_DEEP
from supportai.error_pages import GENERIC
from supportai.models import Tenant
from supportai.tests.factories import TenantFactory, api_client
from supportai.tests.input_strategies import (
    CONTENT_TYPES,
    JSON,
    NOT_JSON_BODIES,
    PROPERTY_SETTINGS,
    TEXT,
    assert_no_traceback_logged,
)

SECRET_WORD = "zebracorn"  # in the other tenant's data only: never in an answer to this tenant's key
PUBLIC_ADDRESS = "93.184.215.14"
# Every operation of the tenant API; {id} is filled in per request.
OPERATIONS = [
    ("GET", "/api/v1/tenant/"),
    ("GET", "/api/v1/knowledge/documents/"),
    ("POST", "/api/v1/knowledge/documents/"),
    ("GET", "/api/v1/knowledge/documents/{id}/"),
    ("DELETE", "/api/v1/knowledge/documents/{id}/"),
    ("POST", "/api/v1/knowledge/sources/"),
    ("GET", "/api/v1/knowledge/sources/{id}/"),
    ("POST", "/api/v1/knowledge/sources/{id}/sync/"),
    ("POST", "/api/v1/knowledge/search/"),
]
BODY_OPERATIONS = ["/api/v1/knowledge/documents/", "/api/v1/knowledge/sources/", "/api/v1/knowledge/search/"]
# Latin-1 without line breaks: what a server can hand Django as a header value.
HEADER_TEXT = st.text(st.characters(max_codepoint=255, exclude_characters="\r\n"), max_size=60)


@dataclasses.dataclass(frozen=True)
class Tenants:
    """This tenant's keys and data, and another tenant's recognisable document and source."""

    tenant: Tenant
    key: str
    revoked_key: str
    inactive_key: str  # a key of a deactivated tenant
    documents: list[Document]
    sources: list[KnowledgeSource]
    other: Tenant
    other_key: str
    other_documents: list[Document]
    other_sources: list[KnowledgeSource]

    def own_ids(self, path: str) -> list[int]:
        """This tenant's ids of the kind ``path`` takes (documents and sources are numbered apart)."""
        return [d.pk for d in self.documents] if "/documents/" in path else [s.pk for s in self.sources]

    def other_ids(self, path: str) -> list[int]:
        return [d.pk for d in self.other_documents] if "/documents/" in path else [s.pk for s in self.other_sources]

    def other_secrets(self) -> list[str]:
        return [
            SECRET_WORD,
            self.other.slug,
            self.other.public_key,
            *(d.title for d in self.other_documents),
            *(s.name for s in self.other_sources),
        ]


def _knowledge(tenant: Tenant, label: str) -> tuple[list[Document], list[KnowledgeSource]]:
    site = KnowledgeSource.objects.create(
        tenant=tenant, name=f"{label} site", kind=SourceKind.URL, config={"start_url": f"https://{label}.example"}
    )
    uploads = source_get_or_create(tenant=tenant, name=f"{label} uploads")
    documents = [
        add_document(tenant, f"{label} parking", f"{label} parking is behind the studio.", source=uploads),
        add_document(tenant, f"{label} hours", f"{label} opens at nine.", source=site),
    ]
    return documents, [site, uploads]


def _public_dns(host: str, port: int | None, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
    """Every name resolves to one public documentation address: no lookups leave the test."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        address = ipaddress.ip_address(PUBLIC_ADDRESS)
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (str(address), port or 0))]


@pytest.fixture(autouse=True)
def offline_and_unlimited(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The fake embedder, a fake DNS, and a rate limit no generated request meets (the 429 is
    test_api_throttling's)."""
    monkeypatch.setattr(
        conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, embedding_provider="fake", rerank_provider="")
    )
    monkeypatch.setattr(socket, "getaddrinfo", _public_dns)
    settings.API_REQUESTS_PER_MINUTE = 1_000_000
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def tenants(tenant: Tenant, other_tenant: Tenant) -> Tenants:
    documents, sources = _knowledge(tenant, "alpha")
    other_documents, other_sources = _knowledge(other_tenant, SECRET_WORD)
    revoked = api_key_create(tenant=tenant, name="revoked")
    api_key_revoke(tenant=tenant, api_key_id=revoked.api_key.pk)
    inactive = TenantFactory.create(name="Closed Shop", slug="closed", is_active=False)
    return Tenants(
        tenant=tenant,
        key=api_key_create(tenant=tenant, name="properties").raw_key,
        revoked_key=revoked.raw_key,
        inactive_key=api_key_create(tenant=inactive, name="properties").raw_key,
        documents=documents,
        sources=sources,
        other=other_tenant,
        other_key=api_key_create(tenant=other_tenant, name="properties").raw_key,
        other_documents=other_documents,
        other_sources=other_sources,
    )


def _body(response: Any) -> Any:
    assert response["Content-Type"].startswith("application/json"), (response.status_code, response.content[:300])
    return json.loads(response.content)


def assert_api_error_shape(response: Any) -> None:
    """A 400 maps field names to messages (or is ``{"detail": ...}``), every other 4xx is ``{"detail": ...}``."""
    error = _body(response)
    assert isinstance(error, dict) and error, error
    if response.status_code == 400 and "detail" not in error:
        assert all(isinstance(messages, list | dict) for messages in error.values()), error
    else:
        assert set(error) == {"detail"} and isinstance(error["detail"], str) and error["detail"], error


def assert_clear_answer(response: Any, tenants: Tenants) -> None:
    """No 5xx; a 4xx in the API's error shape; nothing of the other tenant in any answer."""
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400:
        assert_api_error_shape(response)
    text = response.content.decode("utf-8", "replace")
    assert not [secret for secret in tenants.other_secrets() if secret in text], text[:500]
    if response.status_code < 300 and response.content:
        _assert_no_other_ids(_body(response), tenants)


def _assert_no_other_ids(body: Any, tenants: Tenants) -> None:
    """No document (a list's, a passage's) or source of the answer is one of the other tenant's."""
    records = body if isinstance(body, list) else body.get("results", [body])
    other_documents, other_sources = set(tenants.other_ids("/documents/")), set(tenants.other_ids("/sources/"))
    for record in records:
        documents = {record.get("document_id"), record.get("id") if "chunk_count" in record else None}
        sources = {record.get("source"), record.get("id") if "kind" in record else None}
        assert not (documents & other_documents or sources & other_sources), record


def assert_other_tenant_untouched(tenants: Tenants) -> None:
    assert Document.objects.filter(tenant=tenants.other).count() == len(tenants.other_documents)
    assert KnowledgeSource.objects.filter(tenant=tenants.other).count() == len(tenants.other_sources)
    site = KnowledgeSource.objects.get(pk=tenants.other_sources[0].pk)
    assert site.status == tenants.other_sources[0].status and site.last_synced_at is None


def _request(method: str, path: str, *, headers: dict[str, str]) -> Any:
    return Client().generic(method, path, headers=headers)


# --- Authorization ------------------------------------------------------------------------------


def _authorizations(tenants: Tenants) -> st.SearchStrategy[tuple[str | None, Tenant | None]]:
    """An Authorization header (or none) and the tenant it authenticates as (None: it must not)."""
    valid = st.sampled_from(
        [
            (f"Bearer {tenants.key}", tenants.tenant),
            (f"bearer   {tenants.key}  ", tenants.tenant),
            (f"Bearer {tenants.other_key}", tenants.other),
        ]
    )
    keys = [tenants.key, tenants.revoked_key, tenants.inactive_key]
    altered = st.builds(
        lambda key, change: change(key),
        st.sampled_from(keys),
        st.sampled_from(
            [
                lambda key: key + "x",
                lambda key: key[:-1],
                str.upper,
                lambda key: key.replace("_", "\x00", 1),
                lambda key: key.replace("sai_", "sai__"),
                lambda key: key[:13] + "\xff" + key[14:],
            ]
        ),
    )
    refused = st.one_of(
        st.sampled_from(
            [
                f"Bearer {tenants.revoked_key}",
                f"Bearer {tenants.inactive_key}",
                "Bearer",
                "Bearer ",
                "Basic Zm9vOmJhcg==",
            ]
        ),
        st.builds(lambda key: f"Bearer {key}", altered),
        st.builds(lambda key: f"Bearer {key}", HEADER_TEXT.filter(str.strip)),
        st.builds(lambda key: f"Token {key}", st.sampled_from(keys)),
        st.builds(lambda key: tenants.key + key, HEADER_TEXT),  # no scheme: the key alone
        HEADER_TEXT,
    )
    return valid | st.tuples(refused, st.none()) | st.just((None, None))


def _path(template: str, pk: int) -> str:
    return template.format(id=pk)


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_any_authorization_is_refused_unless_it_is_a_live_key_which_sees_its_own_tenant_only(
    method: str, path: str, tenants: Tenants, caplog: pytest.LogCaptureFixture
) -> None:
    @given(authorization=_authorizations(tenants), pk=st.sampled_from(tenants.own_ids(path)))
    @settings(PROPERTY_SETTINGS, max_examples=30)
    def any_authorization(authorization: tuple[str | None, Tenant | None], pk: int) -> None:
        caplog.clear()
        header, authenticates_as = authorization
        headers = {} if header is None else {"authorization": header}
        # when any Authorization header comes with a request for one of this tenant's objects
        response = _request(method, _path(path, pk), headers=headers)
        # then only a live key gets past authentication, and the other tenant's key finds nothing of this one's
        assert response.status_code < 500, response.content[:500]
        if authenticates_as is None:
            assert response.status_code == 401, response.content[:300]
            assert response["WWW-Authenticate"] == 'Bearer realm="api"'
            assert_api_error_shape(response)
        elif authenticates_as == tenants.other:
            assert response.status_code in ({404} if "{id}" in path else {200, 400, 415}), response.content[:300]
            text = response.content.decode()
            assert tenants.tenant.slug not in text and not any(d.title in text for d in tenants.documents), text
        else:
            assert_clear_answer(response, tenants)
        assert_no_traceback_logged(caplog)

    any_authorization()
    assert_other_tenant_untouched(tenants)


# --- other headers ------------------------------------------------------------------------------


def _headers(tenants: Tenants) -> st.SearchStrategy[dict[str, str]]:
    """Host, Accept and the headers a proxy adds, each one usual or anything a server passes on."""

    def either(*usual: str) -> st.SearchStrategy[str]:
        return st.one_of(st.sampled_from(usual), HEADER_TEXT)

    return st.fixed_dictionaries(
        {"authorization": st.just(f"Bearer {tenants.key}")},
        optional={
            "host": either("testserver", "testserver:99999", "evil.example", "[::1", "a b"),
            "accept": either("application/json", "*/*", "application/xml", "text/html", "application/json; indent=x"),
            "accept-language": either("de", "*", "x" * 300),
            "x-forwarded-for": either("203.0.113.9", "::1, 10.0.0.1", ""),
            "x-forwarded-proto": either("https", "http"),
            "content-type": either("application/json", "multipart/form-data"),
        },
    )


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p in OPERATIONS if m in {"GET", "DELETE"}])
def test_any_headers_are_answered_or_refused_in_the_apis_error_shape(
    method: str, path: str, tenants: Tenants, caplog: pytest.LogCaptureFixture
) -> None:
    @given(headers=_headers(tenants), pk=st.sampled_from(tenants.own_ids(path)))
    @settings(PROPERTY_SETTINGS, max_examples=30)
    def any_headers(headers: dict[str, str], pk: int) -> None:
        caplog.clear()
        response = _request(method, _path(path, pk), headers=headers)
        assert response.status_code < 500, response.content[:500]
        if response.status_code == 204:  # this tenant's document, deleted
            assert method == "DELETE"
        elif response["Content-Type"].startswith("application/json"):
            assert_clear_answer(response, tenants)
        else:  # the browsable API, for a client that asks for HTML
            assert response.status_code in {200, 404} and "text/html" in headers.get("accept", ""), response.content
        assert_no_traceback_logged(caplog)

    any_headers()
    assert_other_tenant_untouched(tenants)


METHODS = st.one_of(
    st.sampled_from(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]),
    st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ-_"), min_size=1, max_size=10),
)


@pytest.mark.parametrize("path", sorted({path for _, path in OPERATIONS}))
def test_any_method_is_answered_or_refused_in_the_apis_error_shape(
    path: str, tenants: Tenants, caplog: pytest.LogCaptureFixture
) -> None:
    @given(method=METHODS, pk=st.sampled_from(tenants.other_ids(path)), authorized=st.booleans())
    @settings(PROPERTY_SETTINGS, max_examples=20)
    def any_method(method: str, pk: int, authorized: bool) -> None:
        caplog.clear()
        # when any method asks for one of the other tenant's objects, with this tenant's key or none
        headers = {"authorization": f"Bearer {tenants.key}"} if authorized else {}
        response = _request(method, _path(path, pk), headers=headers)
        # then it is refused, or answered (OPTIONS, a search) with nothing of the other tenant's
        if method != "HEAD" and response.content:
            assert_clear_answer(response, tenants)
        assert response.status_code < 500 and (authorized or response.status_code == 401), response.content[:300]
        assert_no_traceback_logged(caplog)

    any_method()
    assert_other_tenant_untouched(tenants)


# --- path ids and query strings -----------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p in OPERATIONS if "{id}" in p])
def test_any_id_in_the_path_is_this_tenants_object_or_not_found(
    method: str, path: str, tenants: Tenants, caplog: pytest.LogCaptureFixture
) -> None:
    ids = st.one_of(
        st.sampled_from(tenants.other_ids(path)),
        st.integers(min_value=0, max_value=2**31),
        st.integers(min_value=2**31),  # over the id columns, and over every database integer
        st.sampled_from([0, 2**63 - 1, 2**63, 10**40]),
    )

    @given(pk=ids)
    @settings(PROPERTY_SETTINGS, max_examples=30)
    def any_id(pk: int) -> None:
        caplog.clear()
        response = _request(method, _path(path, pk), headers={"authorization": f"Bearer {tenants.key}"})
        assert_clear_answer(response, tenants)
        if pk in tenants.other_ids(path):
            assert response.status_code == 404, response.content[:300]
        assert_no_traceback_logged(caplog)

    any_id()
    assert_other_tenant_untouched(tenants)


def _percent_encoded(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize("path", ["/api/v1/tenant/", "/api/v1/knowledge/documents/"])
def test_any_query_string_lists_this_tenants_documents_or_is_refused(
    path: str, tenants: Tenants, caplog: pytest.LogCaptureFixture
) -> None:
    def either(*real: Any) -> st.SearchStrategy[str]:
        return st.one_of(st.sampled_from([str(value) for value in real]), TEXT)

    pairs = st.lists(
        st.one_of(
            st.tuples(
                st.just("source"),
                either(*tenants.other_ids("/sources/"), *tenants.own_ids("/sources/"), 2**63, -1, "1.0"),
            ),
            st.tuples(st.just("status"), either("ready", "pending", "failed", "READY")),
            st.tuples(st.just("page"), either(1, 2, 0, 10**30, "2.0", "1e3")),
            st.tuples(TEXT, TEXT),
        ),
        max_size=4,
    )

    @given(pairs=pairs)
    @settings(PROPERTY_SETTINGS, max_examples=60)
    def any_query(pairs: list[tuple[str, str]]) -> None:
        caplog.clear()
        query = "&".join(f"{_percent_encoded(name)}={_percent_encoded(value)}" for name, value in pairs)
        response = _request("GET", f"{path}?{query}", headers={"authorization": f"Bearer {tenants.key}"})
        assert_clear_answer(response, tenants)
        assert_no_traceback_logged(caplog)

    any_query()


# --- bodies -------------------------------------------------------------------------------------


def _mostly(*usual: Any) -> st.SearchStrategy[Any]:
    """One of ``usual`` three times in four, JSON of any shape otherwise."""
    return st.integers(0, 3).flatmap(lambda n: JSON if n == 3 else st.sampled_from(usual))


# Each operation's own fields, the first required: usual values (some refused, some the other
# tenant's words) that mostly get the body past the serializer to the service, or anything.
SHAPED_BODIES = {
    "/api/v1/knowledge/search/": st.fixed_dictionaries(
        {"query": _mostly(SECRET_WORD, f"{SECRET_WORD} parking", "parking hours", "opens", " ", "x" * 2001)},
        optional={"k": _mostly(1, 3, 50, 5.0, 51, "5", True), "mode": _mostly("hybrid", "bm25", "dense", "HYBRID")},
    ),
    "/api/v1/knowledge/sources/": st.fixed_dictionaries(
        {
            "name": _mostly("new site", "help centre", "alpha site", " "),
            "start_url": _mostly(
                "https://example.com/help", "https://help.example.org", "http://127.0.0.1/", "ftp://x"
            ),
        },
        optional={
            "sitemap_url": _mostly("", "https://example.com/sitemap.xml"),
            "path_prefix": _mostly("/help", ""),
            "max_pages": _mostly(1, 50, 0, 2**63),
            "max_depth": _mostly(0, 3, 99),
            "sync_interval_minutes": _mostly(0, 60, -5),
            "sync_now": _mostly(False, True, "false"),
        },
    ),
    "/api/v1/knowledge/documents/": st.fixed_dictionaries(
        {}, optional={"files": JSON, "language": _mostly("en", "de", "pt-BR", "xx", "")}
    ),
}


@pytest.mark.parametrize("path", BODY_OPERATIONS)
def test_any_json_body_is_answered_or_refused_with_a_clear_error(
    path: str, tenants: Tenants, caplog: pytest.LogCaptureFixture
) -> None:
    @given(body=st.one_of(SHAPED_BODIES[path], SHAPED_BODIES[path], JSON), ascii_only=st.booleans(), form=st.booleans())
    @settings(PROPERTY_SETTINGS, max_examples=60)
    def any_json(body: Any, ascii_only: bool, form: bool) -> None:
        caplog.clear()
        headers = {"authorization": f"Bearer {tenants.key}"}
        if form and isinstance(body, dict):
            # when the body is a url-encoded form of the same fields
            data = {name: json.dumps(value) if not isinstance(value, str) else value for name, value in body.items()}
            encoded = "&".join(f"{_percent_encoded(name)}={_percent_encoded(value)}" for name, value in data.items())
            response = Client().post(path, encoded, content_type="application/x-www-form-urlencoded", headers=headers)
        else:
            # when the body is JSON of any shape, its odd characters escaped (lone surrogates) or not
            raw = json.dumps(body, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
            response = Client().post(path, raw, content_type="application/json", headers=headers)
        # then
        assert_clear_answer(response, tenants)
        assert_no_traceback_logged(caplog)

    any_json()
    assert_other_tenant_untouched(tenants)


@pytest.mark.parametrize("path", BODY_OPERATIONS)
def test_any_bytes_in_any_content_type_are_refused_with_a_clear_error(
    path: str, tenants: Tenants, caplog: pytest.LogCaptureFixture
) -> None:
    accepts = st.one_of(
        st.sampled_from(["application/json", "*/*", "application/xml", "text/html;q=0", ""]), HEADER_TEXT
    )

    @given(raw=NOT_JSON_BODIES, content_type=CONTENT_TYPES | HEADER_TEXT, accept=accepts)
    @settings(PROPERTY_SETTINGS, max_examples=40)
    def any_bytes(raw: bytes, content_type: str, accept: str) -> None:
        caplog.clear()
        headers = {"authorization": f"Bearer {tenants.key}", "accept": accept}
        response = Client().post(path, raw, content_type=content_type, headers=headers)
        assert response.status_code < 500, response.content[:500]
        if response["Content-Type"].startswith("application/json"):
            assert_clear_answer(response, tenants)
        else:  # only for a client asking for anything but JSON (the browsable API's HTML)
            assert response.status_code in {200, 400, 404, 405, 406, 413, 415}, response.content[:300]
        assert_no_traceback_logged(caplog)

    any_bytes()


# --- multipart uploads --------------------------------------------------------------------------

# Names Django's test client can send (".." and the like are MULTIPART_BODIES', written by hand).
FILE_NAMES = st.one_of(
    st.sampled_from(["faq.csv", "notes.md", "page.html", "a.txt", "corpus.jsonl", "x.pdf", "a" * 300]),
    TEXT.map(lambda name: name.encode("utf-8", "replace").decode()),
).filter(lambda name: os.path.basename(name) not in {"", ".", ".."})


def _files(tenants: Tenants) -> st.SearchStrategy[SimpleUploadedFile]:
    contents = st.one_of(
        st.binary(max_size=200),
        st.builds(lambda text: text.encode("utf-8", "surrogatepass"), TEXT),
        st.just(faq_csv([("Where is the parking?", "Behind the studio.")])),
        st.just(b'{"_id": "1", "title": "t", "text": "x"}\n{"_id": 1}\n[]\n'),
        st.just(b"%PDF-1.4\n%\xff\xff\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"),
    )
    return st.builds(
        SimpleUploadedFile,
        FILE_NAMES,
        contents,
        st.sampled_from(["text/plain", "application/octet-stream", "text/csv", "", "application/pdf"]),
    )


def test_any_multipart_upload_is_stored_for_this_tenant_or_refused(
    tenants: Tenants, caplog: pytest.LogCaptureFixture
) -> None:
    text = TEXT.map(lambda t: t.replace("\x00", ""))  # the test client cannot send a NUL in a field
    files = st.lists(_files(tenants), min_size=1, max_size=3)
    # mostly files where they belong, so that their contents meet the parsers; else parts of any name
    upload = st.fixed_dictionaries(
        {"files": files}, optional={"language": st.sampled_from(["en", "de", "pt-BR", "xx", ""]) | text}
    )
    fields = upload | st.dictionaries(st.sampled_from(["files", "language", "file"]) | text, files | text, max_size=3)

    @given(data=fields)
    @settings(PROPERTY_SETTINGS, max_examples=50)
    def any_upload(data: dict[str, Any]) -> None:
        caplog.clear()
        # when a multipart body of files and fields of any name and content is uploaded
        headers = {"authorization": f"Bearer {tenants.key}"}
        response = Client().post("/api/v1/knowledge/documents/", data, headers=headers)
        # then it is stored for this tenant, or refused whole, in the API's error shape
        assert_clear_answer(response, tenants)
        if response.status_code == 202:
            stored = {d["id"] for f in response.json()["files"] for d in f["documents"]}
            assert Document.objects.filter(pk__in=stored).exclude(tenant=tenants.tenant).count() == 0
        assert_no_traceback_logged(caplog)

    any_upload()
    assert_other_tenant_untouched(tenants)


MULTIPART_BODIES = st.sampled_from(
    [
        # a part whose headers are not UTF-8, one with a NUL in its name, one that never ends
        b'--x\r\nContent-Disposition: form-data; name="files"; filename="caf\xe9.md"\r\n\r\nhi\r\n--x--\r\n',
        b'--x\r\nContent-Disposition: form-data; name="files"; filename="a\x00.md"\r\n\r\nhi\r\n--x--\r\n',
        b'--x\r\nContent-Disposition: form-data; name="files"; filename="a.md"\r\n\r\nhi',
        b"--x\r\nContent-Disposition: form-data; name=\"files\"; filename*=UTF-8''%ff%fe.md\r\n\r\nhi\r\n--x--\r\n",
        b"--x\r\nContent-Disposition: form-data; name=\"files\"; filename*=bogus''a.md\r\n\r\nhi\r\n--x--\r\n",
        b'--x\r\nContent-Disposition: form-data; name="language"\r\n\r\n\x00\r\n--x--\r\n',
        b'--x\r\nContent-Disposition: form-data; name="files"\r\n\r\n' + b"a" * 3_000_000 + b"\r\n--x--\r\n",
        b"--x\r\n\r\n--x--\r\n",
        b"--x--\r\n",
    ]
)


def test_any_malformed_multipart_body_is_refused_with_a_clear_error(
    tenants: Tenants, caplog: pytest.LogCaptureFixture
) -> None:
    @given(
        raw=MULTIPART_BODIES | st.binary(max_size=200).map(lambda b: b"--x\r\n" + b),
        content_type=st.sampled_from(
            ["multipart/form-data; boundary=x", "multipart/form-data", "multipart/form-data; boundary="]
        ),
    )
    @settings(PROPERTY_SETTINGS, max_examples=40)
    def any_multipart(raw: bytes, content_type: str) -> None:
        caplog.clear()
        headers = {"authorization": f"Bearer {tenants.key}"}
        response = Client().post("/api/v1/knowledge/documents/", raw, content_type=content_type, headers=headers)
        assert_clear_answer(response, tenants)
        assert_no_traceback_logged(caplog)

    any_multipart()
    assert_other_tenant_untouched(tenants)


# --- regressions found by the properties above ---------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/knowledge/search/", "/api/v1/knowledge/sources/"])
def test_json_nested_deeper_than_the_decoder_goes_is_a_parse_error(path: str, tenant: Tenant) -> None:
    response = api_client(tenant).post(path, b"[" * 100_000, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": JSON_TOO_DEEP}


def test_a_host_the_server_does_not_serve_gets_the_apis_json_error(tenant: Tenant) -> None:
    # given a Host header not in ALLOWED_HOSTS: Django refuses it before any view, with handler400
    response = api_client(tenant).get("/api/v1/tenant/", headers={"host": "evil.example"})
    assert response.status_code == 400
    assert response.json() == {"detail": GENERIC}
