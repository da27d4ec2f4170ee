from django.db import migrations, models


def create_default_plans(apps, schema_editor):
    from billing.migrations._default_plans import DEFAULT_PLANS

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
