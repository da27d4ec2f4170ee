"""List pages are capped at 200 (docs/api.md): a larger `limit` is clamped, not refused."""

import pytest

from memories.tests.factories import MemoryFactory

pytestmark = pytest.mark.django_db


def test_a_limit_over_the_cap_gets_a_page_of_the_cap_and_a_next_link(api, user):
    MemoryFactory.create_batch(203, user=user)
    page = api.get("/api/v1/memories?limit=100000").json()
    assert len(page["results"]) == 200
    rest = api.get(page["next"]).json()
    assert len(rest["results"]) == 3 and rest["next"] is None
