from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from config.views import frontend_index
from core.views import ApiDocsView, health
from enrichment.admin import console_urls

api_v1: list[URLPattern | URLResolver] = [
    path("health", health, name="health"),
    path("", include("accounts.urls")),
    path("", include("billing.urls")),
    path("", include("memories.urls")),
    path("", include("reminders.urls")),
    path("", include("duplicates.urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", ApiDocsView.as_view(url_name="schema"), name="api-docs"),
    # The AI cost console joins the admin's URLs (and namespace) ahead of the model pages.
    path("admin/", (console_urls(admin.site) + admin.site.get_urls(), "admin", admin.site.name)),
    # The PWA: its index.html for every path the API, admin and static files do not own.
    re_path(r"^(?!api/|admin/|static/).*$", frontend_index, name="home"),
]

handler404 = "config.views.not_found"
handler500 = "config.views.server_error"
