from __future__ import annotations

from django.conf import settings
from django.db import models
from pgvector.django import VectorField


def vector_literal(vector) -> str:
    """A vector as pgvector's text input ('[0.1,0.2,…]'), to pass as a query parameter."""
    return "[" + ",".join(f"{x:.7g}" for x in vector) + "]"


class Embedding(models.Model):
    """One memory's embedding by one model (DESIGN §5).

    The table is hash-partitioned by user (16 partitions) with an HNSW index (cosine) per
    partition, which Django cannot declare: migration 0001 creates it in SQL while telling
    Django's migration state about this model. The vector column has no fixed size so that
    a re-embedding with another dimension can share the table; each index covers one size.
    """

    pk = models.CompositePrimaryKey("user_id", "memory_id", "model")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+"
    )
    memory = models.ForeignKey("memories.Memory", on_delete=models.DO_NOTHING, related_name="+")
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
    the model the settings name is the active one."""

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
        constraints = [
            models.UniqueConstraint(
                fields=["state"],
                condition=models.Q(state__in=["building", "active"]),
                name="one_building_one_active_embedding_model",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.dimensions}d, {self.provider}, {self.state})"
