"""A time shown to the customer (slot labels, a proposal's ``start_local``) in their language: weekday and
month names and the order their language writes them in; English as it always was; a language we have no
sentences in, English."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bookings import proposals
from supportai.models import Tenant

MOMENT = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)  # 10:00 in Berlin

SAID = {
    "en": "Wednesday 11 March 2026 at 10:00",
    "de": "Mittwoch, 11. März 2026, 10:00",
    "fr": "mercredi 11 mars 2026, 10:00",
    "es": "miércoles, 11 de marzo de 2026, 10:00",
    "ja": "2026年3月11日水曜日 10:00",
    "zh-Hant": "2026年3月11日 星期三 10:00",
}


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "said"), SAID.items())
def test_local_label_says_the_time_in_the_customers_language(tenant: Tenant, language: str, said: str):
    tenant.timezone = "Europe/Berlin"
    assert proposals.local_label(tenant, MOMENT, language) == said


@pytest.mark.django_db
def test_local_label_is_english_without_a_language_or_for_one_we_do_not_speak(tenant: Tenant):
    tenant.timezone = "Europe/Berlin"
    assert proposals.local_label(tenant, MOMENT) == SAID["en"]
    assert proposals.local_label(tenant, MOMENT, "pl") == SAID["en"]
    assert proposals.local_label(tenant, MOMENT, "xx-YY") == SAID["en"]
