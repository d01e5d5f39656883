"""Management commands are imported before any test can patch what they import."""

from __future__ import annotations

import sys

from supportai.tests.command_modules import our_commands


def test_every_command_of_our_apps_is_imported_before_the_first_test() -> None:
    """A command imported for the first time by ``call_command`` while a test patches a name it
    imports (``knowledge.services.default_provider``) keeps the patched object for every later test
    in the process; the root conftest imports them all first, so no patch can outlive its test."""
    modules = [f"{app}.management.commands.{name}" for name, app in our_commands().items()]
    assert "knowledge.management.commands.sync_sources" in modules
    assert "django.contrib.auth.management.commands.changepassword" not in modules
    assert [module for module in modules if module not in sys.modules] == []
