"""Search candidates do not carry whole memories' content: ranking and snippets read a
bounded prefix, and only the memories answered are loaded whole."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from memories.services import memory_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("searches_unlimited")]

CONTENT_COLUMN = '"memories_memory"."content"'


def search_queries(api, **params) -> tuple[dict, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = api.get("/api/v1/search", params)
    assert response.status_code == 200, response.content
    return response.json(), [query["sql"] for query in queries]


def selects_whole_content(sql: str) -> bool:
    """The column itself in the select list, not a bounded LEFT(...) of it."""
    select_list = sql.split(" FROM ", 1)[0]
    return CONTENT_COLUMN in re.sub(r"LEFT\(" + re.escape(CONTENT_COLUMN), "", select_list)


def test_keyword_snippets_are_made_from_a_bounded_prefix_of_the_content(api, user):
    long_text = "tomato soup recipe " + "filler words here " * 5000
    memory_create(user=user, content=long_text)
    body, queries = search_queries(api, q="tomato", mode="keyword")
    assert body["results"][0]["memory"]["content"] == long_text  # the answer is whole
    assert "<mark>tomato</mark>" in body["results"][0]["snippet"]
    ranking = [sql for sql in queries if "ts_headline" in sql]
    assert ranking
    bounded = re.compile(r"ts_headline\([^,]+, LEFT\(" + re.escape(CONTENT_COLUMN) + r", \d+\)")
    assert all(bounded.search(sql) for sql in ranking), ranking


def test_a_match_past_the_snippet_prefix_is_still_found(api, user):
    memory_create(user=user, content="filler words here " * 5000 + "zucchini")
    body, _ = search_queries(api, q="zucchini", mode="keyword")
    assert len(body["results"]) == 1
    assert body["results"][0]["snippet"]


def test_hybrid_loads_whole_content_only_for_the_memories_it_answers(api, user, openai_fake):
    for n in range(12):
        memory_create(user=user, content=f"garden note {n} " + "compost " * 2000)
    body, queries = search_queries(api, q="garden", mode="hybrid", limit=2)
    assert len(body["results"]) == 2
    assert all(hit["memory"]["content"].startswith("garden note") for hit in body["results"])
    whole = [sql for sql in queries if selects_whole_content(sql)]
    assert whole, "the answered memories are loaded whole"
    for sql in whole:  # by id, the answered ones only
        ids = re.search(r'"memories_memory"\."id" IN \(([^)]*)\)', sql)
        assert ids and ids.group(1).count(",") + 1 <= 2, sql
