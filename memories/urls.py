from django.urls import path
from rest_framework.routers import SimpleRouter

from memories.api.views import ExportView, MemoryViewSet, SearchView

router = SimpleRouter(trailing_slash=False)
router.register("memories", MemoryViewSet, basename="memory")

urlpatterns = [
    *router.urls,
    path("export", ExportView.as_view(), name="export"),
    path("search", SearchView.as_view(), name="search"),
]
