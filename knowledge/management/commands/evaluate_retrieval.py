"""``manage.py evaluate_retrieval --beir DIR [--modes bm25,dense,hybrid] [--k 10] [--json OUT]
[--split test|dev|train] [--no-progress]``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser

from knowledge.beir import SPLITS, BeirFormatError
from knowledge.evaluation import CORPUS_STEP, DEPTH, HybridComparison, evaluate_beir
from knowledge.management.options import (
    RETRIEVAL_STOPPED,
    StepBars,
    add_progress_option,
    add_threads_option,
    apply_threads_option,
    embedding_retries,
    provider_check,
)
from knowledge.providers.base import ProviderError
from knowledge.retrieval import MODES
from knowledge.services import default_provider
from knowledge.timeouts import RetrievalTimedOut
from knowledge.types import RetrievalMode
from supportai.management.output import check_writable, replaced

COLUMNS = ("ndcg@{k}", "recall@{k}", "recall@100", "mrr@{k}", "latency_ms_p50", "latency_ms_p95")


class Command(BaseCommand):
    help = "Evaluate bm25/dense/hybrid retrieval on a BEIR folder (corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_threads_option(parser)
        parser.add_argument("--beir", required=True, type=Path, help="BEIR-format dataset folder")
        parser.add_argument("--modes", default="bm25,dense,hybrid", help="comma-separated: bm25,dense,hybrid")
        parser.add_argument("--k", type=int, default=10, help="cut-off for nDCG, Recall and MRR")
        parser.add_argument("--json", type=Path, default=None, help="write the results to this file")
        parser.add_argument(
            "--split", choices=SPLITS, default="test", help="the judgements to evaluate on: qrels/SPLIT.tsv"
        )
        parser.add_argument("--fusion", choices=["rrf", "convex"], default=None, help="override KNOWLEDGE_FUSION")
        add_progress_option(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        apply_threads_option(options)
        folder: Path = options["beir"]
        _check_folder(folder, split=options["split"])
        # A mode named twice runs once: its figures are one row of the table and one key of the JSON.
        modes = list(dict.fromkeys(mode.strip() for mode in options["modes"].split(",") if mode.strip()))
        unknown = [mode for mode in modes if mode not in MODES]
        if unknown or not modes:
            raise CommandError(f"Unknown mode(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(MODES)}")
        if not 1 <= options["k"] <= DEPTH:
            raise CommandError(f"--k must be from 1 to {DEPTH}, the depth each mode ranks to; got {options['k']}")
        if options["json"]:
            hint = f"give a file name such as {options['json'] / 'results.json'}"
            check_writable(options["json"], option="--json", folder_hint=hint)
        provider = default_provider()
        if modes != ["bm25"]:  # keywords alone embed nothing
            provider_check(provider, consequence="nothing was measured")
        # The corpus's documents indexed, then each mode's questions.
        bars = StepBars(self, options, unit="query", units={CORPUS_STEP: "doc"})
        try:
            with embedding_retries(self):
                evaluation = evaluate_beir(
                    folder,
                    modes=cast(list[RetrievalMode], modes),
                    provider=provider,
                    k=options["k"],
                    fusion=options["fusion"],
                    progress=bars,
                    split=options["split"],
                )
        except BeirFormatError as exc:
            raise CommandError(str(exc)) from exc
        except ProviderError as exc:
            raise CommandError(f"embedding failed: {exc}") from exc
        except RetrievalTimedOut as exc:
            raise CommandError(RETRIEVAL_STOPPED.format(reason=exc, consequence="nothing was measured")) from exc
        finally:
            bars.close()
        result = evaluation.report
        k = options["k"]
        header = ["mode", *(column.format(k=k) for column in COLUMNS)]
        self.stdout.write(f"{result['dataset']}: {result['docs']} docs, {result['queries']} queries")
        if notes := evaluation.notes.line(qrels=f"qrels/{options['split']}.tsv"):
            self.stdout.write(notes)
        self.stdout.write("  ".join(f"{name:>14}" for name in header))
        for mode, metrics in result["modes"].items():
            values = [f"{metrics[column.format(k=k)]:>14}" for column in COLUMNS]
            self.stdout.write("  ".join([f"{mode:>14}", *values]))
        if evaluation.hybrid is not None:
            self.stdout.write(_hybrid_line(evaluation.hybrid, k=k))
        if options["json"]:
            try:
                with replaced(options["json"]) as file:
                    file.write(json.dumps(result, indent=2) + "\n")
            except OSError as exc:
                raise CommandError(f"--json: {options['json']} could not be written: {exc.strerror or exc}") from exc
            self.stdout.write(f"wrote {options['json']}")


def _check_folder(folder: Path, *, split: str) -> None:
    qrels = f"qrels/{split}.tsv"
    if not folder.exists():
        raise CommandError(f"{folder} does not exist")
    if not folder.is_dir():
        raise CommandError(
            f"{folder} is a file; --beir takes the BEIR folder that holds corpus.jsonl, queries.jsonl and {qrels}"
        )
    for required in ("corpus.jsonl", "queries.jsonl", qrels):
        if (folder / required).is_file():
            continue
        if (folder / f"{required}.gz").is_file():  # BEIR's loader reads plain files only
            hint = f"; {required}.gz is compressed: gunzip it"
        elif required == qrels:
            hint = _splits_hint(folder)
        else:
            hint = _subfolders_hint(folder) if required == "corpus.jsonl" else ""
        raise CommandError(f"{folder} is not a BEIR folder: {required} is missing{hint}")


def _subfolders_hint(folder: Path) -> str:
    """Where the folder holds BEIR folders (cqadupstack holds one per forum, whose published figure
    is the mean of theirs), which, and how to evaluate one."""
    held = sorted(sub.name for sub in folder.iterdir() if (sub / "corpus.jsonl").is_file())
    if not held:
        return ""
    return f"; it holds BEIR folders {', '.join(held)}: evaluate each (--beir {folder / held[0]})"


def _splits_hint(folder: Path) -> str:
    """Where the folder has judgements of other splits (many BEIR sets have dev.tsv only), which."""
    held = [split for split in SPLITS if (folder / "qrels" / f"{split}.tsv").is_file()]
    if not held:
        return ""
    files = ", ".join(f"{split}.tsv" for split in held)
    return f"; qrels/ holds {files}: try --split {held[0]}"


def _hybrid_line(hybrid: HybridComparison, *, k: int) -> str:
    """Whether hybrid's difference from its better part is measured or noise on this set."""
    paired = hybrid.paired
    if paired.is_gain:
        verdict = "a measured gain"
    elif paired.is_loss:
        verdict = "a measured loss"
    else:
        verdict = "within noise on this set"
    return (
        f"hybrid - {hybrid.best_part} per query: {paired.interval_text(f'nDCG@{k}')}, "
        f"{paired.queries_better} better, {paired.queries_worse} worse: {verdict}"
    )
