# The Embedding and EmbeddingModel models, moved here from the enrichment app with their tables
# (enrichment_embedding, partitioned, and enrichment_embeddingmodel) unchanged: state only.

import django.db.models.deletion
import pgvector.django.vector
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("memories", "0006_database_defaults"),
        ("enrichment", "0004_move_embeddings_to_memories"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Embedding",
                    fields=[
                        (
                            "pk",
                            models.CompositePrimaryKey(
                                "user_id",
                                "memory_id",
                                "model",
                                blank=True,
                                editable=False,
                                primary_key=True,
                                serialize=False,
                            ),
                        ),
                        ("model", models.CharField(max_length=100)),
                        ("dimensions", models.PositiveSmallIntegerField()),
                        ("embedding", pgvector.django.vector.VectorField()),
                        ("created_at", models.DateTimeField()),
                        (
                            "memory",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="memories.memory",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={"db_table": "enrichment_embedding"},
                ),
                migrations.CreateModel(
                    name="EmbeddingModel",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("provider", models.CharField(max_length=20)),
                        ("name", models.CharField(max_length=100)),
                        ("dimensions", models.PositiveSmallIntegerField()),
                        (
                            "state",
                            models.CharField(
                                choices=[
                                    ("building", "Building"),
                                    ("active", "Active"),
                                    ("retired", "Retired"),
                                ],
                                default="building",
                                max_length=10,
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("switched_at", models.DateTimeField(blank=True, null=True)),
                    ],
                    options={
                        "db_table": "enrichment_embeddingmodel",
                        "constraints": [
                            models.UniqueConstraint(
                                condition=models.Q(("state__in", ["building", "active"])),
                                fields=("state",),
                                name="one_building_one_active_embedding_model",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
