"""A document's page in the console: what indexing made of it (its facts, its parent chunks with their
children), for every member of its tenant and no one else, in a constant number of queries."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from html import escape

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.http import Http404
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pytest_django.fixtures import Settings

from knowledge import selectors
from knowledge.models import Chunk, ChunkLevel, Document, DocumentStatus
from knowledge.sections import PATH_SEPARATOR, SectionIndex
from knowledge.selectors import SETTLING_WINDOW_CHARS, document_page_get, document_text_settling
from knowledge.services import document_delete
from knowledge.source_config import url_source_create
from knowledge.tests.factories import add_document
from supportai.models import Role, Tenant
from supportai.tests.factories import MembershipFactory, UserFactory

DOCUMENTS_PAGE = "/console/knowledge/"
DASH = "\u2013"  # of character spans and page ranges
MaxQueries = Callable[[int], AbstractContextManager[object]]


def _detail(document: Document) -> str:
    return f"/console/knowledge/documents/{document.pk}/"


def _text(content: bytes) -> str:
    """A page's text with its tags stripped and its whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", content.decode()).split())


def _member(tenant: Tenant, role: Role) -> User:
    user = UserFactory.create()
    MembershipFactory.create(user=user, tenant=tenant, role=role)
    return user


def _with_parents(tenant: Tenant, title: str, parents: int) -> Document:
    """A document of ``parents`` parent chunks of two children each, written directly (as indexing
    leaves them, minus the vectors no page reads): ``Parent text n.`` spans 100 characters from 100n."""
    document = add_document(tenant, title, "Placeholder.")
    Chunk.objects.filter(document=document).delete()
    made = Chunk.objects.bulk_create(
        Chunk(
            tenant=tenant,
            document=document,
            level=ChunkLevel.PARENT,
            ordinal=n,
            text=f"Parent text {n}.",
            token_count=5,
            char_start=100 * n,
            char_end=100 * n + 100,
        )
        for n in range(parents)
    )
    Chunk.objects.bulk_create(
        Chunk(
            tenant=tenant,
            document=document,
            parent=parent,
            level=ChunkLevel.CHILD,
            ordinal=2 * parent.ordinal + half,
            text=f"Child text {2 * parent.ordinal + half}.",
            token_count=3,
            char_start=parent.char_start + 50 * half,
            char_end=parent.char_start + 50 * half + 50,
        )
        for parent in made
        for half in (0, 1)
    )
    Document.objects.filter(pk=document.pk).update(chunk_count=2 * parents)
    return document


def _parents(document: Document) -> list[Chunk]:
    return list(Chunk.objects.filter(document=document, level=ChunkLevel.PARENT).order_by("ordinal"))


def test_the_page_shows_what_indexing_made_of_the_document(client: Client, agent: User, tenant: Tenant) -> None:
    # given a website page indexed into parents and children
    website = url_source_create(
        tenant=tenant, name="Help site", config={"start_url": "https://help.example.com/"}, sync_now=False
    )
    text = "\n\n".join(f"Paragraph {n}: free parking behind the studio, every day of the week." for n in range(60))
    document = add_document(
        tenant, "Parking", text, source=website, url="https://help.example.com/parking", language="de"
    )
    parents = _parents(document)
    children = Chunk.objects.filter(document=document, level=ChunkLevel.CHILD).order_by("ordinal")
    assert len(parents) > 1 and children.count() > len(parents)
    client.force_login(agent)
    # when
    response = client.get(_detail(document))
    # then the header has its facts
    body = response.content.decode()
    page = _text(response.content)
    assert response.status_code == 200
    assert f'href="{DOCUMENTS_PAGE}?source={website.pk}"><bdi>Help site</bdi></a>' in body
    assert '<a href="https://help.example.com/parking" rel="noopener">https://help.example.com/parking</a>' in body
    assert "Language de (search configuration german)" in page
    assert f"Content hash {document.content_hash[:12]}" in page and document.content_hash not in page
    assert f"Embedding model {document.embedding_model}" in page
    assert f"Chunks {len(parents)} parents, {children.count()} children" in page
    parent_tokens = sum(p.token_count for p in parents)
    child_tokens = sum(c.token_count for c in children)
    assert f"Tokens {parent_tokens} in parents, {child_tokens} in children" in page
    assert "Status Ready" in page and document.indexed_at is not None
    # and each parent in order, with its tokens, span and its children
    assert [int(pk) for pk in re.findall(r'<section class="chunk" id="chunk-(\d+)"', body)] == [p.pk for p in parents]
    first = parents[0]
    span = f"characters {first.char_start}{DASH}{first.char_end}"
    # (numbered from 1 for people: the stored ordinals start at 0)
    assert first.ordinal == 0 and f"Parent 1 · {first.token_count} tokens · {span}" in page
    child = children.first()
    assert child is not None
    assert f'id="chunk-{child.pk}"' in body
    span = f"characters {child.char_start}{DASH}{child.char_end}"
    assert f"Child {child.ordinal + 1} · {child.token_count} tokens · {span}" in page
    assert "Parent 0 ·" not in page and "Child 0 ·" not in page


