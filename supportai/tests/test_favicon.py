"""The product's icon: every page links it, and ``/favicon.ico``, which browsers ask for whatever the
page says, leads to it instead of filling the log with 404s."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.test import Client

from supportai.favicon import ICON


def test_favicon_ico_redirects_permanently_to_the_icon() -> None:
    response = Client().get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"] == static(ICON)


def test_the_icon_is_a_static_svg() -> None:
    path = finders.find(ICON)

    assert path is not None
    with open(path, encoding="utf-8") as icon:
        assert icon.read().lstrip().startswith("<svg")


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["/console/login/", "/demo/"])
def test_pages_link_the_icon(page: str) -> None:
    response = Client().get(page)  # the demo page answers 503 until seed_demo has run, with the page

    assert f'<link rel="icon" href="{static(ICON)}" type="image/svg+xml">' in response.content.decode()


def test_the_bad_request_page_links_the_icon() -> None:
    page = render_to_string("bad_request.html", {"message": "m", "back": "/"})

    assert f'<link rel="icon" href="{static(ICON)}" type="image/svg+xml">' in page
