from django.apps import AppConfig


class EnrichmentConfig(AppConfig):
    """AI providers, the cost guard, the circuit breaker and alerts (see DESIGN §2)."""

    name = "enrichment"
    verbose_name = "AI enrichment"
