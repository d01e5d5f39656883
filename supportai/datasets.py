"""The shared public datasets (``../shared/data`` beside the checkout, never copied into it): where they
are, a stable dev/holdout split, and finding a CSV file."""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.conf import settings

SHARED_DATA = Path(settings.BASE_DIR).parent / "shared" / "data"
COVID_FAQ = SHARED_DATA / "covid-faq"
BITEXT = SHARED_DATA / "bitext-customer-support"
SPLITS = ("dev", "holdout", "all")


class DatasetNotFound(Exception):
    pass


def split_of(text: str) -> str:
    """A stable half of the data: tune rules on ``dev``, report ``holdout`` untouched."""
    return "dev" if hashlib.sha256(text.encode()).digest()[0] % 2 == 0 else "holdout"


def csv_file(source: Path) -> Path:
    """``source`` if it is a file, else the first CSV file in the folder ``source``."""
    if source.is_dir():
        found = sorted(source.glob("*.csv"))
        if not found:
            raise DatasetNotFound(f"no CSV file in {source}")
        return found[0]
    if not source.is_file():
        raise DatasetNotFound(f"{source} does not exist")
    return source
