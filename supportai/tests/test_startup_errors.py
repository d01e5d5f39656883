"""A malformed environment stops every entry point with one line on stderr, not a traceback.

Each check runs the entry point in a fresh interpreter (manage.py, daphne's import of the ASGI app, the
WSGI app, celery's worker and beat) the way ops start it.
"""

from __future__ import annotations

import subprocess

import pytest
from django.core.exceptions import ImproperlyConfigured

from supportai.startup import EXIT_STATUS, refusing_bad_configuration
from supportai.tests.test_settings import PRODUCTION_ENV, _run

pytestmark = pytest.mark.slow

BAD_PROXIES = {"DEBUG": "1", "TRUSTED_PROXIES": "10.0.0.1/8"}
BAD_PROXIES_LINE = (
    "SupportAI configuration error: TRUSTED_PROXIES entries must be IP addresses or networks such as 10.0.0.0/8 "
    "or 2001:db8::/32 (no host bits after the prefix); got '10.0.0.1/8'"
)
ENTRY_POINTS = {
    "manage.py": ["manage.py", "check"],
    "daphne": ["-m", "daphne", "supportai.asgi:application"],
    "asgi": ["-c", "import supportai.asgi"],
    "wsgi": ["-c", "import supportai.wsgi"],
    "celery worker": ["-m", "celery", "-A", "supportai", "worker", "--pool=solo"],
    "celery beat": ["-m", "celery", "-A", "supportai", "beat"],
}


def _assert_refused_with(result: subprocess.CompletedProcess[str], line: str) -> None:
    assert result.returncode == EXIT_STATUS, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().splitlines()[-1] == line, result.stderr


@pytest.mark.parametrize("args", ENTRY_POINTS.values(), ids=ENTRY_POINTS.keys())
def test_every_entry_point_refuses_a_bad_variable_in_one_line(args: list[str]) -> None:
    # given an environment with a malformed TRUSTED_PROXIES entry
    # when ops start the entry point
    result = _run(args, BAD_PROXIES)

    # then it stops with the variable's message alone
    _assert_refused_with(result, BAD_PROXIES_LINE)


def test_a_production_refusal_is_one_line_too() -> None:
    result = _run(ENTRY_POINTS["manage.py"], {**PRODUCTION_ENV, "BOOKINGS_TEST_CHECKOUT": "1"})
    _assert_refused_with(
        result,
        "SupportAI configuration error: BOOKINGS_TEST_CHECKOUT must be off when DEBUG is off "
        "(it marks bookings paid for free)",
    )


@pytest.mark.parametrize("entry_point", ["manage.py", "celery worker"])
def test_a_bad_tier_found_when_the_apps_load_is_one_line_too(entry_point: str) -> None:
    result = _run(ENTRY_POINTS[entry_point], {"DEBUG": "1", "ROUTING_TIER2": "bogus:x"})
    _assert_refused_with(
        result,
        "SupportAI configuration error: ROUTING_TIER2 must be provider:model with a provider in "
        "anthropic, gemini, local, openai; got 'bogus:x'",
    )


def test_the_traceback_is_shown_on_request() -> None:
    result = _run(ENTRY_POINTS["manage.py"], {**BAD_PROXIES, "SUPPORTAI_STARTUP_TRACEBACK": "1"})
    assert result.returncode != 0
    assert "Traceback" in result.stderr
    assert "got '10.0.0.1/8'" in result.stderr


def test_other_errors_keep_their_traceback() -> None:
    # Django's own ImproperlyConfigured (a wrong INSTALLED_APPS, a missing driver) is a bug to debug.
    with pytest.raises(ImproperlyConfigured, match="bug"), refusing_bad_configuration():
        raise ImproperlyConfigured("bug")


@pytest.mark.parametrize("args", [ENTRY_POINTS["manage.py"], ENTRY_POINTS["asgi"], ENTRY_POINTS["wsgi"]])
def test_a_good_environment_starts(args: list[str]) -> None:
    result = _run(args, {"DEBUG": "1", "TRUSTED_PROXIES": "10.0.0.0/8"})
    assert result.returncode == 0, result.stderr


def test_a_good_environment_starts_celery() -> None:
    # `celery report` loads the app and its Django settings, then exits (a worker would keep running).
    result = _run(["-m", "celery", "-A", "supportai", "report"], {"DEBUG": "1", "TRUSTED_PROXIES": "10.0.0.0/8"})
    assert result.returncode == 0, result.stderr
    assert "TRUSTED_PROXIES" in result.stdout


@pytest.mark.parametrize(
    ("variable", "value", "line"),
    [
        ("HTTP_MAX_BODY_BYTES", "1000", "HTTP_MAX_BODY_BYTES must be >= 65536; got 1000"),
        ("HTTP_MAX_BODY_BYTES", "2.5MiB", "HTTP_MAX_BODY_BYTES must be an integer; got '2.5MiB'"),
        (
            "KNOWLEDGE_MAX_UPLOAD_REQUEST_BYTES",
            "1000000",
            "KNOWLEDGE_MAX_UPLOAD_REQUEST_BYTES must be at least KNOWLEDGE_MAX_UPLOAD_BYTES plus 262144 bytes for "
            "the form (10747904), so that a file of the largest size fits one request; got 1000000",
        ),
    ],
)
def test_a_body_limit_that_is_no_number_or_too_small_stops_the_process(variable: str, value: str, line: str) -> None:
    result = _run(ENTRY_POINTS["manage.py"], {"DEBUG": "1", variable: value})
    _assert_refused_with(result, f"SupportAI configuration error: {line}")
