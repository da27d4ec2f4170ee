import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# Load the URLconf (and with it every view, serializer and model a request needs), then move
# everything loaded so far out of the cyclic garbage collector's reach: these objects live
# as long as the process, and each full collection would traverse all of them (~100 ms every
# couple of thousand saves). Requests' own garbage is collected as before.
get_resolver().url_patterns  # noqa: B018 (imports the views)
gc.freeze()
