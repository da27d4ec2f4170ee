"""manage.py calibrate_near_duplicates [--save] [--pairs FILE]

Measures the near-duplicate thresholds for the active embedding model on the labelled set:
prints precision and recall per threshold, the chosen t_high (precision ≥ 0.95) and t_low,
and the recall by category at t_high. With --save they are stored for the model, and
candidates are found with them from then on (docs/near-duplicates.md).
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ai.guard import AiUnavailable, guarded_embed, guarded_embed_many
from ai.providers import ProviderError
from duplicates.calibration import (
    LABELLED_PAIRS,
    TARGET_PRECISION,
    calibrate,
    load_pairs,
    recall_by_category,
    report,
)
from duplicates.models import Calibration
from memories.embeddings import active_spec


class Command(BaseCommand):
    help = "Choose the near-duplicate thresholds for the active embedding model."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--save", action="store_true", help="store the thresholds chosen")
        parser.add_argument(
            "--pairs", type=Path, default=LABELLED_PAIRS, help="the labelled set (JSON lines)"
        )

    def handle(self, *args, save: bool, pairs: Path, **options) -> None:
        if not pairs.is_file():
            raise CommandError(f"no labelled set at {pairs}")
        labelled = load_pairs(pairs)
        spec = active_spec()
        self.stdout.write(f"embedding {len(labelled)} labelled pairs with {spec.model} …")

        def embed(texts: list[str]) -> list:
            result = guarded_embed_many(
                items=[(None, text) for text in texts],
                operation="calibration",
                spec=spec,
                call=guarded_embed,
            )
            if len(result.vectors) != len(texts):
                raise CommandError("the provider refused some of the labelled texts")
            return [result.vectors[i] for i in range(len(texts))]

        try:
            result = calibrate(model=spec.model, embed=embed, pairs=labelled)
        except (AiUnavailable, ProviderError) as exc:
            raise CommandError(f"the embedding model cannot be reached: {exc}") from exc
        for line in report(result):
            self.stdout.write(line)
        high = result.at(result.t_high)
        self.stdout.write(
            f"\nt_high = {result.t_high:.3f}: precision {high.precision:.3f} "
            f"(target {TARGET_PRECISION}), recall {high.recall:.3f}"
        )
        self.stdout.write(
            f"t_low  = {result.t_low:.3f}: related precision "
            f"{result.at(result.t_low).related_precision:.3f}"
        )
        self.stdout.write("\nrecall at t_high by category (called / pairs):")
        for category, (called, total) in sorted(recall_by_category(result, labelled).items()):
            self.stdout.write(f"  {category:26} {called:3} / {total}")
        if not save:
            self.stdout.write("\nnot saved (run with --save to use these thresholds)")
            return
        Calibration.objects.update_or_create(
            model=spec.model,
            defaults={
                "t_high": result.t_high,
                "t_low": result.t_low,
                "precision": high.precision,
                "recall": high.recall,
                "pairs": result.pairs,
            },
        )
        self.stdout.write(self.style.SUCCESS(f"\nsaved for {spec.model}"))
