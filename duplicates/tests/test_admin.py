"""The operators' view of near-duplicates: read-only lists, and a warning when the active
embedding model has no calibration (after a re-embedding)."""

import pytest

from duplicates.models import Calibration, Merge, Pair
from duplicates.tests.helpers import enrich_all, save
from memories.models import EmbeddingModel

pytestmark = pytest.mark.django_db


def test_pairs_merges_and_calibrations_are_listed_and_read_only(staff_client, user, flag_on, api):
    save(user, "Pick up the dry cleaning on Friday before 6pm, ticket number 4411")
    save(user, "Pick up the dry-cleaning on Friday before 6 pm, ticket number 4411")
    enrich_all()
    pair = Pair.objects.get()
    assert api.post(f"/api/v1/near-duplicates/{pair.pk}/merge").status_code == 200
    merge = Merge.objects.get()

    for url in (
        "/admin/duplicates/pair/?band__exact=duplicate&state__exact=merged",
        "/admin/duplicates/merge/",
        f"/admin/duplicates/merge/{merge.pk}/change/",
        "/admin/duplicates/calibration/",
    ):
        response = staff_client.get(url)
        assert response.status_code == 200, url
        assert b"has no calibration" not in response.content
    assert staff_client.get("/admin/duplicates/pair/add/").status_code == 403
    listed = staff_client.get("/admin/duplicates/pair/").content.decode()
    assert str(pair.pk) in listed


def test_the_calibrations_page_warns_when_the_active_model_has_none(staff_client):
    EmbeddingModel.objects.create(
        provider="openai", name="text-embedding-3-large", dimensions=384, state="active"
    )
    response = staff_client.get("/admin/duplicates/calibration/")
    assert response.status_code == 200
    assert "The active embedding model text-embedding-3-large has no calibration" in (
        response.content.decode()
    )
    assert Calibration.objects.filter(model="all-MiniLM-L6-v2").exists()
