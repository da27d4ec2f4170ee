# Deleted memories keep no embeddings from now on (enrichment.services.embeddings_forget);
# drop those of the memories deleted before.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("enrichment", "0002_embedding_model"),
        ("memories", "0004_owner_lexeme"),
    ]

    operations = [
        migrations.RunSQL(
            """
            DELETE FROM enrichment_embedding e
            USING memories_memory m
            WHERE m.id = e.memory_id AND m.deleted_at IS NOT NULL
            """,
            migrations.RunSQL.noop,
        ),
    ]
