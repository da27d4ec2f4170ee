from django.db import migrations

# The key's lock and its stored answer in one call (core.idempotency._lock_and_read). A
# PL/pgSQL function runs each statement with a new snapshot, so the read sees what the
# lock's previous holder committed, as two separate statements would.
CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION idempotency_claim(
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
$$
"""


class Migration(migrations.Migration):
    dependencies = [("core", "0002_leaner_indexes")]

    operations = [
        migrations.RunSQL(
            CREATE_FUNCTION,
            reverse_sql="DROP FUNCTION idempotency_claim(bigint, bigint, text, timestamptz)",
        )
    ]
