"""Switching the embedding model mid-traffic: searches answer throughout, on the old model
until the new one is complete, then on the new one; the old rows are dropped."""

import pytest
from django.core.management import CommandError, call_command

from ai.providers import ModelSpec
from enrichment.reembed import (
    reembed_batch,
    reembed_progress,
    reembed_start,
    reembed_switch,
)
from enrichment.services import enrich_batch
from enrichment.tasks import reembed_continue
from memories.embeddings import active_spec, embeddings_drop_inactive
from memories.models import Embedding, EmbeddingModel, Memory
from memories.services import memory_create, memory_update

# Committed, as in production: the command builds indexes CONCURRENTLY, outside a transaction.
pytestmark = pytest.mark.django_db(transaction=True)

OLD = ("text-embedding-3-small", 384)
NEW = ModelSpec("openai", "text-embedding-3-large", 256)


@pytest.fixture
def fake_models(openai_fake, settings, user):
    from billing.models import Plan

    settings.OPENAI_EMBEDDING_MODEL, settings.EMBEDDING_DIMENSIONS = OLD
    user.plan, _ = Plan.objects.get_or_create(name="reembed-unlimited")
    user.save()
    return openai_fake


def enrich_all():
    while enrich_batch().claimed:
        pass


def search(api, q):
    response = api.get("/api/v1/search", {"q": q, "mode": "semantic"})
    assert response.status_code == 200
    return response.json()


def test_switch_models_mid_traffic(api, user, fake_models):
    for i in range(25):
        memory_create(user=user, content=f"reembed note {i} about harbour sailing")
    enrich_all()
    assert set(Embedding.objects.values_list("model", flat=True)) == {OLD[0]}

    target = reembed_start(spec=NEW)
    assert target.state == "building"
    steps = 0
    while target.state == "building":
        # Traffic meanwhile: searches, a new memory, an edit.
        body = search(api, f"sailing question {steps}")
        assert body["mode_used"] == "semantic" and not body["degraded"]
        assert len(body["results"]) == 20
        assert fake_models.served[-1] == OLD, "search moved before the new model was complete"
        if steps == 1:
            memory_create(user=user, content="saved during the re-embedding")
            enrich_all()
        if steps == 2:
            edited = Memory.objects.filter(user=user).order_by("id").first()
            memory_update(
                user=user,
                memory_id=edited.pk,
                expected_version=edited.version,
                changes={"content": "edited text"},
            )
            enrich_all()
        if not reembed_batch(target=target, size=10):
            reembed_switch(target=target)
        target.refresh_from_db()
        steps += 1
    assert steps >= 3
    assert active_spec() == NEW
    while embeddings_drop_inactive():
        pass

    body = search(api, "sailing question final")
    assert body["mode_used"] == "semantic" and len(body["results"]) == 20
    assert fake_models.served[-1] == (NEW.model, NEW.dimensions)
    live = Memory.objects.live().count()
    assert live == 26
    assert Embedding.objects.filter(model=NEW.model, dimensions=256).count() == live
    assert not Embedding.objects.exclude(model=NEW.model).exists()
    # The edited memory was embedded again from its new text by the new model.
    assert ("edited text", NEW.model, NEW.dimensions) in fake_models.embedded_with
    # New saves are enriched with the new model from now on.
    memory_create(user=user, content="after the switch")
    enrich_all()
    assert Embedding.objects.filter(model=NEW.model).count() == live + 1


def test_the_task_resumes_and_finishes(user, fake_models):
    for i in range(12):
        memory_create(user=user, content=f"task note {i}")
    enrich_all()
    target = reembed_start(spec=NEW)
    reembed_batch(target=target, size=5)  # a run that stopped part way
    assert reembed_progress(target=target).done == 5
    assert reembed_start(spec=NEW).pk == target.pk  # running it again resumes the same run
    assert reembed_continue.apply(args=[target.pk]).get() == {"done": True}
    target.refresh_from_db()
    assert target.state == "active"
    assert Embedding.objects.filter(model=NEW.model).count() == 12
    assert not Embedding.objects.exclude(model=NEW.model).exists()


def test_reembed_refuses_what_cannot_be_done(fake_models):
    with pytest.raises(CommandError, match="active model already"):
        call_command("reembed", "--model", OLD[0], "--no-wait")
    with pytest.raises(CommandError, match="local provider serves only"):
        call_command("reembed", "--model", "other", "--provider", "local", "--no-wait")
    call_command("reembed", "--model", NEW.model, "--dimensions", "256", "--no-wait")
    assert EmbeddingModel.objects.get(state="building").name == NEW.model
    with pytest.raises(CommandError, match="under way"):
        call_command("reembed", "--model", "third-model", "--no-wait")


def test_a_memory_deleted_while_being_reembedded_gets_no_new_embedding(user, fake_models):
    from unittest import mock

    import enrichment.reembed
    from memories.services import memory_delete

    doomed = memory_create(user=user, content="reembed then deleted").memory
    kept = memory_create(user=user, content="reembed and kept").memory
    enrich_all()
    target = reembed_start(spec=NEW)
    real = enrichment.reembed.guarded_embed

    def delete_then_embed(**kwargs):
        memory_delete(user=user, memory_id=doomed.pk)  # while the provider is being called
        return real(**kwargs)

    with mock.patch.object(enrichment.reembed, "guarded_embed", delete_then_embed):
        assert reembed_batch(target=target, size=10) == 2
    assert set(Embedding.objects.filter(model=NEW.model).values_list("memory_id", flat=True)) == {
        kept.pk
    }
    assert not Embedding.objects.filter(memory_id=doomed.pk).exists()
