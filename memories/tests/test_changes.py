"""GET /api/v1/memories/changes: the feed a client that keeps a copy (the PWA) syncs by
(API.md; docs/api.md, "Changes feed")."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from memories.enrichment import (
    EnrichmentResult,
    memories_claim,
    memories_enrichment_apply,
    memories_mark_failed,
)
from memories.models import Memory
from memories.selectors import memory_changes
from memories.services import memory_merge_into, memory_unmerge
from memories.tests.factories import MemoryFactory
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db

URL = "/api/v1/memories/changes"


@pytest.fixture
def no_settle(settings):
    """Tests of which write shows up: the cursor follows the last row at once (the settle
    window has tests of its own below)."""
    settings.CHANGES_SETTLE_SECONDS = 0


def changes(client, since: str | None = None, limit: int | None = None) -> dict:
    params = {}
    if since is not None:
        params["since"] = since
    if limit is not None:
        params["limit"] = limit
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return response.json()


def sync(client, since: str | None = None, limit: int | None = None) -> tuple[list, list, str]:
    """Every page from `since`, as a client does: the ids changed and deleted, the cursor."""
    changed, deleted = [], []
    while True:
        body = changes(client, since, limit)
        changed += [memory["id"] for memory in body["changes"]]
        deleted += body["deleted"]
        since = body["cursor"]
        if not body["more"]:
            return changed, deleted, since


def save(client, content: str) -> dict:
    response = client.post("/api/v1/memories", {"content": content}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_full_sync_pages_through_every_live_memory_once(api, user):
    with time_machine.travel(timezone.now() - dt.timedelta(hours=1), tick=True):
        MemoryFactory(user=user, deleted_at=timezone.now())  # deleted before the sync
    memories = [MemoryFactory(user=user) for _ in range(5)]

    first = changes(api, limit=2)
    assert first["more"] is True and first["deleted"] == []
    assert [m["id"] for m in first["changes"]] == [str(m.id) for m in memories[:2]]
    changed, deleted, _ = sync(api, since=first["cursor"], limit=2)

    assert [m["id"] for m in first["changes"]] + changed == [str(m.id) for m in memories]
    assert deleted == []


def test_the_page_holds_memories_as_the_api_shows_them(api, user):
    memory = MemoryFactory(user=user, tags=["a"])
    body = changes(api)
    assert body["changes"] == [api.get(f"/api/v1/memories/{memory.id}").json()]
    assert body["more"] is False and isinstance(body["cursor"], str)


def test_a_memory_saved_after_the_cursor_is_sent(api, no_settle):
    save(api, "before")
    _, _, cursor = sync(api)
    saved = save(api, "after")
    assert sync(api, cursor)[:2] == ([saved["id"]], [])


def test_an_edit_is_sent_with_its_new_version(api, user, no_settle):
    memory = MemoryFactory(user=user)
    MemoryFactory(user=user)
    _, _, cursor = sync(api)
    api.patch(f"/api/v1/memories/{memory.id}", {"title": "new"}, format="json", HTTP_IF_MATCH="1")

    body = changes(api, cursor)
    assert [(m["id"], m["title"], m["version"]) for m in body["changes"]] == [
        (str(memory.id), "new", 2)
    ]


def test_a_delete_is_sent_in_deleted(api, user, no_settle):
    memory, other = MemoryFactory(user=user), MemoryFactory(user=user)
    _, _, cursor = sync(api)
    assert api.delete(f"/api/v1/memories/{memory.id}").status_code == 204

    body = changes(api, cursor)
    assert body["deleted"] == [str(memory.id)] and body["changes"] == []
    # A full sync leaves it out altogether.
    assert sync(api)[:2] == ([str(other.id)], [])


def test_a_restore_is_sent_in_changes(api, user, no_settle):
    memory = MemoryFactory(user=user)
    _, _, cursor = sync(api)
    api.delete(f"/api/v1/memories/{memory.id}")
    _, deleted, cursor = sync(api, cursor)
    assert deleted == [str(memory.id)]
    assert api.post(f"/api/v1/memories/{memory.id}/restore").status_code == 200
    assert sync(api, cursor)[:2] == ([str(memory.id)], [])


def test_enrichment_is_sent_with_the_ai_tags(api, user, no_settle):
    memory = MemoryFactory(user=user, content="plant tomatoes in may")
    _, _, cursor = sync(api)
    claimed = memories_claim(limit=10, memory_ids=[str(memory.id)])
    result = EnrichmentResult(claimed[0], [1.0] + [0.0] * 7, "idea", "a summary", ["garden"])
    assert memories_enrichment_apply(results=[result], model="test-model", dimensions=8)

    body = changes(api, cursor)
    assert [(m["id"], m["tags"], m["enrichment_status"]) for m in body["changes"]] == [
        (str(memory.id), ["garden"], "enriched")
    ]


def test_an_enrichment_that_gives_up_is_sent(api, user, no_settle):
    memory = MemoryFactory(user=user)
    _, _, cursor = sync(api)
    assert memories_mark_failed(memory_ids=[str(memory.id)], error="refused") == 1
    body = changes(api, cursor)
    assert [(m["id"], m["enrichment_status"]) for m in body["changes"]] == [
        (str(memory.id), "failed")
    ]


def test_a_near_duplicate_merge_and_its_undo_are_sent(api, user, no_settle):
    kept = MemoryFactory(user=user, tags=["a"])
    merged = MemoryFactory(user=user, tags=["b"])
    _, _, cursor = sync(api)

    added = memory_merge_into(user=user, kept_id=kept.id, merged_id=merged.id)
    changed, deleted, cursor = sync(api, cursor)
    assert (changed, deleted) == ([str(kept.id)], [str(merged.id)])

    memory_unmerge(user=user, kept_id=kept.id, merged_id=merged.id, added_tags=added)
    changed, deleted, _ = sync(api, cursor)
    assert sorted(changed) == sorted([str(kept.id), str(merged.id)]) and deleted == []


def test_a_page_counts_changes_and_deleted_together(api, user, no_settle):
    memories = [MemoryFactory(user=user) for _ in range(3)]
    _, _, cursor = sync(api)
    for memory in memories[:2]:
        api.delete(f"/api/v1/memories/{memory.id}")
    api.patch(
        f"/api/v1/memories/{memories[2].id}", {"title": "x"}, format="json", HTTP_IF_MATCH="1"
    )

    first = changes(api, cursor, limit=2)
    assert first["deleted"] == [str(m.id) for m in memories[:2]] and first["changes"] == []
    assert first["more"] is True
    second = changes(api, first["cursor"], limit=2)
    assert [m["id"] for m in second["changes"]] == [str(memories[2].id)]
    assert second["more"] is False


def decoded(cursor: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


def test_the_last_page_cursor_stays_the_settle_window_behind_now(api, user, settings):
    settings.CHANGES_SETTLE_SECONDS = 10
    MemoryFactory(user=user)
    cursor = changes(api)["cursor"]
    after = timezone.now()
    assert dt.datetime.fromisoformat(decoded(cursor)["t"]) <= after - dt.timedelta(seconds=10)


def test_a_row_committed_late_within_the_settle_window_is_still_sent(api, user, settings):
    """A transaction that stamped its row before a reader passed that time, and committed
    after the read, is sent the next time (a plain `updated_at > last row` would skip it)."""
    settings.CHANGES_SETTLE_SECONDS = 10
    start = timezone.now()
    with time_machine.travel(start, tick=True):
        seen = MemoryFactory(user=user)
        assert sync(api)[0] == [str(seen.id)]
    with time_machine.travel(start + dt.timedelta(seconds=20), tick=True):
        _, _, cursor = sync(api)
        read_at = timezone.now()
        # Committed now, stamped 5 s ago: as a slow request's transaction would be.
        late = MemoryFactory(user=user)
        Memory.objects.filter(pk=late.pk).update(updated_at=read_at - dt.timedelta(seconds=5))

        changed, _, cursor = sync(api, cursor)
        assert changed == [str(late.id)]
    with time_machine.travel(start + dt.timedelta(minutes=5), tick=True):
        assert sync(api, cursor)[:2] == ([str(late.id)], [])  # a repeat of the last seconds
        _, _, cursor = sync(api, cursor)
        assert sync(api, cursor)[:2] == ([], [])  # settled: not sent again


def test_a_run_of_full_pages_is_not_capped_and_its_last_cursor_is(api, user, settings):
    """A busy user (more recent rows than a page) still moves on; the run's last cursor is
    capped by when the run began, so a row committed late during the run is not lost."""
    settings.CHANGES_SETTLE_SECONDS = 10
    memories = [MemoryFactory(user=user) for _ in range(3)]
    first = changes(api, limit=1)
    assert first["more"] is True
    assert decoded(first["cursor"])["t"] == memories[0].updated_at.isoformat()

    changed, _, cursor = sync(api, first["cursor"], limit=1)
    assert changed == [str(m.id) for m in memories[1:]]
    run_started_at = dt.datetime.fromisoformat(decoded(first["cursor"])["r"])
    assert dt.datetime.fromisoformat(decoded(cursor)["t"]) <= run_started_at - dt.timedelta(
        seconds=10
    )


def test_a_cursor_issued_more_than_30_days_ago_is_410(api, user):
    MemoryFactory(user=user)
    cursor = changes(api)["cursor"]
    with time_machine.travel(timezone.now() + dt.timedelta(days=29, hours=23)):
        assert api.get(URL, {"since": cursor}).status_code == 200
    with time_machine.travel(timezone.now() + dt.timedelta(days=30, minutes=1)):
        body = assert_problem(api.get(URL, {"since": cursor}), 410, "cursor_expired")
    assert "without `since`" in body["detail"]


def test_a_full_sync_of_old_memories_is_not_expired_by_their_age(api, user):
    """A cursor's age is when it was issued, not its position: an untouched memory of last
    year is a position older than 30 days, and the full sync must page past it."""
    year_ago = timezone.now() - dt.timedelta(days=365)
    with time_machine.travel(year_ago):
        old = [MemoryFactory(user=user) for _ in range(2)]
    first = changes(api, limit=1)
    second = changes(api, first["cursor"], limit=1)
    assert [first["changes"][0]["id"], second["changes"][0]["id"]] == [str(m.id) for m in old]


def encode(document) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")


def cursor_document(**changes) -> dict:
    """A cursor as the API makes it, issued now, with `changes`."""
    now = timezone.now().isoformat()
    nil = "00000000-0000-0000-0000-000000000000"
    return {"v": 1, "t": now, "i": nil, "r": now, "m": 0, "f": 0, **changes}


def test_a_cursor_made_as_the_api_makes_it_is_read(api):
    assert changes(api, encode(cursor_document()))["more"] is False


@pytest.mark.parametrize(
    "since",
    [
        "garbage",
        "not base64!",
        encode({"t": "2026-01-01T00:00:00+00:00", "i": "x"}),
        encode([1, 2]),
        {"v": 2},
        {"r": "2999-01-01T00:00:00+00:00", "m": 1},
        {"t": "2026-11-01T00:00:00"},
        {"i": "not a uuid"},
        {"m": 2},
        {"extra": 1},
    ],
    ids=[
        "garbage",
        "not-base64",
        "missing-keys",
        "not-an-object",
        "other-version",
        "from-the-future",
        "naive",
        "bad-id",
        "bad-flag",
        "extra-key",
    ],
)
def test_a_cursor_the_api_did_not_make_is_410(api, since):
    if isinstance(since, dict):
        since = encode(cursor_document(**since))
    assert_problem(api.get(URL, {"since": since}), 410, "cursor_expired")


def test_another_users_memories_never_appear(api, user, other_user, client_for, no_settle):
    other = client_for(other_user)
    mine = MemoryFactory(user=user)
    theirs = MemoryFactory(user=other_user)
    _, _, their_cursor = sync(other)
    assert sync(api)[:2] == ([str(mine.id)], [])

    other.delete(f"/api/v1/memories/{theirs.id}")
    MemoryFactory(user=other_user)
    api.patch(f"/api/v1/memories/{mine.id}", {"title": "x"}, format="json", HTTP_IF_MATCH="1")
    # Their cursor, sent by me, reads my rows after its position, and only mine.
    assert sync(api, their_cursor)[:2] == ([str(mine.id)], [])


@pytest.mark.parametrize("limit", ["0", "abc", "1001", "-1", "1.5"])
def test_a_bad_limit_is_400(api, limit):
    body = assert_problem(api.get(URL, {"limit": limit}), 400, "invalid")
    assert "limit" in body["errors"]


def test_a_bad_limit_is_400_even_with_a_bad_cursor(api):
    """Found by the schema fuzzer: the cursor's 410 hid the limit's 400."""
    body = assert_problem(api.get(URL, {"since": "not a cursor", "limit": "abc"}), 400, "invalid")
    assert list(body["errors"]) == ["limit"]
    assert_problem(api.get(URL, {"since": "not a cursor", "limit": "5"}), 410, "cursor_expired")


def test_the_feed_needs_authentication(anon_client):
    assert anon_client.get(URL).status_code == 401


FULL_SYNC_SIZE = 5_000


def bulk_memories(user, count: int) -> list[Memory]:
    return Memory.objects.bulk_create(
        Memory(user=user, content=f"memory number {n}", content_hash=f"{n:064x}")
        for n in range(count)
    )


def test_a_full_sync_of_5000_memories_sends_each_once_in_constant_queries(api, user):
    """Issue 17 item 3 (the PWA's first sync of 5,000 memories; timed in the benchmarks)."""
    ids = {str(memory.id) for memory in bulk_memories(user, FULL_SYNC_SIZE)}
    seen, queries_per_page, since = [], [], None
    while True:
        with CaptureQueriesContext(connection) as queries:
            body = changes(api, since, limit=1000)
        queries_per_page.append(len(queries))
        seen += [memory["id"] for memory in body["changes"]]
        since = body["cursor"]
        if not body["more"]:
            break
    assert len(seen) == FULL_SYNC_SIZE and set(seen) == ids
    assert len(queries_per_page) == 5
    # One SELECT of the page; the first request also records the token's use.
    assert len(set(queries_per_page[1:])) == 1, queries_per_page
    assert max(queries_per_page) <= 3, queries_per_page


def test_a_page_is_a_range_scan_of_the_users_index(user, other_user):
    """No sort of all the user's rows: the index hands them over in the feed's order."""
    bulk_memories(user, 2_000)
    bulk_memories(other_user, 2_000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE memories_memory")
    first = memory_changes(user=user, since=None, limit=500, now=timezone.now())
    for since in (None, first.cursor):
        with CaptureQueriesContext(connection) as queries:
            memory_changes(user=user, since=since, limit=500, now=timezone.now())
        (sql,) = [query["sql"] for query in queries.captured_queries]
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "Index Scan using memory_user_changes" in plan, plan
        assert "Sort" not in plan, plan


def test_a_memory_deleted_during_a_full_sync_is_sent_in_deleted(api, user):
    first, second = MemoryFactory(user=user), MemoryFactory(user=user)
    page = changes(api, limit=1)
    assert [m["id"] for m in page["changes"]] == [str(first.id)]
    api.delete(f"/api/v1/memories/{first.id}")

    changed, deleted, _ = sync(api, page["cursor"], limit=1)
    assert (changed, deleted) == ([str(second.id)], [str(first.id)])
