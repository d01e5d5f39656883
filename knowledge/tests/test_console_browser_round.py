"""A tenant owner's whole round of the knowledge console, in a real browser (Debian chromium via
Playwright) against a real daphne indexing with the local model: one upload of an article, a CSV FAQ
and a binary file, each file's outcome, the documents with their chunks, a deletion, and the test
retrieval box on an exact error code, by keyboard and with every field labelled; and what the staff
of another tenant see of it: nothing."""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path

import pytest
from playwright.sync_api import FloatRect, Locator, Page, expect

from knowledge.console_search import score_name
from knowledge.console_views import CHUNK_GONE, NO_FILE_READ
from knowledge.models import Chunk, Document
from knowledge.parsed import MESSAGES, ErrorCode
from knowledge.tests.console_browser import console_member, logged_in_page, run_test_retrieval
from knowledge.tests.factories import add_document
from knowledge.types import Passage
from supportai.bidi import isolate
from supportai.models import Role
from supportai.tests.factories import TenantFactory

# The first upload loads the embedding model in the server, on two cores that other tests share.
TIMEOUT = 120_000

ERROR_CODE = "PAY-4711"
ARTICLE = f"""# Payment errors

## Card declined

If checkout shows error {ERROR_CODE}, your bank refused the card. Call your bank or pay with another card.

## Refunds

Refunds reach your account within five working days.
"""
# Rows about the neighbouring codes: dense search finds them as close to the query as the article.
FAQ = """question,answer,url
What does error PAY-4712 mean?,The payment page timed out; start the payment again.,https://alpha.example/help/pay-4712
What does error PAY-4713 mean?,The card has expired; pay with a card that is still valid.,
Is there wifi?,Yes; the password is at reception.,
"""
# A picture saved under a Markdown name.
JUNK = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8

# Every field that assistive technology cannot name: no <label>, aria-label or aria-labelledby.
UNLABELLED_FIELDS = """fields => fields
    .filter(field => !field.labels.length && !field.ariaLabel && !field.getAttribute("aria-labelledby"))
    .map(field => field.outerHTML)"""


def unlabelled_fields(page: Page) -> list[str]:
    return page.locator("input:not([type=hidden]), select, textarea").evaluate_all(UNLABELLED_FIELDS)


def focused_text(page: Page) -> str:
    return page.evaluate("document.activeElement.textContent")


def assert_upload_form_reads_top_down(page: Page) -> None:
    """Each field of the upload form under its label, its hint (read with it) under the field, each
    starting at the form's left edge rather than wherever the line before them ended."""
    files = page.get_by_label("Markdown, text, HTML")
    language = page.get_by_label("Language of files that declare none")
    expect(files).to_have_accessible_description(re.compile(r"^Up to \d+ files at a time"))
    expect(language).to_have_accessible_description(re.compile(r"^A tag such as en, de or pt-BR"))
    form = page.locator("form").filter(has=files)
    left = box(form)["x"]
    parts = [
        form.get_by_text("Markdown, text, HTML"),
        files,
        page.get_by_test_id("upload-limit"),
        form.get_by_text("Language of files that declare none"),
        language,
        form.get_by_text("A tag such as en"),
        form.get_by_role("button", name="Upload"),
    ]
    boxes = [box(part) for part in parts]
    assert all(abs(each["x"] - left) < 1 for each in boxes), boxes
    assert all(above["y"] + above["height"] <= below["y"] for above, below in pairwise(boxes)), boxes


def box(locator: Locator) -> FloatRect:
    rect = locator.bounding_box()
    assert rect is not None
    return rect


def passage_meta(page: Page, position: int) -> str:
    """The line under the test-retrieval passage at ``position`` (1-based): its score, ranks and ids."""
    meta = page.get_by_test_id("passages").locator("li").nth(position - 1).locator(".meta")
    return " ".join(meta.inner_text().split())


