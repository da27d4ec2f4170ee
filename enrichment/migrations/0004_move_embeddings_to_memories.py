# The Embedding and EmbeddingModel models moved to the memories app (which owns a memory's data,
# its embeddings included; docs/decisions/0005-layers.md). Their tables keep their names: only
# Django's state moves, nothing in the database changes.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("enrichment", "0003_forget_deleted_memories"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="Embedding"),
                migrations.DeleteModel(name="EmbeddingModel"),
            ],
            database_operations=[],
        ),
    ]
