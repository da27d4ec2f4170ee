from django.urls import path

from duplicates.api.views import (
    PairDismissView,
    PairListView,
    PairMergeView,
    PairUndoView,
    RelatedView,
)

urlpatterns = [
    path("near-duplicates", PairListView.as_view(), name="near-duplicates"),
    path("near-duplicates/<str:pair_id>/merge", PairMergeView.as_view(), name="pair-merge"),
    path("near-duplicates/<str:pair_id>/undo", PairUndoView.as_view(), name="pair-undo"),
    path("near-duplicates/<str:pair_id>/dismiss", PairDismissView.as_view(), name="pair-dismiss"),
    path("memories/<str:memory_id>/related", RelatedView.as_view(), name="memory-related"),
]
