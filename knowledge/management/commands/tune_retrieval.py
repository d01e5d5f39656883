"""``manage.py tune_retrieval --tenant SLUG --queries queries.jsonl --qrels qrels.tsv [--apply] [--no-progress]``.

Measures hybrid retrieval on the tenant's labelled questions (BEIR format; qrels name the tenant's
documents by external id) with BM25's weight scaled by each candidate, prints nDCG@10 per scale
and, with ``--apply``, stores the chosen scale for the tenant (knowledge/tuning.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from knowledge.beir import BeirFormatError, read_labelled
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
from knowledge.services import default_provider
from knowledge.timeouts import RetrievalTimedOut
from knowledge.tuning import DEFAULT_SCALE, MIN_GAIN, ScaleChoice, TuningError, retrieval_tune, retrieval_tuning_save
from supportai.management.options import tenant_by_slug


class Command(BaseCommand):
    help = "Measure the tenant's keyword weight for hybrid retrieval on its labelled questions (--apply stores it)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_threads_option(parser)
        add_progress_option(parser)
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--queries", required=True, type=Path, help="BEIR queries.jsonl")
        parser.add_argument("--qrels", required=True, type=Path, help="BEIR qrels TSV naming documents by external id")
        parser.add_argument("--apply", action="store_true", help="store the chosen scale for the tenant")

    def handle(self, *args: Any, **options: Any) -> None:
        apply_threads_option(options)
        tenant = tenant_by_slug(options["tenant"])
        provider = default_provider()
        provider_check(provider, consequence="nothing was measured or stored")
        try:
            labelled = read_labelled(Path(options["queries"]), Path(options["qrels"]))
        except BeirFormatError as exc:
            raise CommandError(f"cannot read the labelled questions: {exc}") from exc
        notes = labelled.notes.line(qrels=Path(options["qrels"]).name)
        bars = StepBars(self, options, unit="question", units={})
        try:
            with embedding_retries(self):
                result = retrieval_tune(
                    tenant=tenant,
                    queries=labelled.queries,
                    qrels=labelled.qrels,
                    provider=provider,
                    progress=bars,
                )
        except TuningError as exc:
            raise CommandError(f"{exc} ({notes})" if notes else str(exc)) from exc
        except ProviderError as exc:
            raise CommandError(f"embedding failed, nothing measured or stored: {exc}") from exc
        except RetrievalTimedOut as exc:
            consequence = "nothing was measured or stored"
            raise CommandError(RETRIEVAL_STOPPED.format(reason=exc, consequence=consequence)) from exc
        finally:
            bars.close()
        self.stdout.write(f"{result.queries} labelled questions of {tenant.slug}")
        if notes:
            self.stdout.write(notes)
        self.stdout.write(f"{'keyword scale':>14}  {'nDCG@10':>8}")
        for scale, ndcg in result.ndcg.items():
            mark = "  <- chosen" if scale == result.chosen else ""
            self.stdout.write(f"{scale:>14.2f}  {ndcg:>8.4f}{mark}")
        self.stdout.write(_verdict(result.choice))
        if options["apply"]:
            retrieval_tuning_save(tenant=tenant, result=result)
            self.stdout.write(f"stored keyword scale {result.chosen:.2f} for {tenant.slug}")
        else:
            self.stdout.write("not stored (add --apply)")


def _verdict(choice: ScaleChoice) -> str:
    """Why the chosen scale was chosen: the best scale's gain over the default and its interval."""
    if choice.best == DEFAULT_SCALE:
        return f"the default scale {DEFAULT_SCALE:.2f} is the best measured"
    gain = choice.gain
    figures = (
        f"scale {choice.best:.2f} gains {gain.interval_text('nDCG@10 over the default')}, "
        f"{_questions(gain.queries_better)} better, {gain.queries_worse} worse"
    )
    if choice.measured:
        return f"{figures}: a measured gain"
    if not gain.is_gain:
        return f"{figures}: the interval includes 0, so the default {DEFAULT_SCALE:.2f} stays"
    return f"{figures}: under the {MIN_GAIN} a change needs, so the default {DEFAULT_SCALE:.2f} stays"


def _questions(count: int) -> str:
    return f"{count} question" if count == 1 else f"{count} questions"
