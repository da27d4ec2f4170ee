"""The PWA's page for every client route, and Django's 404/500 handlers: problem+json under
/api/, Django's pages elsewhere."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from core.views import api_not_found, api_server_error


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return api_not_found(request, exception)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return api_server_error(request)
    return defaults.server_error(request)


@require_safe
@never_cache
def frontend_index(request: HttpRequest) -> HttpResponse:
    """The built PWA's index.html for `/` and every client route (`/memories`, `/search`…):
    the app routes in the browser. Never cached, so a new build is picked up at once; its
    hashed assets are cached for a year (WhiteNoise, settings.WHITENOISE_ROOT). Until the PWA
    is built (`make run` builds it), a page says so and links the API and admin."""
    index = settings.FRONTEND_DIST / "index.html"
    if not index.is_file():
        return render(request, "home.html")
    return HttpResponse(index.read_bytes(), content_type="text/html; charset=utf-8")
