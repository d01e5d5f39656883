"""The upload form's language field is checked in the browser before the files are sent (Debian
chromium via Playwright, real daphne): a language the server would refuse keeps the chosen files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from knowledge.console_forms import LANGUAGE_PATTERN
from knowledge.languages import clean_language
from knowledge.models import Document
from knowledge.tests.console_browser import console_member, logged_in_page
from supportai.bidi import isolate
from supportai.models import Role
from supportai.tests.factories import TenantFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT = 30_000


@pytest.mark.parametrize(
    "value", ["en", "pt-BR", "de_AT", " German ", "english", "Deutsch", "12", "en-", "e", "zz", "xx-YY", "deu"]
)
def test_the_browser_pattern_accepts_what_the_server_accepts(value: str) -> None:
    try:
        clean_language(value)
    except ValueError:
        accepted = False
    else:
        accepted = True
    assert bool(re.fullmatch(LANGUAGE_PATTERN, value)) == accepted


def test_a_language_the_server_would_refuse_is_caught_before_the_files_are_sent(
    production_daphne_server: str, tmp_path: Path
) -> None:
    # given an owner with a file chosen and a language typed in its own words
    tenant = TenantFactory.create(name="Alpha Clinic", slug="alpha")
    console_member(tenant, "olive", Role.OWNER)
    article = tmp_path / "parken.md"
    article.write_text("# Parken\n\nKostenlose Parkplätze hinter dem Studio.", encoding="utf-8")
    with logged_in_page(production_daphne_server, "olive") as page:
        page.goto(f"{production_daphne_server}/console/knowledge/")
        page.get_by_label("Markdown, text, HTML").set_input_files(str(article))
        language = page.get_by_label("Language of files that declare none")
        language.fill("Deutsch")
        # when
        page.get_by_role("button", name="Upload").click()
        # then nothing was sent (no answer from the server), the field says why, and the file is still chosen
        assert language.evaluate("field => field.validity.patternMismatch") is True
        assert page.get_by_label("Markdown, text, HTML").evaluate("field => field.files.length") == 1
        assert page.get_by_text("Nothing was uploaded").count() == 0
        # when the tag is typed instead
        language.fill("de")
        page.get_by_role("button", name="Upload").click()
        page.get_by_text(f"{isolate('parken.md')}:").wait_for(timeout=TIMEOUT)
    # then the file went in, in German
    assert list(Document.objects.for_tenant(tenant).values_list("title", "language")) == [("Parken", "de")]