@pytest.mark.browser
@pytest.mark.slow
def test_owner_uploads_inspects_deletes_and_tests_retrieval_by_keyboard(daphne_server: str, tmp_path: Path) -> None:
    # given an owner, and an article, a CSV FAQ and a picture named like an article on disk
    tenant = TenantFactory.create(name="Alpha Clinic", slug="alpha")
    console_member(tenant, "olive", Role.OWNER)
    (tmp_path / "payments.md").write_text(ARTICLE)
    (tmp_path / "faq.csv").write_text(FAQ)
    (tmp_path / "price-list.md").write_bytes(JUNK)
    files = [str(tmp_path / name) for name in ("payments.md", "faq.csv", "price-list.md")]
    with logged_in_page(daphne_server, "olive") as page:
        page.set_default_timeout(TIMEOUT)
        page.goto(f"{daphne_server}/console/knowledge/")
        assert unlabelled_fields(page) == []
        assert_upload_form_reads_top_down(page)
        # when they choose the three files and send them with the keyboard alone
        page.get_by_label("Markdown, text, HTML").set_input_files(files)
        page.get_by_label("Language of files that declare none").press("Tab")
        assert focused_text(page) == "Upload"
        page.keyboard.press("Enter")
        # then each file says what became of it: the picture is refused, announced as an alert
        statuses = page.get_by_role("status")
        statuses.filter(has_text=f"{isolate('payments.md')}: {isolate('Payment errors')}: created").wait_for()
        faq_titles = ("What does error PAY-4712 mean?", "What does error PAY-4713 mean?", "Is there wifi?")
        faq_created = ", ".join(f"{isolate(title)}: created" for title in faq_titles)
        assert statuses.filter(has_text=f"{isolate('faq.csv')}: {faq_created}").count() == 1
        refused = f"{isolate('price-list.md')}: {MESSAGES[ErrorCode.BINARY]}"
        assert page.get_by_role("alert").all_inner_texts() == [refused]
        # and the four documents are listed ready, each with its chunks counted, the picture not at all
        rows = page.get_by_test_id("documents").locator("tbody tr")
        assert rows.count() == 4 and "price-list" not in page.get_by_test_id("documents").inner_text()
        for row in rows.all():
            cells = row.get_by_role("cell").all_inner_texts()
            assert cells[3] == "Ready" and int(cells[4]) >= 1 and cells[6] == "", cells
        assert unlabelled_fields(page) == []

        # when they open the article
        page.get_by_role("link", name="Payment errors", exact=True).click()
        # then its chunks show its text, each with its chunk id
        document_id = int(re.findall(r"/documents/(\d+)/", page.url)[0])
        parent = page.locator("section.chunk").filter(has_text=ERROR_CODE)
        parent_id = int(str(parent.get_attribute("id")).removeprefix("chunk-"))
        assert f"chunk {parent_id}" in parent.inner_text() and "Refunds reach your account" in parent.inner_text()
        assert unlabelled_fields(page) == []

        # when they delete the wifi answer, confirming
        page.get_by_role("link", name="Knowledge", exact=True).click()
        page.get_by_role("link", name="Delete Is there wifi?").click()
        page.get_by_role("button", name="Delete Is there wifi?").click()
        # then it is gone, the others stay
        page.get_by_role("status").filter(has_text=f"Deleted {isolate('Is there wifi?')}.").wait_for()
        assert page.get_by_test_id("documents").locator("tbody tr").count() == 3

        # when they test retrieval with the error code, by keyboard
        page.get_by_role("link", name="Test retrieval").click()
        page.get_by_label("Query").fill(ERROR_CODE)
        page.get_by_label("Mode").select_option("hybrid")
        page.get_by_label("Query").press("Enter")
        # then the article's passage ranks first, found first by keywords, with both ranks, its
        # fused score, and its document and chunk ids
        page.get_by_test_id("passages").wait_for()
        assert page.get_by_test_id("passages").locator("h3").first.inner_text() == "[1] Payment errors"
        first = passage_meta(page, 1)
        assert re.fullmatch(r"fused score -?\d+\.\d{4} · bm25 rank 1 · dense rank \d+ · .*", first), first
        assert f"document {document_id}" in first and f"chunk {parent_id}" in first
        assert "Is there wifi?" not in page.get_by_test_id("passages").inner_text()
        assert unlabelled_fields(page) == []

        # when a link leaves the query blank, then the box says what is missing, as an alert that
        # describes the field
        page.goto(f"{daphne_server}/console/knowledge/search/?q=+&mode=hybrid&k=5")
        assert page.get_by_role("alert").filter(has_text="This field is required.").count() == 1
        expect(page.get_by_label("Query")).to_have_accessible_description("This field is required.")


