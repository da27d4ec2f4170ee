from django.apps import AppConfig


class EnrichmentConfig(AppConfig):
    """The enrichment pipeline: claims pending memories, embeds and classifies them through
    the AI gateway (ai/), re-embeds on a model change, and the AI cost console (DESIGN §2)."""

    name = "enrichment"
    verbose_name = "AI enrichment"

    def ready(self) -> None:
        from billing.signals import plan_limits_changed

        plan_limits_changed.connect(_unpark_on_plan_change, dispatch_uid="enrichment-unpark")


def _unpark_on_plan_change(sender, *, plan_id=None, user_ids=None, **kwargs) -> None:
    from enrichment.services import enrichment_unpark

    enrichment_unpark(plan_id=plan_id, user_ids=user_ids)
