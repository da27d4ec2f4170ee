import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Counts for the keys stored before this migration (expired ones included: the purge lowers
# the count when it deletes them).
BACKFILL = """
INSERT INTO core_idempotencykeycount (user_id, stored)
SELECT user_id, count(*) FROM core_idempotencykey GROUP BY user_id
"""

# core/0003's function, which now also returns how many keys the user has stored (the cap is
# checked before the request runs, in the same round trip), and deletes the key's own expired
# row, lowering the count, so that storing the key again counts it once. A PL/pgSQL function
# runs each statement with a new snapshot: the reads see what the lock's previous holder
# committed.
CREATE_FUNCTION = """
DROP FUNCTION idempotency_claim(bigint, bigint, text, timestamptz);
CREATE FUNCTION idempotency_claim(
    lock_id bigint, owner_id bigint, wanted_key text, at timestamptz,
    OUT locked boolean, OUT stored_fingerprint text, OUT stored_method text,
    OUT stored_path text, OUT stored_status integer, OUT stored_body bytea,
    OUT stored_headers jsonb, OUT keys_stored integer
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    stored_expires_at timestamptz;
BEGIN
    locked := pg_try_advisory_xact_lock(lock_id);
    IF NOT locked THEN
        RETURN;
    END IF;
    SELECT k.fingerprint, k.method, k.path, k.response_status, k.response_body,
           k.response_headers, k.expires_at
    INTO stored_fingerprint, stored_method, stored_path, stored_status, stored_body,
         stored_headers, stored_expires_at
    FROM core_idempotencykey AS k
    WHERE k.user_id = owner_id AND k.key = wanted_key;
    IF FOUND AND stored_expires_at <= at THEN
        DELETE FROM core_idempotencykey AS k WHERE k.user_id = owner_id AND k.key = wanted_key;
        IF FOUND THEN  -- not already taken by the purge
            UPDATE core_idempotencykeycount AS c SET stored = c.stored - 1
            WHERE c.user_id = owner_id AND c.stored > 0;
        END IF;
        stored_fingerprint := NULL;
        stored_method := NULL;
        stored_path := NULL;
        stored_status := NULL;
        stored_body := NULL;
        stored_headers := NULL;
    END IF;
    SELECT c.stored INTO keys_stored FROM core_idempotencykeycount AS c
    WHERE c.user_id = owner_id;
    keys_stored := coalesce(keys_stored, 0);
END
$$;
"""

# core/0003's function, as it was.
RESTORE_FUNCTION = """
DROP FUNCTION idempotency_claim(bigint, bigint, text, timestamptz);
CREATE FUNCTION idempotency_claim(
    lock_id bigint, owner_id bigint, wanted_key text, at timestamptz,
    OUT locked boolean, OUT stored_fingerprint text, OUT stored_method text,
    OUT stored_path text, OUT stored_status integer, OUT stored_body bytea,
    OUT stored_headers jsonb
) LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    locked := pg_try_advisory_xact_lock(lock_id);
    IF locked THEN
        SELECT k.fingerprint, k.method, k.path, k.response_status, k.response_body,
               k.response_headers
        INTO stored_fingerprint, stored_method, stored_path, stored_status, stored_body,
             stored_headers
        FROM core_idempotencykey AS k
        WHERE k.user_id = owner_id AND k.key = wanted_key AND k.expires_at > at;
    END IF;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("core", "0003_idempotency_claim_function"),
    ]

    operations = [
        migrations.CreateModel(
            name="IdempotencyKeyCount",
            fields=[
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                ("stored", models.PositiveIntegerField(default=0)),
            ],
        ),
        migrations.RunSQL(BACKFILL, reverse_sql=migrations.RunSQL.noop),
        migrations.RunSQL(CREATE_FUNCTION, reverse_sql=RESTORE_FUNCTION),
    ]
