"""``TRUSTED_PROXIES``: the proxies whose ``X-Forwarded-For`` (or ``Forwarded``) the per-IP limits believe."""

from __future__ import annotations

from ipaddress import ip_network

import pytest
from django.core.exceptions import ImproperlyConfigured

from supportai.env import env_networks
from supportai.tests.test_settings import _import_settings, _run


def test_addresses_and_networks_of_both_families_are_read() -> None:
    environ = {"TRUSTED_PROXIES": " 10.0.0.0/8, 192.0.2.7 ,2001:db8::/32,::1,"}
    assert env_networks("TRUSTED_PROXIES", environ=environ) == [
        ip_network("10.0.0.0/8"),
        ip_network("192.0.2.7/32"),
        ip_network("2001:db8::/32"),
        ip_network("::1/128"),
    ]


def test_unset_or_empty_trusts_nothing() -> None:
    assert env_networks("TRUSTED_PROXIES", environ={}) == []
    assert env_networks("TRUSTED_PROXIES", environ={"TRUSTED_PROXIES": ""}) == []


@pytest.mark.parametrize("entry", ["nginx", "10.0.0.300", "10.0.0.1/8", "2001:db8::/129", "10.0.0.0/8 10.1.0.0/16"])
def test_a_bad_entry_is_refused_naming_the_variable_and_the_entry(entry: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"TRUSTED_PROXIES entries must be IP addresses or networks") as bad:
        env_networks("TRUSTED_PROXIES", environ={"TRUSTED_PROXIES": f"127.0.0.1,{entry}"})
    assert f"got {entry!r}" in str(bad.value)


@pytest.mark.slow
def test_a_bad_entry_stops_start_up() -> None:
    result = _import_settings({"DEBUG": "1", "TRUSTED_PROXIES": "10.0.0.0/8,lb.internal"})
    assert result.returncode != 0
    assert "TRUSTED_PROXIES entries must be IP addresses or networks" in result.stderr
    assert "got 'lb.internal'" in result.stderr


@pytest.mark.slow
def test_the_setting_holds_the_networks() -> None:
    script = "from django.conf import settings; print(settings.TRUSTED_PROXIES)"
    env = {"DEBUG": "1", "DJANGO_SETTINGS_MODULE": "supportai.settings", "TRUSTED_PROXIES": "10.0.0.0/8,::1"}
    result = _run(["-c", script], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[IPv4Network('10.0.0.0/8'), IPv6Network('::1/128')]"


@pytest.mark.slow
def test_the_header_setting_reads_either_header_and_refuses_anything_else() -> None:
    script = "from django.conf import settings; print(settings.TRUSTED_PROXIES_HEADER)"
    env = {"DEBUG": "1", "DJANGO_SETTINGS_MODULE": "supportai.settings"}
    assert _run(["-c", script], env).stdout.strip() == "x-forwarded-for"
    assert _run(["-c", script], {**env, "TRUSTED_PROXIES_HEADER": "Forwarded"}).stdout.strip() == "forwarded"
    refused = _import_settings({"DEBUG": "1", "TRUSTED_PROXIES_HEADER": "x-real-ip"})
    assert refused.returncode != 0
    assert "TRUSTED_PROXIES_HEADER must be one of forwarded, x-forwarded-for; got 'x-real-ip'" in refused.stderr
