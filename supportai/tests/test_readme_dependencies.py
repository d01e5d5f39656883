"""The README's "Dependencies and why" names every package the requirements files pin."""

from __future__ import annotations

import re

from supportai.devserver import ROOT

REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)")


def pinned_packages(text: str) -> set[str]:
    """Package names of a requirements file (extras, versions, comments and ``-r`` lines left out)."""
    names = set()
    for line in text.splitlines():
        match = REQUIREMENT.match(line.strip())
        if match:
            names.add(match.group(1).lower())
    return names


def dependencies_section(readme: str) -> str:
    start = readme.index("## Dependencies and why")
    end = readme.find("\n## ", start + 1)
    return readme[start : end if end != -1 else None].lower()


def test_requirements_are_read_without_extras_versions_or_includes() -> None:
    text = "-r requirements.txt\n# a comment\npsycopg[binary]==3.3.9\n\nDjango==5.2.19  # LTS\n"
    assert pinned_packages(text) == {"psycopg", "django"}


def test_every_pinned_package_has_its_reason_in_the_readme() -> None:
    section = dependencies_section((ROOT / "README.md").read_text(encoding="utf-8"))
    pinned = set().union(
        *(
            pinned_packages((ROOT / name).read_text(encoding="utf-8"))
            for name in ("requirements.txt", "requirements-dev.txt")
        )
    )
    assert {"django", "torch", "pytest"} <= pinned
    missing = [name for name in sorted(pinned) if not re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", section)]
    assert missing == []
