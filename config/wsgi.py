import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def _limit_web_statements() -> None:
    """Give this process's database connections DB_STATEMENT_TIMEOUT_MS, so a runaway query
    stops before gunicorn's worker timeout (30 s) kills the worker mid-request; the request
    answers 503 query_timeout (core.problems). Only here: Celery workers and management
    commands run longer statements under their own time limits. A startup parameter of the
    connection (libpq `options`): no extra round trip per connection."""
    from django.conf import settings

    timeout = settings.DB_STATEMENT_TIMEOUT_MS
    if timeout > 0:
        # The same dict the connection handler reads when it opens a connection.
        options = settings.DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c statement_timeout={timeout}".strip()


_limit_web_statements()
application = get_wsgi_application()

# Load the URLconf (and with it every view, serializer and model a request needs), then move
# everything loaded so far out of the cyclic garbage collector's reach: these objects live
# as long as the process, and each full collection would traverse all of them (~100 ms every
# couple of thousand saves). Requests' own garbage is collected as before.
get_resolver().url_patterns  # noqa: B018 (imports the views)
gc.freeze()
