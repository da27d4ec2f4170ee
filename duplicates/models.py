import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q


class Calibration(models.Model):
    """The similarity thresholds measured for one embedding model on the labelled set
    (`manage.py calibrate_near_duplicates`). A model without one finds no candidates: a
    threshold is only meaningful for the model it was measured with."""

    model = models.CharField(max_length=100, unique=True)
    # At or above t_high a pair is a near-duplicate candidate; from t_low it is "related".
    t_high = models.FloatField()
    t_low = models.FloatField()
    # On the labelled set at t_high (same links included), and how many pairs it holds.
    precision = models.FloatField()
    recall = models.FloatField()
    pairs = models.PositiveIntegerField()
    calibrated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.model}: t_high {self.t_high:.3f}, t_low {self.t_low:.3f}"


class Pair(models.Model):
    """Two memories of one user found alike, stored once: `first` has the lower id."""

    class Band(models.TextChoices):
        DUPLICATE = "duplicate"  # a candidate to merge
        RELATED = "related"  # shown on the memory only

    class State(models.TextChoices):
        OPEN = "open"
        MERGED = "merged"
        DISMISSED = "dismissed"  # never suggested again

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    first = models.ForeignKey(  # pair_once leads with it
        "memories.Memory", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    second = models.ForeignKey(
        "memories.Memory", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    similarity = models.FloatField()
    same_link = models.BooleanField(default=False)
    band = models.CharField(max_length=10, choices=Band.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    model = models.CharField(max_length=100)  # the embedding model that measured it
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="pair_once"),
            models.CheckConstraint(condition=Q(first__lt=F("second")), name="pair_ordered"),
        ]
        indexes = [
            # A user's open pairs (the list, the navigation's link).
            models.Index(
                fields=["user", "band", "-similarity"],
                name="pair_user_open",
                condition=Q(state="open"),
            ),
            # Pairs of one memory from its second side (first is the unique index's lead).
            models.Index(fields=["second"], name="pair_second"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.band} {self.first_id} ~ {self.second_id} ({self.similarity:.3f}, {self.state})"
        )

    def older_and_newer(self):
        """The pair's memories, older first: a merge keeps the older one."""
        first, second = self.first, self.second
        if (second.created_at, str(second.pk)) < (first.created_at, str(first.pk)):
            return second, first
        return first, second


class Merge(models.Model):
    """The audit row of one merge: who merged which memory into which, and what it changed,
    so that an undo within MERGE_UNDO_WINDOW takes back exactly that."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="merges")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    kept = models.ForeignKey("memories.Memory", on_delete=models.CASCADE, related_name="+")
    merged = models.ForeignKey("memories.Memory", on_delete=models.CASCADE, related_name="+")
    added_tags = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    moved_reminders = ArrayField(models.UUIDField(), default=list, blank=True)
    merged_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # One merge of a pair at a time; an undone one stays as history.
            models.UniqueConstraint(
                fields=["pair"], condition=Q(undone_at__isnull=True), name="merge_one_live"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.merged_id} into {self.kept_id}"


class MemoryLink(models.Model):
    """A memory's link key (memories.normalization.link_key), written when its candidates
    are searched: memories of one user with the same key are candidates whatever they say."""

    memory = models.OneToOneField(
        "memories.Memory", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    key = models.CharField(max_length=2048)

    class Meta:
        indexes = [models.Index(fields=["user", "key"], name="memory_link_user_key")]

    def __str__(self) -> str:
        return self.key


class BackfillProgress(models.Model):
    """Where `manage.py near_duplicates_backfill` stopped, per scope and model, so that a run
    cut short resumes there."""

    scope = models.CharField(max_length=200)
    model = models.CharField(max_length=100)
    last_user_id = models.BigIntegerField(default=0)
    last_memory_id = models.UUIDField(null=True, blank=True)
    done = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "model"], name="backfill_scope_model"),
        ]

    def __str__(self) -> str:
        return f"{self.scope} by {self.model}: {self.done}"
