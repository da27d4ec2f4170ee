"""The pipeline owns no table of its own (memories and embeddings live in `memories`); this
module only declares the operators' permissions on the AI gateway's controls."""

from __future__ import annotations

from django.db import models


class AiControls(models.Model):
    """No table: a home for the permissions of the AI cost console's controls.

    Forcing the AI breaker stops (or un-stops) every AI call of every user, which is more than
    reading the ledger, so it has a permission of its own. It lives here, beside the console
    (enrichment/admin.py), because the `ai` gateway is not a Django app and billing owns only
    money."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("force_ai_breaker", "Can force the AI breaker open, closed or automatic")]

    def __str__(self) -> str:
        return "AI controls"
