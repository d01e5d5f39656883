"""The management commands of our own apps (not Django's or a library's)."""

from __future__ import annotations

from pathlib import Path

from django.apps import apps
from django.core.management import get_commands

from supportai.devserver import ROOT


def our_commands() -> dict[str, str]:
    """Command name -> the app that holds it, for the apps at the top of this repository (not the
    virtualenv's, which may lie inside it too)."""
    ours = {config.name for config in apps.get_app_configs() if Path(config.path).resolve().parent == ROOT}
    return {name: app for name, app in get_commands().items() if app in ours}
