"""The websocket consumer imports each function and class of ours from the module that defines it, not
through another module that happens to import it (a re-export that moves or goes when that module changes)."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import chat.consumers

OURS = ("analytics", "bookings", "chat", "escalations", "integrations", "knowledge", "routing", "supportai")


def imported_through_another_module(path: Path) -> list[str]:
    """``module.name`` for each function or class ``path`` imports from a module other than its own."""
    found = []
    for node in ast.parse(path.read_text()).body:
        if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith(OURS):
            continue
        module = importlib.import_module(str(node.module))
        for alias in node.names:
            imported = getattr(module, alias.name)
            if (inspect.isfunction(imported) or inspect.isclass(imported)) and imported.__module__ != node.module:
                found.append(f"{node.module}.{alias.name}")
    return found


def test_the_consumer_imports_functions_and_classes_from_their_home_modules() -> None:
    assert imported_through_another_module(Path(chat.consumers.__file__)) == []
