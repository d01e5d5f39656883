"""The management commands of our own apps (not Django's or a library's)."""

from __future__ import annotations

from pathlib import Path

from django.apps import apps
from django.core.management import get_commands

from supportai.devserver import ROOT


def our_commands() -> dict[str, str]:
    """Command name -> the app that holds it, for the apps in this repository."""
    ours = {config.name for config in apps.get_app_configs() if Path(config.path).is_relative_to(ROOT)}
    return {name: app for name, app in get_commands().items() if app in ours}
