"""manage.py reembed --model NAME [--dimensions N] [--provider NAME] [--no-wait]

Re-embeds every memory with another model in the background (Celery), showing progress.
Search keeps using the current model until the new one is complete, then switches; the old
rows are dropped after. Interrupted? Run the same command again: it resumes.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from ai.providers import ModelSpec
from ai.providers.registry import PROVIDERS, configured_spec, provider_class
from enrichment.reembed import ReembedRefused, reembed_progress, reembed_start
from enrichment.tasks import reembed_continue
from memories.models import EmbeddingModel


class Command(BaseCommand):
    help = "Re-embed every memory with another model, without downtime."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--model", required=True, help="the new model's name")
        parser.add_argument(
            "--dimensions", type=int, help="its vector size (default: the provider's setting)"
        )
        parser.add_argument(
            "--provider", choices=list(PROVIDERS), help="default: the configured one"
        )
        parser.add_argument(
            "--no-wait", action="store_true", help="start it and return; do not show progress"
        )

    def handle(self, *args, model: str, dimensions, provider, no_wait: bool, **options) -> None:
        try:
            provider = provider or configured_spec().provider
            if dimensions is None:
                dimensions = provider_class(provider).configured_spec().dimensions
        except ValueError as exc:  # AI_PROVIDER names no provider
            raise CommandError(str(exc)) from exc
        try:
            target = reembed_start(spec=ModelSpec(provider, model, dimensions))
        except ReembedRefused as exc:
            raise CommandError(str(exc)) from exc
        reembed_continue.delay(target.pk)
        self.stdout.write(f"re-embedding with {model} ({dimensions}d, {provider}) in Celery")
        if no_wait:
            return
        progress = reembed_progress(target=target)
        with tqdm(total=progress.total, initial=progress.done, unit="memories") as bar:
            while True:
                time.sleep(1)
                target.refresh_from_db()
                progress = reembed_progress(target=target)
                bar.total = progress.total
                bar.update(progress.done - bar.n)
                if target.state == EmbeddingModel.State.ACTIVE:
                    break
        self.stdout.write(self.style.SUCCESS(f"{model} is the active model; old rows are dropped"))
