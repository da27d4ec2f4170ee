"""Candidates after enrichment (issue 16): found with the local model and the shipped
calibration, stored once per pair, in two bands, URL-aware; nothing at all for users outside
the flag or with a model that has no calibration."""

import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from duplicates.models import Pair
from duplicates.services import candidates_find, candidates_on_embedded
from duplicates.tests.helpers import enrich_all, save, set_flag
from enrichment.services import enrich_batch
from memories.embeddings import EmbeddedMemory, embeddings_of_memories
from memories.services import memory_update
from memories.signals import memories_embedded

pytestmark = pytest.mark.django_db

CLEANING = "Pick up the dry cleaning on Friday before 6pm, ticket number 4411"
CLEANING_AGAIN = "Pick up the dry-cleaning on Friday before 6 pm, ticket number 4411"
SOUP = "Recipe: tomato soup with roasted garlic and basil"
SALAD = "Recipe: tomato salad with basil and mozzarella"  # 0.64 alike to SOUP: related
PLUMBER = "Call the plumber about the leaking kitchen tap"


def pair_of(a, b) -> Pair:
    first, second = sorted([a.pk, b.pk])
    return Pair.objects.get(first_id=first, second_id=second)


def test_near_identical_memories_become_one_candidate_pair(user, api, flag_on):
    older = save(user, CLEANING, tags=["errands"])
    newer = save(user, CLEANING_AGAIN, tags=["friday"])
    save(user, PLUMBER)
    enrich_all()

    body = api.get("/api/v1/near-duplicates").json()

    assert body["count"] == 1
    [pair] = body["results"]
    assert pair["memory"]["id"] == str(older.pk)  # the older one is the one a merge keeps
    assert pair["similar"]["id"] == str(newer.pk)
    assert 0.97 <= pair["similarity"] <= 1
    assert pair["same_link"] is False
    assert Pair.objects.count() == 1  # the plumber is alike to nothing


def test_a_pair_is_stored_once_whichever_side_finds_it_and_however_often(user, flag_on):
    a = save(user, CLEANING)
    b = save(user, CLEANING_AGAIN)
    enrich_all()  # both embedded in one batch: each finds the other
    embedded = embeddings_of_memories(
        model="all-MiniLM-L6-v2", after=None, user_ids=[user.pk], limit=10
    )
    candidates_find(model="all-MiniLM-L6-v2", memories=embedded)  # and again, from each side
    candidates_find(model="all-MiniLM-L6-v2", memories=embedded[::-1])

    pair = pair_of(a, b)
    assert Pair.objects.count() == 1
    assert pair.first_id < pair.second_id
    assert pair.band == Pair.Band.DUPLICATE


def test_similar_but_not_the_same_is_related_on_the_memory_not_a_candidate(user, api, flag_on):
    soup = save(user, SOUP)
    salad = save(user, SALAD)
    enrich_all()

    assert api.get("/api/v1/near-duplicates").json() == {"count": 0, "results": []}
    related = api.get(f"/api/v1/memories/{soup.pk}/related").json()
    assert [r["memory"]["id"] for r in related] == [str(salad.pk)]
    assert 0.61 <= related[0]["similarity"] < 0.97
    assert related[0]["near_duplicate"] is False
    assert pair_of(soup, salad).band == Pair.Band.RELATED


def test_the_same_link_is_a_candidate_whatever_the_comment(user, api, flag_on):
    save(user, "Great article about rust lifetimes", url="https://example.com/rust?utm_source=x")
    save(user, "Must read later for the team", url="http://www.example.com/rust/")
    save(user, "Another page of the same site", url="https://example.com/go")
    enrich_all()

    [pair] = api.get("/api/v1/near-duplicates").json()["results"]
    assert pair["same_link"] is True
    assert pair["similarity"] < 0.97  # the texts alone would not make them one
    assert {pair["memory"]["content"], pair["similar"]["content"]} == {
        "Great article about rust lifetimes",
        "Must read later for the team",
    }


