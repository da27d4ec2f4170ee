import gc
import os
from functools import partial

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def _limit_web_statements() -> None:
    """Give this process's database connections DB_STATEMENT_TIMEOUT_MS, so a runaway query
    stops before gunicorn's worker timeout (30 s) kills the worker mid-request; the request
    answers 503 query_timeout (core.problems). Only here: Celery workers and management
    commands run longer statements under their own time limits.

    A `SET` on each new connection rather than a startup parameter (libpq `options`), which
    PgBouncer refuses. Behind a transaction-mode pooler see README (DB_STATEMENT_TIMEOUT_MS).
    """
    from django.conf import settings
    from django.db.backends.signals import connection_created

    timeout = settings.DB_STATEMENT_TIMEOUT_MS
    if timeout > 0:
        connection_created.connect(
            partial(_set_statement_timeout, timeout_ms=timeout),
            weak=False,
            dispatch_uid="web_statement_timeout",
        )


def _set_statement_timeout(sender, *, connection, timeout_ms: int, **kwargs) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"SET statement_timeout = {int(timeout_ms)}")


_limit_web_statements()
application = get_wsgi_application()

from ai.warm import warm_local_model  # noqa: E402 (after the settings are set up)

warm_local_model()

# Load the URLconf (and with it every view, serializer and model a request needs), then move
# everything loaded so far out of the cyclic garbage collector's reach: these objects live
# as long as the process, and each full collection would traverse all of them (~100 ms every
# couple of thousand saves). Requests' own garbage is collected as before.
get_resolver().url_patterns  # noqa: B018 (imports the views)
gc.freeze()
