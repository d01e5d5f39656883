"""The README names every environment variable the code reads."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from supportai.devserver import ROOT

READERS = {"getenv", "get"}  # os.getenv("X"), os.environ.get("X")
SKIPPED_DIRS = {".venv", "node_modules", ".git", "bench-results"}


def _python_files() -> Iterator[Path]:
    for path in ROOT.rglob("*.py"):
        if not SKIPPED_DIRS.intersection(path.relative_to(ROOT).parts):
            yield path


def _reader_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute) and func.attr in READERS:
        owner = func.value
        is_os = (isinstance(owner, ast.Name) and owner.id == "os") or (
            isinstance(owner, ast.Attribute) and owner.attr == "environ"
        )
        return func.attr if is_os else ""
    return ""


def variables_read(source: str) -> set[str]:
    """Names passed as the first argument to ``env_*`` readers, ``os.getenv`` or ``os.environ.get``."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        reader, name = _reader_name(node), getattr(node.args[0], "value", None)
        if (reader.startswith("env_") or reader in READERS) and isinstance(name, str) and name.isupper():
            names.add(name)
    return names


def test_the_scan_finds_every_kind_of_read() -> None:
    source = 'import os\nenv_int(\n    "A_B", 1)\nos.environ.get("C")\nos.getenv("D")\nd.get("e")\nother.get("F")\n'
    assert variables_read(source) == {"A_B", "C", "D"}


def test_every_environment_variable_the_code_reads_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    read = set().union(*(variables_read(path.read_text(encoding="utf-8")) for path in _python_files()))
    assert {"DATABASE_URL", "KNOWLEDGE_EMBEDDING_PROVIDER", "REDIS_URL_TEST"} <= read
    assert sorted(name for name in read if f"`{name}" not in readme) == []
