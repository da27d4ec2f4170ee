"""manage.py near_duplicates_backfill [--user EMAIL …] [--restart] [--batch N] [--max-batches N]

Finds near-duplicate candidates among memories saved before their users were in the
`near_duplicates` flag (only users inside the flag get any). Shows progress; interrupted or
stopped by --max-batches, it resumes where it stopped when run again with the same users.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from accounts.models import User
from duplicates.backfill import BackfillRefused, backfill_progress, backfill_step
from memories.embeddings import embeddings_progress


class Command(BaseCommand):
    help = "Find near-duplicate candidates among memories saved before the flag was on."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--user", action="append", dest="emails", help="this user only (repeatable)"
        )
        parser.add_argument("--restart", action="store_true", help="from the start again")
        parser.add_argument("--batch", type=int, default=200, help="memories per step")
        parser.add_argument(
            "--max-batches", type=int, default=None, help="stop after this many (resumable)"
        )

    def handle(self, *args, emails, restart: bool, batch: int, max_batches, **options) -> None:
        user_ids = None
        if emails:
            found = dict(User.objects.filter(email__in=emails).values_list("email", "pk"))
            missing = sorted(set(emails) - set(found))
            if missing:
                raise CommandError(f"no such user: {', '.join(missing)}")
            user_ids = sorted(found.values())
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        try:
            progress = backfill_progress(user_ids=user_ids, restart=restart)
        except BackfillRefused as exc:
            raise CommandError(str(exc)) from exc
        total = (
            embeddings_progress(model=progress.model).done
            if user_ids is None
            else None  # a few users: not worth a count over everyone
        )
        pairs = steps = 0
        with tqdm(total=total, initial=progress.done, unit="memories", file=self.stderr) as bar:
            while max_batches is None or steps < max_batches:
                step = backfill_step(progress=progress, user_ids=user_ids, batch=batch)
                if not step.memories:
                    break
                steps += 1
                pairs += step.pairs
                bar.update(step.memories)
        state = "finished" if progress.finished_at else "stopped; run again to resume"
        self.stdout.write(
            f"{progress.done} memories walked, {pairs} pairs written in this run: {state}"
        )
