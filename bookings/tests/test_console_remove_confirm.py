"""Removing opening hours or a closed date asks first, without JavaScript: the catalogue's Remove… link
opens a page naming exactly what goes, with a Remove button (a POST) and a Cancel link back; only the
POST removes it. Another tenant's hours or date is a 404 on the page and on the POST."""

from __future__ import annotations

from datetime import date, time

import pytest
from django.test import Client

from bookings.models import AvailabilityRule, BlackoutDate, Service
from bookings.tests.conftest import logged_in
from bookings.tests.factories import RuleFactory
from supportai.models import Tenant

pytestmark = pytest.mark.django_db

CATALOG = "/console/bookings/services/"


@pytest.fixture
def massage_saturday(tenant: Tenant, service: Service) -> AvailabilityRule:
    rule: AvailabilityRule = RuleFactory.create(
        tenant=tenant, service=service, weekday=5, start_time=time(10), end_time=time(12), capacity=2
    )
    return rule


@pytest.fixture
def christmas(tenant: Tenant) -> BlackoutDate:
    return BlackoutDate.objects.create(tenant=tenant, date=date(2030, 12, 25), reason="Christmas")


def _rule_url(rule: AvailabilityRule) -> str:
    return f"{CATALOG}rules/{rule.pk}/delete/"


def _blackout_url(blackout: BlackoutDate) -> str:
    return f"{CATALOG}blackouts/{blackout.pk}/delete/"


def test_the_catalogue_links_each_remove_to_its_confirmation_and_posts_none(owner, massage_saturday, christmas):
    page = logged_in(owner).get(CATALOG).content.decode()
    assert f'<a href="{_rule_url(massage_saturday)}"' in page and f'<a href="{_blackout_url(christmas)}"' in page
    assert f'action="{_rule_url(massage_saturday)}"' not in page
    assert f'action="{_blackout_url(christmas)}"' not in page


def test_removing_hours_asks_first_naming_them(owner, massage_saturday: AvailabilityRule) -> None:
    # when the owner follows the Remove… link of the massage's Saturday hours
    response = logged_in(owner).get(_rule_url(massage_saturday))
    # then a page names the hours, with a button that posts to it and a way back; nothing removed yet
    page = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Remove Massage&#x27;s hours on Saturday, 10:00\u201312:00?</h1>" in page
    assert "Capacity: 2 bookings at once" in page
    assert '<form method="post">' in page and ">Remove these hours</button>" in page
    assert f'<a href="{CATALOG}">Cancel</a>' in page
    assert AvailabilityRule.objects.filter(pk=massage_saturday.pk).exists()


def test_removing_the_tenants_hours_names_them_as_all_services(owner, tenant: Tenant) -> None:
    rule = RuleFactory.create(tenant=tenant, weekday=0, start_time=time(9), end_time=time(17))
    page = logged_in(owner).get(_rule_url(rule)).content.decode()
    assert "<h1>Remove all services&#x27; hours on Monday, 09:00\u201317:00?</h1>" in page


def test_confirming_removes_the_hours(owner, tenant: Tenant, massage_saturday: AvailabilityRule) -> None:
    # given the confirmation page open
    client = logged_in(owner)
    client.get(_rule_url(massage_saturday))
    # when the owner presses Remove these hours
    response = client.post(_rule_url(massage_saturday), {"tenant": tenant.pk}, follow=True)
    # then the hours are gone and the catalogue says so
    assert response.redirect_chain == [(CATALOG, 302)]
    assert "Opening hours removed." in response.content.decode()
    assert not AvailabilityRule.objects.filter(pk=massage_saturday.pk).exists()


def test_removing_a_closed_date_asks_first_naming_it(owner, tenant: Tenant, christmas: BlackoutDate) -> None:
    client = logged_in(owner)
    page = client.get(_blackout_url(christmas)).content.decode()
    assert "<h1>Remove the closed date 2030-12-25 (all services)?</h1>" in page
    assert "Reason: Christmas" in page
    assert ">Remove this closed date</button>" in page and f'<a href="{CATALOG}">Cancel</a>' in page
    assert BlackoutDate.objects.filter(pk=christmas.pk).exists()
    response = client.post(_blackout_url(christmas), {"tenant": tenant.pk}, follow=True)
    assert "Blackout date removed." in response.content.decode()
    assert not BlackoutDate.objects.filter(pk=christmas.pk).exists()


def test_a_service_closed_date_is_named_with_its_service(owner, tenant: Tenant, service: Service) -> None:
    closed = BlackoutDate.objects.create(tenant=tenant, service=service, date=date(2030, 12, 26))
    page = logged_in(owner).get(_blackout_url(closed)).content.decode()
    assert "<h1>Remove the closed date 2030-12-26 (Massage)?</h1>" in page and "Reason:" not in page


def test_another_tenants_hours_and_dates_are_a_404_on_the_page_and_the_post(
    outsider, other_tenant: Tenant, massage_saturday: AvailabilityRule, christmas: BlackoutDate
) -> None:
    # given the owner of another tenant
    client = logged_in(outsider)
    for url in (_rule_url(massage_saturday), _blackout_url(christmas)):
        # when they open this tenant's confirmation pages, and post to them
        page, post = client.get(url), client.post(url, {"tenant": other_tenant.pk})
        # then neither page nor removal exists for them
        assert (page.status_code, post.status_code) == (404, 404), url
        assert b"Massage" not in page.content and b"Christmas" not in page.content
    assert AvailabilityRule.objects.filter(pk=massage_saturday.pk).exists()
    assert BlackoutDate.objects.filter(pk=christmas.pk).exists()


def test_agents_may_not_open_the_confirmation(agent, massage_saturday: AvailabilityRule, christmas) -> None:
    client = logged_in(agent)
    assert client.get(_rule_url(massage_saturday)).status_code == 403
    assert client.get(_blackout_url(christmas)).status_code == 403


def test_a_confirmation_posted_after_the_console_switched_tenant_removes_nothing(
    owner, other_tenant: Tenant, massage_saturday: AvailabilityRule
) -> None:
    # given the confirmation page opened for the owner's tenant, then the console switched in another tab
    client: Client = logged_in(owner)
    # when the page's form is posted with the tenant it was rendered for, no longer the console's
    response = client.post(_rule_url(massage_saturday), {"tenant": other_tenant.pk}, follow=True)
    # then nothing is removed, and the catalogue says why
    assert "Nothing was removed" in response.content.decode()
    assert AvailabilityRule.objects.filter(pk=massage_saturday.pk).exists()