@pytest.mark.parametrize(
    ("ranks", "name"),
    [
        ({"bm25": 1, "dense": None}, "fused score"),
        ({"bm25": 2}, "bm25 score"),
        ({"dense": 1}, "dense score"),
        ({"bm25": None, "dense": 3, "rerank": 1}, "rerank score"),
    ],
)
def test_a_passages_score_is_named_for_the_retrievers_that_ranked_it(ranks: dict[str, int | None], name: str) -> None:
    passage = Passage(index=1, document_id=7, chunk_id=8, title="Parking", url="", text="Free.", score=0.5, ranks=ranks)
    assert score_name(passage) == name


@pytest.mark.browser
@pytest.mark.slow
def test_the_staff_of_another_tenant_see_nothing_of_its_knowledge(daphne_server: str, tmp_path: Path) -> None:
    # given Alpha's article with the error code, uploaded by its owner (so that the server's model
    # embeds it, as dense search reads it), and an agent of Bravo, which has a document of its own
    alpha = TenantFactory.create(name="Alpha Clinic", slug="alpha")
    bravo = TenantFactory.create(name="Bravo Spa", slug="bravo")
    console_member(alpha, "olive", Role.OWNER)
    console_member(bravo, "bruno", Role.AGENT)
    own = add_document(bravo, "Opening hours", "We open at nine every day.")
    (tmp_path / "payments.md").write_text(ARTICLE)
    with logged_in_page(daphne_server, "olive") as page:
        page.set_default_timeout(TIMEOUT)
        page.goto(f"{daphne_server}/console/knowledge/")
        page.get_by_label("Markdown, text, HTML").set_input_files(str(tmp_path / "payments.md"))
        page.get_by_role("button", name="Upload").click()
        page.get_by_role("status").filter(has_text=f"{isolate('payments.md')}: {isolate('Payment errors')}").wait_for()
    article = Document.objects.for_tenant(alpha).get()
    alpha_chunk = Chunk.objects.filter(document=article).values_list("pk", flat=True).first()
    base = f"{daphne_server}/console/knowledge"
    with logged_in_page(daphne_server, "bruno") as page:
        page.set_default_timeout(TIMEOUT)
        # when they open the knowledge pages
        page.goto(f"{base}/")
        # then only Bravo's source and document are listed
        assert "Payment errors" not in page.content() and "Opening hours" in page.content()
        # and Alpha's document, its deletion and its chunk are not found, as if they did not exist
        for address in (f"{base}/documents/{article.pk}/", f"{base}/documents/{article.pk}/delete/"):
            response = page.goto(address)
            assert response is not None and response.status == 404, address
        page.goto(f"{base}/documents/{own.pk}/?chunk={alpha_chunk}")
        assert page.url.startswith(f"{base}/documents/{own.pk}/")
        assert page.get_by_role("status").filter(has_text=CHUNK_GONE).count() == 1
        # and test retrieval finds Bravo's own words, and no passage of Alpha's, in any mode
        for mode in ("bm25", "dense", "hybrid"):
            run_test_retrieval(page, daphne_server, f"{ERROR_CODE} card declined, when do you open?", mode=mode)
            page.get_by_test_id("passages").or_(page.get_by_text("No passages matched.")).wait_for()
            found = page.locator("main").inner_text()
            assert "Payment errors" not in found and ("Opening hours" in found or mode == "dense"), mode


@pytest.mark.browser
@pytest.mark.slow
def test_an_upload_source_whose_last_upload_was_all_refused_says_why_it_failed(
    daphne_server: str, tmp_path: Path
) -> None:
    # given an owner and a picture named like an article
    tenant = TenantFactory.create(name="Alpha Clinic", slug="alpha")
    console_member(tenant, "olive", Role.OWNER)
    (tmp_path / "price-list.md").write_bytes(JUNK)
    with logged_in_page(daphne_server, "olive") as page:
        page.goto(f"{daphne_server}/console/knowledge/")
        # when they upload it alone, and come back to the page once its refusal has gone
        page.get_by_label("Markdown, text, HTML").set_input_files(str(tmp_path / "price-list.md"))
        page.get_by_role("button", name="Upload").click()
        page.get_by_role("alert").wait_for()
        page.reload()
        # then the source they uploaded to says it failed, and why
        assert page.get_by_role("alert").count() == 0
        cells = page.get_by_test_id("sources").locator("tbody tr").get_by_role("cell").all_inner_texts()
        assert cells[:3] == ["Uploads", "Upload", "Failed"] and cells[6] == NO_FILE_READ, cells
