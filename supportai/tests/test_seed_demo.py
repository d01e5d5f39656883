from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from supportai.demo import DEMO_SLUG, DEMO_STAFF
from supportai.models import Membership, Tenant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _development_mode(settings) -> None:
    settings.DEBUG = True  # pytest-django turns DEBUG off; seed_demo is a development command


def _seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_seed_demo_is_idempotent() -> None:
    # when
    first = _seed()
    counts = (Tenant.objects.count(), get_user_model().objects.count(), Membership.objects.count())
    key = Tenant.objects.get(slug=DEMO_SLUG).public_key
    second = _seed()
    # then
    assert "Created demo tenant" in first
    assert "Updated demo tenant" in second
    assert (Tenant.objects.count(), get_user_model().objects.count(), Membership.objects.count()) == counts
    assert counts == (1, 4, 4)
    assert Tenant.objects.get(slug=DEMO_SLUG).public_key == key


def test_seed_demo_prints_logins_that_work() -> None:
    output = _seed()
    for staff in DEMO_STAFF:
        assert f"{staff.username}" in output
        assert staff.password in output
        client = Client()
        assert client.login(username=staff.username, password=staff.password)
        assert "Juniper &amp; Sage Wellness Studio" in client.get("/console/").text


def test_seed_demo_allows_local_and_extra_origins() -> None:
    _seed("--origin", "https://shop.example.com")
    origins = Tenant.objects.get(slug=DEMO_SLUG).allowed_origins
    assert "http://127.0.0.1:8000" in origins
    assert "https://shop.example.com" in origins


def test_seed_demo_rejects_a_malformed_origin_naming_the_option() -> None:
    # when
    with pytest.raises(CommandError) as refused:
        _seed("--origin", "https://shop.example.com", "--origin", "javascript:alert(1)")
    # then the message names the option and the value, not the place it would have had among the
    # tenant's origins ("Item 4 in the array did not validate")
    assert str(refused.value).endswith(
        "argument --origin: 'javascript:alert(1)' is not an origin like https://www.example.com"
    )
    assert not Tenant.objects.filter(slug=DEMO_SLUG).exists()  # refused before anything is seeded
    assert not Tenant.objects.filter(slug=DEMO_SLUG).exists()  # atomic: nothing half-seeded


def test_seed_demo_refuses_production_without_flag(settings) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="well-known passwords"):
        _seed()
    assert not Tenant.objects.exists()
