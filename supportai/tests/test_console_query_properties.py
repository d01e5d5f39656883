"""Property: any query string on the console's pages is a 200 or a 400, never a 500, and shows none
of another tenant's data.

Staff of one tenant open each console page answering GET (every one ``test_url_tenancy.ROUTES``
walks: the lists, day view, inbox, search, and the pages of one conversation, document, handoff,
booking, service or source, filled with the tenant's own objects) with generated query strings: the
pages' parameters and any others, values of any text (NUL, half surrogate pairs as percent-encoded
bytes), numbers of any size, dates of every year. Then the regressions they found, as plain tests.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.contrib.auth.models import User
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from supportai.models import Tenant
from supportai.tests.input_strategies import PROPERTY_SETTINGS, TEXT, assert_no_traceback_logged
from supportai.tests.tenant_objects import World, objects_of
from supportai.tests.test_url_tenancy import GET, ROUTES

SECRET_WORD = "zebracorn"  # in the other tenant's data only
CONSOLE_PAGES = [
    name
    for name, route in ROUTES.items()
    if name.split(":")[0].endswith("console") and GET in route.reads + route.writes
]
FILTER_NAMES = ["status", "channel", "rating", "date_from", "date_to", "page", "service", "q", "refund_due"]
FILTER_NAMES += ["source", "tickets", "date", "mode", "k", "chunk"]
EDGE_VALUES = ["0001-01-01", "9999-12-31", "2026-02-30", "-1", "0", "1e9", "99999999999999999999", "on", "hybrid"]
QUERY_VALUES = st.one_of(st.sampled_from(EDGE_VALUES), TEXT, st.integers().map(str), st.dates().map(str))
# Mostly the pages' own filters, each once or repeated, sometimes names they do not know.
QUERIES = st.lists(st.tuples(st.sampled_from(FILTER_NAMES), QUERY_VALUES), max_size=5) | st.lists(
    st.tuples(TEXT, QUERY_VALUES), max_size=2
)


def _encoded(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"))


def _query_string(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{_encoded(name)}={_encoded(value)}" for name, value in pairs)


@pytest.fixture
def alpha(tenant: Tenant, other_tenant: Tenant) -> World:
    """The objects of ``tenant`` whose pages are opened; the other tenant's name ``SECRET_WORD``."""
    objects_of(other_tenant, SECRET_WORD)
    return objects_of(tenant, "alpha")


@pytest.fixture
def staff(owner: User, alpha: World) -> Client:
    client = Client()
    client.force_login(owner)
    return client


@pytest.mark.slow  # about 3 min in all
@pytest.mark.django_db
@pytest.mark.parametrize("name", CONSOLE_PAGES)
def test_console_pages_answer_any_query_string(
    name: str, staff: Client, alpha: World, caplog: pytest.LogCaptureFixture
) -> None:
    route = ROUTES[name]
    page = route.path(name, {parameter: alpha[kind] for parameter, kind in route.objects.items()})

    @given(pairs=QUERIES)
    @settings(PROPERTY_SETTINGS, max_examples=60)
    def any_query(pairs: list[tuple[str, str]]) -> None:
        caplog.clear()
        response = staff.get(f"{page}?{_query_string(pairs)}")
        assert response.status_code in (200, 400), response.status_code
        assert SECRET_WORD.encode() not in response.content
        assert_no_traceback_logged(caplog)

    any_query()


# --- regressions found by the property above ------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["date_from=0001-01-01", "date_to=9999-12-31"])
def test_a_conversation_date_filter_at_the_ends_of_the_calendar_is_a_form_error(staff: Client, query: str) -> None:
    # the day's bounds in the tenant's zone would fall before year 1 or after 9999 (OverflowError)
    response = staff.get(f"/console/conversations/?{query}")
    assert response.status_code == 200
    assert "Dates must be between" in response.content.decode()