def test_a_failed_document_shows_its_stored_error_and_links_only_http_addresses(
    client: Client, agent: User, tenant: Tenant
) -> None:
    # given a document that failed, whose front matter gave a script address
    document = add_document(tenant, "Prices", "Yoga costs 12 euros.")
    Document.objects.filter(pk=document.pk).update(
        status=DocumentStatus.FAILED,
        error="The embedding service timed out; try again.",
        file_name="prices.md",
        url="javascript:alert(document.cookie)",
    )
    client.force_login(agent)
    # when
    response = client.get(_detail(document))
    # then
    page = _text(response.content)
    assert "Status Failed: The embedding service timed out; try again." in page
    assert "File prices.md" in page
    assert 'href="javascript' not in response.content.decode() and "Address javascript:alert" in page


def test_chunk_text_is_escaped_and_long_text_collapsed(client: Client, agent: User, tenant: Tenant) -> None:
    # given a document whose text holds markup and is longer than a preview
    document = add_document(
        tenant, "Widget <b>help</b>", "<script>alert('x')</script> Paste the snippet. " + "More words here. " * 40
    )
    client.force_login(agent)
    # when
    body = client.get(_detail(document)).content.decode()
    # then nothing of it is markup, and the parent's text is behind a <details> a reader opens
    assert "<script>alert" not in body and "<b>help" not in body
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in body and "Widget &lt;b&gt;help&lt;/b&gt;" in body
    assert re.search(r'<details class="long-text">\s*<summary>', body)


def _words(topic: str, count: int) -> str:
    return " ".join(f"{topic}{n % 7} word" for n in range(count)) + "."


# An article under Markdown headings: its first child holds the title and the "##" heading, the
# second and third sit under it (the third opens with "### Refunds"), the last two under both.
SECTIONED = (
    "# Bookings\n\nBook online.\n\n## Cancelling <b>& refunds</b>\n\n"
    + _words("cancel", 60)
    + "\n\n### Refunds\n\n"
    + _words("refund", 60)
    + "\n"
)
CANCELLING = "Cancelling &lt;b&gt;&amp; refunds&lt;/b&gt;"


def _child_sections(body: str) -> dict[int, str]:
    """Each child shown on a page (by chunk id) with the section it says it is in ("" for none)."""
    items = re.findall(r'<li id="chunk-(\d+)">(.*?)</li>', body, flags=re.DOTALL)
    found = {int(pk): re.search(r'<p class="meta section">Section <bdi>(.*?)</bdi></p>', item) for pk, item in items}
    return {pk: match.group(1) if match else "" for pk, match in found.items()}


def test_each_child_shows_the_section_it_was_indexed_in(
    client: Client, agent: User, tenant: Tenant, other_tenant: Tenant, django_assert_max_num_queries: MaxQueries
) -> None:
    # given an article under headings (one of them markup), and another tenant's under the same ids
    document = add_document(tenant, "Bookings", SECTIONED)
    add_document(other_tenant, "Bookings", SECTIONED.replace("Refunds", "Their secret heading"))
    children = Chunk.objects.filter(document=document, level=ChunkLevel.CHILD).order_by("ordinal")
    client.force_login(agent)
    plain = add_document(tenant, "Plain", _words("plain", 200))
    with CaptureQueriesContext(connection) as plain_queries:
        client.get(_detail(plain))
    # when
    with django_assert_max_num_queries(len(plain_queries)):
        body = client.get(_detail(document)).content.decode()
    # then each child says its headings, outermost first, escaped, the title's and its own left out
    assert _child_sections(body) == dict(
        zip(
            [child.pk for child in children],
            ["", CANCELLING, CANCELLING, f"{CANCELLING} &gt; Refunds", f"{CANCELLING} &gt; Refunds"],
            strict=True,
        )
    )
    assert "<b>&" not in body and "Their secret heading" not in body


