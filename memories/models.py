from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import BrinIndex, GinIndex, GistIndex, OpClass
from django.contrib.postgres.search import SearchVector, SearchVectorCombinable, SearchVectorField
from django.db import models
from django.db.models import Q
from django.db.models.expressions import CombinedExpression
from django.utils import timezone
from pgvector.django import VectorField

# The tsvector is a generated column; this is the text search configuration the migrations
# create it with. `manage.py textsearch apply` regenerates it with settings.SEARCH_TEXT_CONFIG
# and queries use whichever the column has (memories.text_config).
SEARCH_CONFIG = "english"


class OwnerLexeme(SearchVectorCombinable, models.Func):
    """A one-lexeme tsvector naming the owner: '#<user id>'. No text search parser emits a
    lexeme with '#', so no memory's words can look like it."""

    template = "array_to_tsvector(ARRAY['#' || (%(expressions)s)::text])"
    output_field = SearchVectorField()


def search_vector_expression(config: str) -> CombinedExpression:
    """The tsvector of a memory: title (weight A) and content (B) in the `config` text search
    configuration, plus the owner's lexeme: a query ANDs it in (search.selectors.OwnerQuery),
    so the GIN index finds only the user's matches, even for a user with a tenth of a
    million-row table (a btree on user_id ANDed in costs ~15 ms then)."""
    return (
        SearchVector("title", weight="A", config=config)
        + SearchVector("content", weight="B", config=config)
        + OwnerLexeme("user_id")
    )


class MemoryQuerySet(models.QuerySet["Memory"]):
    def live(self) -> MemoryQuerySet:
        return self.filter(deleted_at__isnull=True)


