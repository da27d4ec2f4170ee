"""Loading the local embedding model before anyone waits for it."""

from __future__ import annotations

import logging
import threading

from django.conf import settings

from ai.providers.registry import get_provider

logger = logging.getLogger(__name__)


def warm_local_model() -> threading.Thread | None:
    """Load the local embedding model in a background thread (web processes call this as they
    start). Its first load takes seconds (torch, then the weights), and without this the first
    semantic search each gunicorn worker answers waits for it, past
    SEARCH_QUERY_EMBED_TIMEOUT_SECONDS. Nothing to do for a remote provider."""
    if settings.AI_PROVIDER != "local":
        return None

    def warm() -> None:
        try:
            get_provider().embed(["warm up"])
        except Exception:  # a search will load it, or say why, later
            logger.exception("the local embedding model did not load")

    thread = threading.Thread(target=warm, name="warm-local-model", daemon=True)
    thread.start()
    return thread
