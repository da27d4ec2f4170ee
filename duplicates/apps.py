from django.apps import AppConfig


class DuplicatesConfig(AppConfig):
    """Near-duplicate detection (DESIGN §10): candidates after enrichment, reviewed and merged
    by their owner, behind the `near_duplicates` feature flag."""

    name = "duplicates"
    verbose_name = "Near-duplicates"

    def ready(self) -> None:
        from duplicates.services import candidates_on_embedded
        from memories.signals import memories_embedded

        memories_embedded.connect(candidates_on_embedded, dispatch_uid="near-duplicate-candidates")
