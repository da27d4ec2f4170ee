from decimal import Decimal

from django.db import migrations, models

DEFAULT_PLANS = [
    {
        "name": "free",
        "display_name": "Free",
        "max_memories": 1_000,
        "saves_per_day": 100,
        "enrichments_per_month": 1_000,
        "ai_budget_usd_per_month": Decimal("0.50"),
        "searches_per_minute": 30,
    },
    {
        "name": "pro",
        "display_name": "Pro",
        "max_memories": 50_000,
        "saves_per_day": 2_000,
        "enrichments_per_month": 20_000,
        "ai_budget_usd_per_month": Decimal("5.00"),
        "searches_per_minute": 120,
    },
    {
        "name": "team",
        "display_name": "Team",
        "max_memories": None,
        "saves_per_day": 10_000,
        "enrichments_per_month": 100_000,
        "ai_budget_usd_per_month": Decimal("25.00"),
        "searches_per_minute": 600,
    },
]


def create_default_plans(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    for plan in DEFAULT_PLANS:
        Plan.objects.update_or_create(name=plan["name"], defaults=plan)


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Plan",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.SlugField(max_length=32, unique=True)),
                ("display_name", models.CharField(blank=True, max_length=64)),
                ("max_memories", models.PositiveIntegerField(blank=True, null=True)),
                ("saves_per_day", models.PositiveIntegerField(blank=True, null=True)),
                ("enrichments_per_month", models.PositiveIntegerField(blank=True, null=True)),
                (
                    "ai_budget_usd_per_month",
                    models.DecimalField(blank=True, decimal_places=4, max_digits=10, null=True),
                ),
                ("searches_per_minute", models.PositiveIntegerField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={"ordering": ["id"]},
        ),
        migrations.RunPython(create_default_plans, migrations.RunPython.noop),
    ]
