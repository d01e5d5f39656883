"""``manage.py ingest`` of a folder moved there shows the files it compares to recognise the move on a
bar of their own ("comparing"), before the run's bar: reading them is most of such a run's work."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from tqdm import tqdm

from knowledge.management.commands import ingest
from supportai.models import Tenant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def every_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bars redrawn after every file."""

    class EveryFile(tqdm):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, mininterval=0, miniters=1, **kwargs)

    monkeypatch.setattr(ingest, "tqdm", EveryFile)


def _last_draws(tenant: Tenant, path: Path) -> list[str]:
    """Run ``ingest`` of ``path`` with its bars; the last draw of each bar, in order."""
    err = io.StringIO()
    call_command("ingest", str(path), "--tenant", tenant.slug, stdout=io.StringIO(), stderr=err)
    return [line.split("\r")[-1] for line in err.getvalue().split("\n") if line]


def test_a_moved_folder_s_files_are_compared_on_a_bar_of_their_own(tenant: Tenant, tmp_path: Path) -> None:
    # given a folder of three files, the first run drawing only its own bar
    kb = tmp_path / "kb"
    kb.mkdir()
    for name in ("faq.md", "hours.md", "gifts.md"):
        (kb / name).write_text(f"# {name}\n\nAbout {name}.")
    first = _last_draws(tenant, kb)
    assert len(first) == 1 and first[0].startswith("100%|") and "| 3/3 [" in first[0]
    # when the folder is moved and ingested where it is now
    moved = kb.rename(tmp_path / "kb2")
    draws = _last_draws(tenant, moved)
    # then its files were compared on a bar of their own, then ingested on the run's
    assert len(draws) == 2
    assert draws[0].startswith("comparing: 100%|") and "| 3/3 [" in draws[0]
    assert draws[1].startswith("100%|") and "| 3/3 [" in draws[1]