class Memory(models.Model):
    """One captured thing: a note, link, quote, idea or task, owned by one user."""

    class Kind(models.TextChoices):
        NOTE = "note"
        LINK = "link"
        QUOTE = "quote"
        IDEA = "idea"
        TASK = "task"

    class EnrichmentStatus(models.TextChoices):
        PENDING = "pending"
        ENRICHED = "enriched"
        FAILED = "failed"
        # In the API contract (API.md) for memories AI leaves alone; nothing sets it yet.
        SKIPPED = "skipped"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memories"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.NOTE)
    title = models.CharField(max_length=300, blank=True)
    content = models.TextField()
    url = models.URLField(max_length=2048, blank=True)
    tags = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    # The fields below that a new memory never sets have database defaults too (the same
    # as Python's): memory_create's INSERT leaves them out (fewer parameters on the save path).
    category = models.CharField(max_length=64, blank=True, default="", db_default="")
    summary = models.CharField(max_length=500, blank=True, default="", db_default="")
    version = models.PositiveIntegerField(default=1, db_default=1)
    enrichment_status = models.CharField(
        max_length=16,
        choices=EnrichmentStatus.choices,
        default=EnrichmentStatus.PENDING,
        db_default=EnrichmentStatus.PENDING,
    )
    # Enrichment bookkeeping (enrichment.services): tries so far, until when a worker owns
    # the memory, and why the last try failed.
    enrichment_attempts = models.PositiveSmallIntegerField(default=0, db_default=0)
    enrichment_lease_until = models.DateTimeField(null=True, blank=True)
    enrichment_error = models.CharField(max_length=500, blank=True, default="", db_default="")
    # The memory this one was merged into; written by near-duplicate merges (to come).
    # Indexed only where set (see Meta): nearly every row has none, and a full index would
    # cost every save an insert.
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    # sha256 of the normalized content and URL; see memories.normalization.
    content_hash = models.CharField(max_length=64)
    search_vector = models.GeneratedField(
        expression=search_vector_expression(SEARCH_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = MemoryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "memories"
        indexes = [
            models.Index(
                fields=["user", "-created_at", "-id"],
                name="memory_user_recent",
                condition=Q(deleted_at__isnull=True),
            ),
            models.Index(
                fields=["enrichment_status"],
                name="memory_enrichment_status",
                condition=~Q(enrichment_status="enriched"),
            ),
            # The changes feed (selectors.memory_changes): a user's rows, live and deleted,
            # in (updated_at, id) order, so a page is a range scan from the cursor.
            models.Index(fields=["user", "updated_at", "id"], name="memory_user_changes"),
            GinIndex(fields=["search_vector"], name="memory_search_vector"),
            GinIndex(fields=["tags"], name="memory_tags"),
            # Rows changed since a moment (the search lexicon's refresh); nearly free to keep,
            # as rows are written roughly in time order.
            BrinIndex(fields=["updated_at"], name="memory_updated_brin"),
            models.Index(
                fields=["duplicate_of"],
                name="memory_duplicate_of",
                condition=Q(duplicate_of__isnull=False),
            ),
        ]
        constraints = [
            # Exact duplicates: one live memory per normalized content (see normalization.py).
            models.UniqueConstraint(
                fields=["user", "content_hash"],
                condition=Q(deleted_at__isnull=True),
                name="memory_unique_live_content",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="memory_version_positive"),
            models.CheckConstraint(condition=~Q(content=""), name="memory_content_not_empty"),
        ]

    def __str__(self) -> str:
        return self.title or self.content[:60]

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


class SearchLexeme(models.Model):
    """A word stem found in one user's memories: the dictionary that typo tolerance matches
    their misspelt query words against by trigram similarity (memories.lexicon). Per user,
    so that nobody's words can change another's results or be probed through them."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    lexeme = models.CharField(max_length=32)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "lexeme"], name="search_lexeme_unique"),
        ]
        indexes = [
            # btree_gist puts the user in the trigram index: a user's closest stems are one
            # index scan (`%` filter, `<->` order), however many users share a trigram.
            GistIndex(
                "user", OpClass("lexeme", name="gist_trgm_ops"), name="search_lexeme_user_trgm"
            ),
        ]

    def __str__(self) -> str:
        return self.lexeme


class Embedding(models.Model):
    """One memory's embedding by one model (DESIGN §5), written by memories.embeddings alone.

    The table is hash-partitioned by user (16 partitions) with an HNSW index (cosine) per
    partition, which Django cannot declare: migration enrichment/0001 created it in SQL while
    telling Django's migration state about this model (its state moved here in memories/0007;
    the table kept its name). The vector column has no fixed size so that a re-embedding with
    another dimension can share the table; each index covers one size.
    """

    pk = models.CompositePrimaryKey("user_id", "memory_id", "model")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+"
    )
    memory = models.ForeignKey(Memory, on_delete=models.DO_NOTHING, related_name="+")
    model = models.CharField(max_length=100)
    dimensions = models.PositiveSmallIntegerField()
    embedding = VectorField()
    created_at = models.DateTimeField()

    class Meta:
        db_table = "enrichment_embedding"

    def __str__(self) -> str:
        return f"{self.memory_id} by {self.model}"


class EmbeddingModel(models.Model):
    """The embedding models a deployment has used (DESIGN §5). Exactly one is active: search
    and enrichment use it. `manage.py reembed` adds one as building, fills its embeddings
    in the background, then makes it active and drops the old one's rows. With no row at all,
    the model the settings name is the active one (memories.embeddings.active_spec)."""

    class State(models.TextChoices):
        BUILDING = "building"
        ACTIVE = "active"
        RETIRED = "retired"

    provider = models.CharField(max_length=20)
    name = models.CharField(max_length=100)
    dimensions = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.BUILDING)
    created_at = models.DateTimeField(auto_now_add=True)
    switched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "enrichment_embeddingmodel"
        constraints = [
            models.UniqueConstraint(
                fields=["state"],
                condition=models.Q(state__in=["building", "active"]),
                name="one_building_one_active_embedding_model",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.dimensions}d, {self.provider}, {self.state})"
