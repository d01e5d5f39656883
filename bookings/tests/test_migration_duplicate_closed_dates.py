"""Migrations 0012 and 0013 on closed dates added twice before the database refused them: the first of
each is kept, with the reasons of its copies that differ as far as the column holds them whole (one that
does not fit is written out, never cut), then the constraint. Another tenant's same date, and the same
date for other services, are left as they were."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from bookings.tests.migrations_under_test import at_migration, migrate

BEFORE = [("bookings", "0011_availabilityrule_rule_unique_hours")]
AFTER = [("bookings", "0013_blackoutdate_blackout_unique_date")]
CHRISTMAS = date(2030, 12, 25)


@pytest.fixture
def bookings_at_0011() -> Iterator[Any]:
    yield from at_migration(BEFORE)


@pytest.mark.django_db(transaction=True)
def test_migration_keeps_the_first_of_dates_closed_twice_with_their_reasons(bookings_at_0011: Any) -> None:
    # given: Christmas closed three times for all services ("", "Christmas", "Christmas") and twice for the
    # massage ("Holiday", "Staff away"), Boxing Day once, and Christmas of another tenant
    apps = bookings_at_0011
    tenant_model = apps.get_model("supportai", "Tenant")
    alpha, bravo = (tenant_model.objects.create(slug=slug, name=slug) for slug in ("alpha", "bravo"))
    massage = apps.get_model("bookings", "Service").objects.create(tenant=alpha, name="Massage", duration_minutes=60)
    blackout = apps.get_model("bookings", "BlackoutDate")

    def closed(tenant: Any, reason: str, service: Any = None, day: date = CHRISTMAS) -> int:
        return int(blackout.objects.create(tenant=tenant, service=service, date=day, reason=reason).pk)

    every = [closed(alpha, ""), closed(alpha, "Christmas"), closed(alpha, "Christmas")]
    own = [closed(alpha, "Holiday", massage), closed(alpha, "Staff away", massage)]
    boxing_day, others = closed(alpha, "", day=date(2030, 12, 26)), closed(bravo, "Their Christmas")
    # when: the migrations run
    migrated = migrate(AFTER).get_model("bookings", "BlackoutDate")
    # then: the first of each is left, with the reasons of its copies; the others are as they were
    kept = dict(migrated.objects.values_list("pk", "reason"))
    assert kept == {
        every[0]: "Christmas",
        own[0]: "Holiday; Staff away",
        boxing_day: "",
        others: "Their Christmas",
    }


@pytest.mark.django_db(transaction=True)
def test_migration_keeps_whole_reasons_and_writes_out_one_that_does_not_fit(
    bookings_at_0011: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # given: Christmas closed three times, with reasons of 150, 148 and 9 characters (the column holds 200)
    apps = bookings_at_0011
    tenant = apps.get_model("supportai", "Tenant").objects.create(slug="alpha", name="alpha")
    blackout = apps.get_model("bookings", "BlackoutDate")
    long_reason, holiday = "A" * 150, "christmas"
    staff_training = "Staff training all day; the building is closed " + "B" * 100
    first = blackout.objects.create(tenant=tenant, date=CHRISTMAS, reason=long_reason).pk
    for reason in (staff_training, holiday):
        blackout.objects.create(tenant=tenant, date=CHRISTMAS, reason=reason)
    # when
    migrated = migrate(AFTER).get_model("bookings", "BlackoutDate")
    # then: the reasons that fit are kept whole, and the one that does not is written out whole
    assert dict(migrated.objects.values_list("pk", "reason")) == {first: f"{long_reason}; {holiday}"}
    assert repr(staff_training) in capsys.readouterr().out
