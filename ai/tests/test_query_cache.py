"""The query-embedding cache is per user: one user's cached query tells nothing to another."""

import pytest
from django_redis import get_redis_connection

from ai.providers.registry import configured_spec
from ai.query import query_embedding

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_ai_state(clean_ai_state):
    """Breaker, budgets and cached query embeddings from other tests are gone."""


def test_the_same_query_by_the_same_user_is_embedded_once(user, openai_fake):
    spec = configured_spec()
    first = query_embedding(user_id=user.pk, query="pet shots", spec=spec)
    second = query_embedding(user_id=user.pk, query="pet shots", spec=spec)
    assert openai_fake.embedding_calls == 1
    assert (first.cached, second.cached) == (False, True)
    assert second.vector == pytest.approx(first.vector)


def test_another_user_asking_the_same_query_is_not_answered_from_the_first_ones_cache(
    user, other_user, openai_fake
):
    spec = configured_spec()
    query_embedding(user_id=user.pk, query="pet shots", spec=spec)
    theirs = query_embedding(user_id=other_user.pk, query="pet shots", spec=spec)
    assert openai_fake.embedding_calls == 2
    assert theirs.cached is False


def test_the_cache_key_does_not_contain_the_query(user, openai_fake):
    query_embedding(user_id=user.pk, query="my secret diagnosis", spec=configured_spec())
    keys = [key.decode() for key in get_redis_connection("default").scan_iter("search:qemb:*")]
    assert len(keys) == 1
    assert "secret" not in keys[0]
