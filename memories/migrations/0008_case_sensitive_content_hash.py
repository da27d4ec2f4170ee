"""Recompute every memory's content_hash now that duplicate detection keeps case (content, and
a URL's path and query; memories/normalization.py).

Safe for the partial unique index on (user, content_hash) of live memories: the new
normalization only keeps case the old one folded, so two memories equal under it were equal
before too, and could not both be live. Rows are updated in batches of BATCH_SIZE by primary
key, each batch in its own short statement, and only the rows whose hash changes. Neither
`version` nor `updated_at` moves: the content did not change. An enrichment batch claimed
before the migration and written after it finds its hashes changed and leaves those memories
pending; the next sweep enriches them again.

Reversing leaves the hashes as they are: under the old ones, memories saved since that differ
only by case would collide.
"""

from django.db import migrations

from memories.normalization import content_hash

BATCH_SIZE = 2000


def recompute_content_hashes(apps, schema_editor) -> None:
    Memory = apps.get_model("memories", "Memory")
    last_pk = None
    while True:
        batch = Memory.objects.order_by("pk").only("pk", "content", "url", "content_hash")
        if last_pk is not None:
            batch = batch.filter(pk__gt=last_pk)
        rows = list(batch[:BATCH_SIZE])
        if not rows:
            return
        changed = []
        for memory in rows:
            hashed = content_hash(memory.content, memory.url)
            if hashed != memory.content_hash:
                memory.content_hash = hashed
                changed.append(memory)
        Memory.objects.bulk_update(changed, ["content_hash"])
        last_pk = rows[-1].pk


class Migration(migrations.Migration):
    # Each batch commits on its own: a long table is not rewritten in one transaction.
    atomic = False

    dependencies = [("memories", "0007_embeddings_from_enrichment")]

    operations = [
        migrations.RunPython(recompute_content_hashes, migrations.RunPython.noop, elidable=True),
    ]
