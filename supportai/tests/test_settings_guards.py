"""Start-up refusals of settings that are dangerous or malformed, checked in fresh interpreters."""

from __future__ import annotations

import subprocess

import pytest
from django.core.exceptions import ImproperlyConfigured

from supportai.env import env_choice
from supportai.tests.test_settings import PRODUCTION_ENV, _import_settings, _run

pytestmark = pytest.mark.slow
LEVELS = ("DEBUG", "INFO", "WARNING")


def _run_django(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return _run(["-c", script], {**env, "DJANGO_SETTINGS_MODULE": "supportai.settings"})


def _setting(name: str, env: dict[str, str]) -> str:
    """One setting as a fresh process prints it; fails the test with stderr if the settings refuse to load."""
    result = _run_django(f"from django.conf import settings; print(settings.{name})", env)
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


def test_log_level_accepts_any_case() -> None:
    script = "import logging, django; django.setup(); print(logging.getLevelName(logging.getLogger().level))"
    result = _run_django(script, {"DEBUG": "1", "LOG_LEVEL": "debug"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "DEBUG"


@pytest.mark.parametrize(
    ("log_level", "expected"),
    [
        ("debug", {"httpx": "DEBUG", "httpcore": "DEBUG", "stripe": "DEBUG", "sentence_transformers": "WARNING"}),
        ("info", {"httpx": "WARNING", "httpcore": "WARNING", "stripe": "WARNING", "sentence_transformers": "WARNING"}),
        ("error", {"httpx": "ERROR", "httpcore": "ERROR", "stripe": "ERROR", "sentence_transformers": "ERROR"}),
    ],
)
def test_chatty_libraries_log_warnings_and_worse_only_and_the_http_clients_all_at_debug(
    log_level: str, expected: dict[str, str]
) -> None:
    # httpx and Stripe log each request at INFO; a logger's own level is the only one its records
    # meet, so a quieted one is never louder than LOG_LEVEL
    names = ", ".join(map(repr, expected))
    script = (
        "import logging, django; django.setup(); "
        f"print(*(logging.getLevelName(logging.getLogger(name).getEffectiveLevel()) for name in ({names})))"
    )
    result = _run_django(script, {"DEBUG": "1", "LOG_LEVEL": log_level})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == list(expected.values())


def test_log_level_refuses_unknown_levels_naming_the_variable() -> None:
    result = _import_settings({"DEBUG": "1", "LOG_LEVEL": "verbose"})
    assert result.returncode != 0
    assert "LOG_LEVEL must be one of CRITICAL, DEBUG, ERROR, INFO, WARNING; got 'verbose'" in result.stderr


def test_env_choice_ignoring_case_answers_the_listed_spelling() -> None:
    assert env_choice("L", "INFO", LEVELS, ignore_case=True, environ={"L": "Warning"}) == "WARNING"
    assert env_choice("L", "INFO", LEVELS, ignore_case=True, environ={}) == "INFO"
    with pytest.raises(ImproperlyConfigured, match="L must be one of DEBUG, INFO, WARNING; got 'warn'"):
        env_choice("L", "INFO", LEVELS, ignore_case=True, environ={"L": "warn"})
    with pytest.raises(ImproperlyConfigured, match="got 'debug'"):
        env_choice("L", "INFO", LEVELS, environ={"L": "debug"})


def test_unknown_tier_provider_refuses_to_start_naming_the_variable() -> None:
    # given a tier model whose provider does not exist
    env = {"DEBUG": "1", "ROUTING_TIER2": "bogus:x"}

    # when a process (daphne, celery, manage.py) sets Django up
    result = _run_django("import django; django.setup()", env)

    # then it stops at once instead of failing every chat turn later
    assert result.returncode != 0
    assert "ROUTING_TIER2 must be provider:model with a provider in" in result.stderr
    assert "got 'bogus:x'" in result.stderr


def test_known_tier_provider_starts() -> None:
    script = "import django; django.setup(); from routing.config import routing_settings as r; print(r().tiers[2])"
    result = _run_django(script, {"DEBUG": "1", "ROUTING_TIER3": "openai:gpt-4o"})
    assert result.returncode == 0, result.stderr
    assert "provider='openai', model='gpt-4o'" in result.stdout
