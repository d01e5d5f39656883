"""A small help folder on disk and a quiet ``manage.py ingest`` run, for the ingest command's tests."""

from __future__ import annotations

import io
from pathlib import Path

from django.core.management import call_command

from supportai.models import Tenant


def help_folder(root: Path) -> Path:
    """``root/kb``: four files, five documents (a CSV FAQ of two rows in ``sub/``); its resolved path."""
    kb = root / "kb"
    (kb / "sub").mkdir(parents=True)
    (kb / "faq.md").write_text("# FAQ\n\nAsked often.")
    (kb / "hours.md").write_text("# Hours\n\nOpen 9 to 7.")
    (kb / "sub" / "gifts.md").write_text("# Gift cards\n\nThey never expire.")
    (kb / "sub" / "faq.csv").write_text("question,answer\nCan I park?,Yes.\nIs there wifi?,No.\n")
    return kb.resolve()


def ingest_quietly(tenant: Tenant, path: Path, *options: str) -> str:
    """What ``ingest PATH --tenant SLUG --no-progress OPTIONS`` wrote to stdout (stderr is dropped)."""
    out = io.StringIO()
    call_command(
        "ingest", str(path), "--tenant", tenant.slug, "--no-progress", *options, stdout=out, stderr=io.StringIO()
    )
    return out.getvalue()
