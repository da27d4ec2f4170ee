# The per-user stem dictionary of keyword search's typo tolerance (memories.lexicon), and a
# BRIN index on updated_at through which its refresh finds the memories changed lately.

import django.contrib.postgres.indexes
import django.db.models.deletion
from django.conf import settings
from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("memories", "0002_enrichment_bookkeeping"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        BtreeGistExtension(),
        migrations.CreateModel(
            name="SearchLexeme",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("lexeme", models.CharField(max_length=32)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("user", "lexeme"), name="search_lexeme_unique")
                ],
                "indexes": [
                    django.contrib.postgres.indexes.GistIndex(
                        models.F("user"),
                        django.contrib.postgres.indexes.OpClass("lexeme", name="gist_trgm_ops"),
                        name="search_lexeme_user_trgm",
                    )
                ],
            },
        ),
        migrations.AddIndex(
            model_name="memory",
            index=django.contrib.postgres.indexes.BrinIndex(
                fields=["updated_at"], name="memory_updated_brin"
            ),
        ),
        # The dictionary from the memories already saved (later: memories.lexicon).
        migrations.RunSQL(
            """
            INSERT INTO memories_searchlexeme (user_id, lexeme)
            SELECT DISTINCT m.user_id, word
            FROM memories_memory m, unnest(tsvector_to_array(m.search_vector)) AS word
            WHERE m.deleted_at IS NULL
              AND length(word) BETWEEN 3 AND 32 AND word ~ '^[[:alpha:]]+$'
            ON CONFLICT DO NOTHING
            """,
            migrations.RunSQL.noop,
        ),
    ]
