"""Existing DRF tokens (plaintext keys in authtoken_token) become ApiTokens stored by digest,
then the plaintext rows go: their holders keep working, a database leak reveals none."""

import hashlib

from django.db import migrations


def hash_drf_tokens(apps, schema_editor):
    Token = apps.get_model("authtoken", "Token")
    ApiToken = apps.get_model("accounts", "ApiToken")
    for token in Token.objects.all().iterator():
        ApiToken.objects.create(
            user_id=token.user_id,
            name="API token",
            # The digest of accounts.services.token_digest, written out: migrations are frozen.
            key_digest=hashlib.sha256(token.key.encode()).hexdigest(),
            created_at=token.created,
        )
    Token.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_api_token"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = [
        # Irreversible in substance (the plaintext keys are gone); going back keeps the rows.
        migrations.RunPython(hash_drf_tokens, migrations.RunPython.noop),
    ]
