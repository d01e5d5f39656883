"""Shared steps of the knowledge console's browser tests: a staff member with a password, logged in."""

from __future__ import annotations

from playwright.sync_api import Page

from supportai.models import Role, Tenant
from supportai.tests.factories import MembershipFactory, UserFactory

PASSWORD = "console-browser-2026"
LOGIN_TIMEOUT = 20_000


def console_member(tenant: Tenant, username: str, role: Role) -> None:
    """A user of ``tenant`` with ``role`` who can log in with ``PASSWORD``."""
    user = UserFactory.create(username=username)
    user.set_password(PASSWORD)
    user.save()
    MembershipFactory.create(user=user, tenant=tenant, role=role)


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/console/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/console/**", timeout=LOGIN_TIMEOUT)
