"""Start-up refusals of settings that are dangerous or malformed, checked in fresh interpreters."""

from __future__ import annotations

import pytest

from supportai.tests.test_settings import PRODUCTION_ENV, _import_settings, _run

pytestmark = pytest.mark.slow


def _setting(name: str, env: dict[str, str]) -> str:
    """One setting as a fresh process prints it; fails the test with stderr if the settings refuse to load."""
    script = f"from django.conf import settings; print(settings.{name})"
    result = _run(["-c", script], {**env, "DJANGO_SETTINGS_MODULE": "supportai.settings"})
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_production_refuses_the_test_checkout() -> None:
    # given a production environment that turns on the checkout page that marks bookings paid for free
    env = {**PRODUCTION_ENV, "BOOKINGS_TEST_CHECKOUT": "1"}

    # when the settings load
    result = _import_settings(env)

    # then the process refuses to start and names the variable
    assert result.returncode != 0
    assert "BOOKINGS_TEST_CHECKOUT must be off when DEBUG is off" in result.stderr


def test_production_accepts_the_test_checkout_switched_off() -> None:
    assert _setting("BOOKINGS_TEST_CHECKOUT", {**PRODUCTION_ENV, "BOOKINGS_TEST_CHECKOUT": "0"}) == "False"


def test_development_may_turn_on_the_test_checkout() -> None:
    env = {"DEBUG": "1", "BOOKINGS_TEST_CHECKOUT": "1", "STRIPE_SECRET_KEY": ""}
    assert _setting("BOOKINGS_TEST_CHECKOUT", env) == "True"
