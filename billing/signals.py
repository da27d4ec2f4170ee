"""Signals billing sends to the apps above it, which it must not import (docs/architecture.md)."""

from django.dispatch import Signal

# A plan's limits changed (plan_id=…, user_ids=None), or users moved to another plan
# (plan_id=None, user_ids=[…]): work parked until a limit reset may go on now. The enrichment
# pipeline listens (enrichment.apps).
plan_limits_changed = Signal()