def test_an_edit_that_makes_them_different_drops_the_open_pair(user, api, flag_on):
    a = save(user, CLEANING)
    b = save(user, CLEANING_AGAIN)
    enrich_all()
    assert api.get("/api/v1/near-duplicates").json()["count"] == 1

    memory_update(user=user, memory_id=b.pk, expected_version=2, changes={"content": PLUMBER})
    enrich_all()

    assert api.get("/api/v1/near-duplicates").json()["count"] == 0
    assert not Pair.objects.filter(first_id__in=[a.pk, b.pk]).exists()


def test_another_users_memories_are_never_paired(user, other_user, api, flag_on):
    save(user, CLEANING)
    save(other_user, CLEANING_AGAIN)
    enrich_all()

    assert Pair.objects.count() == 0
    assert api.get("/api/v1/near-duplicates").json()["count"] == 0


def _enrichment_queries(user, text: str) -> list[str]:
    save(user, text)
    save(user, text + ".")
    with CaptureQueriesContext(connection) as queries:
        assert enrich_batch().enriched == 2
    return [query["sql"] for query in queries.captured_queries]


def test_flag_off_computes_nothing_and_costs_no_query(user):
    set_flag(everyone=False)
    # A first batch loads the model and prototypes, seeds the AI budgets in Redis and puts
    # the flag in waffle's cache: once per process or cache lifetime, not per save.
    _enrichment_queries(user, PLUMBER)
    flag_off = _enrichment_queries(user, CLEANING)
    memories_embedded.disconnect(dispatch_uid="near-duplicate-candidates")
    try:
        without_the_feature = _enrichment_queries(user, SOUP)
    finally:
        memories_embedded.connect(candidates_on_embedded, dispatch_uid="near-duplicate-candidates")

    assert len(flag_off) == len(without_the_feature)
    assert not [sql for sql in flag_off if "duplicates_" in sql or "<=>" in sql]
    assert Pair.objects.count() == 0


def test_at_zero_percent_users_outside_cost_no_query_either(user):
    set_flag(everyone=None, percent=0)
    _enrichment_queries(user, PLUMBER)  # warm, as above
    queries = _enrichment_queries(user, CLEANING)
    assert not [sql for sql in queries if "duplicates_" in sql or "<=>" in sql]
    assert Pair.objects.count() == 0


def test_a_listed_user_gets_candidates_and_the_others_none(user, other_user, api, client_for):
    from waffle import get_waffle_flag_model

    get_waffle_flag_model().objects.get(name="near_duplicates").users.add(user)
    set_flag(percent=0)
    for owner in (user, other_user):
        save(owner, CLEANING)
        save(owner, CLEANING_AGAIN)
    enrich_all()

    assert api.get("/api/v1/near-duplicates").json()["count"] == 1
    assert Pair.objects.filter(user=other_user).count() == 0
    # A pair computed while the flag was on is not listed once the user is out of it.
    set_flag(everyone=False)
    assert api.get("/api/v1/near-duplicates").json()["count"] == 0


def test_a_model_without_calibration_finds_nothing_and_says_so(user, flag_on, caplog):
    memory = save(user, CLEANING)
    vector = [1.0] + [0.0] * 383
    with caplog.at_level(logging.WARNING, logger="duplicates.services"):
        written = candidates_find(
            model="text-embedding-3-large",
            memories=[EmbeddedMemory(user.pk, str(memory.pk), vector)],
        )
    assert written == 0
    assert "no calibration for the embedding model text-embedding-3-large" in caplog.text


def test_the_list_is_most_alike_first_and_limited(user, api, flag_on):
    save(user, CLEANING)
    save(user, CLEANING_AGAIN)
    save(user, "Dentist appointment on Monday at 9am with Dr. Rossi")
    save(user, "Dentist appointment on Thursday at 3pm with Dr. Rossi")
    enrich_all()

    body = api.get("/api/v1/near-duplicates", {"limit": 1}).json()
    assert body["count"] == 2
    assert [r["memory"]["content"] for r in body["results"]] == [CLEANING]
    bad = api.get("/api/v1/near-duplicates", {"limit": 0})
    assert bad.status_code == 400
    assert bad["Content-Type"] == "application/problem+json"
