"""Options shared by the knowledge commands."""

from __future__ import annotations

import os
from argparse import ArgumentParser
from typing import Any

from knowledge.providers.local import use_threads


def add_threads_option(parser: ArgumentParser) -> None:
    parser.add_argument(
        "--threads",
        type=int,
        default=os.cpu_count() or 1,
        help="intra-op threads for the local embedding model (default: all cores; serving uses 1)",
    )


def apply_threads_option(options: dict[str, Any]) -> None:
    use_threads(options["threads"])
