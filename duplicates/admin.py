from django.contrib import admin, messages

from duplicates.models import Calibration, Merge, Pair
from memories.embeddings import active_spec


class _ReadOnly(admin.ModelAdmin):
    """Pairs and merges are the users' decisions: operators look, the API changes them."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Calibration)
class CalibrationAdmin(_ReadOnly):
    """Thresholds come from `manage.py calibrate_near_duplicates --save`, never typed in."""

    list_display = ("model", "t_high", "t_low", "precision", "recall", "pairs", "calibrated_at")

    def changelist_view(self, request, extra_context=None):
        model = active_spec().model
        if not Calibration.objects.filter(model=model).exists():
            messages.warning(
                request,
                f"The active embedding model {model} has no calibration: no near-duplicate "
                "candidates are found until `manage.py calibrate_near_duplicates --save` runs.",
            )
        return super().changelist_view(request, extra_context)


@admin.register(Pair)
class PairAdmin(_ReadOnly):
    list_display = ("id", "user", "band", "state", "similarity", "same_link", "model", "updated_at")
    list_filter = ("band", "state", "same_link", "model")
    search_fields = ("user__email",)
    list_select_related = ("user",)
    raw_id_fields = ("user", "first", "second")
    show_full_result_count = False


@admin.register(Merge)
class MergeAdmin(_ReadOnly):
    list_display = ("id", "user", "merged_by", "kept", "merged", "merged_at", "undone_at")
    list_filter = ("merged_at", "undone_at")
    search_fields = ("user__email",)
    list_select_related = ("user", "merged_by", "kept", "merged")
    raw_id_fields = ("user", "merged_by", "kept", "merged", "pair")
    show_full_result_count = False