@pytest.mark.parametrize(
    "since",
    [
        {"status": DocumentStatus.PENDING},  # its text changed: the chunks wait for the re-index
        {"status": DocumentStatus.FAILED},  # the re-index failed: the old chunks stay
        {"index_settings": {"rules": 1}},  # ready, but indexed before children had sections
    ],
)
def test_children_show_no_section_they_were_not_indexed_under(
    client: Client, agent: User, tenant: Tenant, since: dict[str, object]
) -> None:
    # given an indexed article whose text has gained a heading since
    document = add_document(tenant, "Bookings", SECTIONED)
    Document.objects.filter(pk=document.pk).update(content="## Something else\n\n" + SECTIONED, **since)
    client.force_login(agent)
    # when
    body = client.get(_detail(document)).content.decode()
    # then no child is given a section read from the new text
    assert len(_child_sections(body)) == 5 and set(_child_sections(body).values()) == {""}
    assert "Something else" not in body


def test_a_documents_page_reads_only_that_tenants_document_and_not_its_text(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    document = add_document(tenant, "Bookings", SECTIONED)

    shown = document_page_get(tenant=tenant, pk=document.pk)
    assert shown.pk == document.pk and "content" in shown.get_deferred_fields()
    with pytest.raises(Http404):
        document_page_get(tenant=other_tenant, pk=document.pk)


def _manual() -> str:
    """A long manual: 40 chapters, each with a two-line setext section and an ATX subsection."""
    parts = ["# Manual\n\nRead this first.\n"]
    for n in range(40):
        parts.append(f"## Chapter {n}\n\n{_words('chapter', 40)}\n")
        parts.append(f"Setext part {n}\nof two lines\n---\n\n{_words('part', 60)}\n")
        parts.append(f"### Detail {n}\n\n{_words('detail', 80)}\n")
    return "\n".join(parts)


def test_a_page_deep_in_a_long_document_shows_the_sections_its_whole_text_gives_reading_only_its_beginning(
    client: Client, agent: User, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given a manual of more than three pages of parents, and another tenant's under the same ids
    text = _manual()
    document = add_document(tenant, "Manual", text)
    add_document(other_tenant, "Manual", text.replace("Detail", "Their secret"))
    assert Chunk.objects.filter(document=document, level=ChunkLevel.PARENT).count() > 75
    page = Chunk.objects.filter(document=document, parent__ordinal__gte=25, parent__ordinal__lt=50)
    whole = SectionIndex.of(text, title="Manual")
    client.force_login(agent)
    # when
    with CaptureQueriesContext(connection) as queries:
        body = client.get(_detail(document), {"page": 2}).content.decode()
    # then each child of the second page shows the section the whole text gives it
    expected = {child.pk: escape(PATH_SEPARATOR.join(whole.above(child.char_start))) for child in page}
    assert _child_sections(body) == expected
    assert any("Detail" in section for section in expected.values()) and "Their secret" not in body
    # and the text is read once, only a beginning of it: never the whole column, which ends far after
    reads = [query["sql"] for query in queries.captured_queries if '"knowledge_document"."content"' in query["sql"]]
    assert len(reads) == 1 and "SUBSTRING" in reads[0], reads
    assert not re.search(r'(SELECT|,)\s*"knowledge_document"\."content"\s*(,|FROM)', reads[0]), reads[0]
    last = max(child.char_start for child in page)
    assert last + 500 < len(document_text_settling(tenant=tenant, document=document, offset=last)) + 500 < len(text)


# Headings that only a later line settles (a paragraph underlined lines below, one line under an ATX
# heading), blank lines of blanks and carriage returns, and a fence.
UNSETTLED = (
    "Intro line one\nintro line two\n \t\r\n"
    "## Cancelling\r\n\r\n" + "A long paragraph line\n" * 5 + "that turns out to be a heading\n===\n\n"
    "Text under it.\n\n"
    "```\n# not a heading\n\n```\n\n"
    "### Refunds\nNo blank line after this heading\nand a last paragraph\n---\ntail"
)


@pytest.mark.parametrize("window", [SETTLING_WINDOW_CHARS, 8])
def test_the_beginning_read_for_a_page_gives_every_offset_up_to_it_the_sections_of_the_whole_text(
    tenant: Tenant, other_tenant: Tenant, window: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a text whose headings later lines settle, read through windows of either size
    monkeypatch.setattr(selectors, "SETTLING_WINDOW_CHARS", window)
    document = add_document(tenant, "Guide", "Placeholder.")
    Document.objects.filter(pk=document.pk).update(content=UNSETTLED)
    whole = SectionIndex.of(UNSETTLED)
    for offset in range(len(UNSETTLED) + 1):
        # when
        beginning = document_text_settling(tenant=tenant, document=document, offset=offset)
        # then it is a beginning of the text, whose headings above any offset up to there are the text's
        assert UNSETTLED.startswith(beginning)
        sections = SectionIndex.of(beginning)
        assert [sections.above(o) for o in range(offset + 1)] == [whole.above(o) for o in range(offset + 1)]


def test_thousands_of_chunks_are_paged_in_a_constant_number_of_queries(
    client: Client, agent: User, tenant: Tenant, django_assert_max_num_queries: MaxQueries
) -> None:
    # given a small document and one of 2,000 parents (4,000 children)
    small = _with_parents(tenant, "Small", 3)
    large = _with_parents(tenant, "Large", 2000)
    client.force_login(agent)
    # when
    with CaptureQueriesContext(connection) as small_queries:
        assert client.get(_detail(small)).status_code == 200
    with django_assert_max_num_queries(len(small_queries)):
        response = client.get(_detail(large), {"page": 3})
    # then one page of parents is shown, the third, with links to the others
    body = response.content.decode()
    shown = re.findall(r"Parent (\d+) ·", body)
    assert shown == [str(n) for n in range(51, 76)]
    assert "Child 101 ·" in body and "Child 150 ·" in body and "Child 151 ·" not in body
    assert f"Parents 51{DASH}75 of 2000" in _text(response.content)
    assert '<a href="?page=2#chunks">' in body and '<a href="?page=4#chunks">' in body
    # and the chunks are read in three queries: their totals (which the pager's count of parents is
    # taken from), the page's parents and their children
    chunk_queries = [query["sql"] for query in small_queries.captured_queries if '"knowledge_chunk"' in query["sql"]]
    assert len(chunk_queries) == 3, chunk_queries
    # (one of the page's queries reads the beginning of the text its children's sections need: one
    # for any page, not one per child)
    assert len(small_queries) <= 9


def test_a_link_to_a_chunk_opens_the_page_holding_it_with_it_open(
    client: Client, agent: User, tenant: Tenant, django_assert_max_num_queries: MaxQueries
) -> None:
    # given a long document, and a child of its 61st parent (as the test box's passages link them)
    document = _with_parents(tenant, "Large", 100)
    parent = _parents(document)[60]
    child = Chunk.objects.get(parent=parent, ordinal=121)
    client.force_login(agent)
    small = _with_parents(tenant, "Small", 1)
    with CaptureQueriesContext(connection) as plain:
        client.get(_detail(small))
    for target in (parent, child):
        # when
        with django_assert_max_num_queries(len(plain) + 1):
            response = client.get(_detail(document), {"chunk": target.pk})
        # then the third page is shown, with that parent's text and children open
        body = response.content.decode()
        assert re.findall(r"Parent (\d+) ·", body)[0] == "51"
        section = body[body.index(f'id="chunk-{parent.pk}"') :]
        section = section[: section.index("</section>")]
        assert section.count("<details") == len(re.findall(r"<details[^>]* open>", section)) >= 1
        assert f'id="chunk-{child.pk}"' in section
        # and other parents stay closed
        assert len(re.findall(r"<details[^>]* open>", body)) == section.count("<details")


def test_a_link_to_a_chunk_no_longer_there_says_so(
    client: Client, agent: User, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given a passage's chunk that a re-index has since replaced, and a chunk of another tenant
    document = add_document(tenant, "Parking", "Free parking behind the studio.")
    theirs = add_document(other_tenant, "Their secret", "Valet parking only.")
    gone = _parents(document)[0].pk
    Chunk.objects.filter(pk=gone).delete()
    client.force_login(agent)
    for chunk in (gone, _parents(theirs)[0].pk, 2**63 - 1):  # the last: the largest id, none such
        # when
        response = client.get(_detail(document), {"chunk": chunk})
        # then
        assert response.status_code == 200
        assert "That passage is no longer in this document" in _text(response.content)
        assert "Their secret" not in _text(response.content)


def test_a_link_to_a_chunk_of_another_of_the_tenants_documents_leads_to_that_document(
    client: Client, agent: User, tenant: Tenant
) -> None:
    # given two documents of the tenant, and a link to the first with a chunk of the second
    document = add_document(tenant, "Parking", "Free parking behind the studio.")
    other = add_document(tenant, "Hours", "Open nine to seven.")
    chunk = _parents(other)[0].pk
    client.force_login(agent)
    # when
    response = client.get(_detail(document), {"chunk": chunk})
    # then the reader is sent to the passage where it is, not told a re-index replaced it
    assert response.status_code == 302
    assert response["Location"] == f"{_detail(other)}?chunk={chunk}#chunk-{chunk}"
    body = _text(client.get(response["Location"]).content)
    assert "Open nine to seven." in body and "no longer in this document" not in body


@pytest.mark.parametrize("value", ["x", "", "-1", "0", "1e3", "9" * 20, "1" * 5000])
def test_a_link_whose_chunk_is_no_chunk_id_says_so(client: Client, agent: User, tenant: Tenant, value: str) -> None:
    document = add_document(tenant, "Parking", "Free parking behind the studio.")
    client.force_login(agent)
    response = client.get(_detail(document), {"chunk": value})
    body = _text(response.content)
    assert response.status_code == 200 and "Free parking behind the studio." in body
    assert "The link names no chunk" in body and "re-index" not in body


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.AGENT, Role.ANALYST])
def test_every_member_who_sees_the_list_sees_the_page_and_managers_their_delete(
    client: Client, tenant: Tenant, role: Role
) -> None:
    # given
    document = add_document(tenant, "Parking", "Free parking.")
    client.force_login(_member(tenant, role))
    # when
    listing = client.get(DOCUMENTS_PAGE).content.decode()
    response = client.get(_detail(document))
    # then the list links the title to the page, which every role may read
    assert f'<a href="{_detail(document)}"><bdi>Parking</bdi></a>' in listing
    assert response.status_code == 200
    delete = f'href="{_detail(document)}delete/"'
    assert (delete in response.content.decode()) is (role in (Role.OWNER, Role.ADMIN))


def test_the_page_is_for_members_only(client: Client, tenant: Tenant) -> None:
    document = add_document(tenant, "Parking", "Free parking.")
    assert client.get(_detail(document)).status_code == 302  # to the login page
    client.force_login(UserFactory.create())  # a user of no tenant
    assert client.get(_detail(document)).status_code == 403


@pytest.fixture
def production(settings: Settings) -> Settings:
    settings.DEBUG = False  # the console's 404 page is Django's handler404, not shown in DEBUG
    return settings


def test_another_tenants_document_is_the_console_not_found_page(
    production: Settings, client: Client, outsider: User, tenant: Tenant
) -> None:
    # given
    document = add_document(tenant, "Parking", "Secret parking code 4711.")
    client.force_login(outsider)
    # when
    response = client.get(_detail(document), {"chunk": _parents(document)[0].pk})
    # then
    page = _text(response.content)
    assert response.status_code == 404
    assert "No such document." in page and "Parking" not in page and "4711" not in page


def test_a_document_deleted_meanwhile_is_not_found_and_the_page_says_why(
    production: Settings, client: Client, owner: User, tenant: Tenant
) -> None:
    # given a link to a document, which is then deleted
    document = add_document(tenant, "Parking", "Free parking.")
    client.force_login(owner)
    document_delete(tenant=tenant, document=document)
    # when
    response = client.get(_detail(document))
    # then
    assert response.status_code == 404
    assert "No such document. It may have been deleted meanwhile" in _text(response.content)


def test_the_beginning_read_for_a_page_ends_at_the_first_blank_line_and_is_the_tenants_only(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    document = add_document(tenant, "Guide", "Placeholder.")
    Document.objects.filter(pk=document.pk).update(content=UNSETTLED)

    first = "Intro line one\nintro line two\n \t\r\n"
    assert document_text_settling(tenant=tenant, document=document, offset=3) == first
    assert (
        document_text_settling(tenant=tenant, document=document, offset=len(first)) == first + "## Cancelling\r\n\r\n"
    )
    assert document_text_settling(tenant=other_tenant, document=document, offset=3) == ""
