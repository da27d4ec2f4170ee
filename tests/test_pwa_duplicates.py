"""The PWA's "Possible duplicates" in Debian's chromium against the live stack (issue #16): two
near-identical captures, embedded by a real Celery worker with the local model, become a pair;
the navigation then offers "Possible duplicates", where "Merge" keeps the older memory with the
tags of both, "Undo" in the notice brings the newer one back, and "Keep both" ends the pair for
good."""

from __future__ import annotations

import pytest
import waffle.utils
from django.core.cache import caches
from playwright.sync_api import expect
from waffle import get_waffle_flag_model

from accounts.models import User
from duplicates.models import Calibration, Pair
from memories.models import Memory
from tests.test_pwa import capture, sign_up
from tests.workers import Worker, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

# Cosine 0.987 with all-MiniLM-L6-v2: above the local model's t_high (0.97).
OLDER = "Pick up the dry cleaning on Friday before 6pm, ticket 4411"
NEWER = "Pick up the dry cleaning on Friday before 6pm, ticket #4411"


@pytest.fixture
def worker(tmp_path):
    """A Celery worker with the default (local) embedding model, as `make run` starts it."""
    worker = Worker({}, tmp_path / "worker.log").start()
    yield worker
    worker.stop()


def near_duplicates_for(user: User) -> None:
    """Puts `user` in the `near_duplicates` flag, for the server and the worker alike (waffle
    caches flags in the shared cache). The flag and the local model's calibration come from
    a data migration, which a transactional test's flush may have emptied."""
    flag, _ = get_waffle_flag_model().objects.get_or_create(
        name="near_duplicates", defaults={"everyone": None, "percent": 0}
    )
    flag.users.add(user)
    Calibration.objects.get_or_create(
        model="all-MiniLM-L6-v2",
        defaults={"t_high": 0.97, "t_low": 0.61, "precision": 0.953, "recall": 0.447, "pairs": 402},
    )
    caches[waffle.utils.get_setting("CACHE_NAME")].delete_pattern("*waffle*")


def live(user: User):
    return Memory.objects.filter(user=user, deleted_at__isnull=True)


def test_merge_undo_and_keep_both(gunicorn_server, page, worker):
    email = sign_up(page, gunicorn_server)
    user = User.objects.get(email=email)
    near_duplicates_for(user)
    capture(page, OLDER, "errands")
    capture(page, NEWER, "friday, laundry")

    # The worker embeds both and finds the pair; the navigation offers it soon after the save.
    wait_until(
        lambda: Pair.objects.filter(user=user, band="duplicate", state="open").exists(),
        timeout=120,
        message=worker.log()[-3000:],
    )
    link = page.get_by_role("link", name="Possible duplicates")
    link.wait_for(timeout=90_000)
    link.click()
    pairs = page.get_by_role("list", name="Possible duplicates")
    pair = pairs.get_by_role("listitem")
    pair.wait_for()
    assert pair.count() == 1
    assert "% alike" in pair.inner_text()
    assert OLDER in pair.get_by_role("region", name="Kept").inner_text()
    assert NEWER in pair.get_by_role("region", name="Newer").inner_text()
    assert pair.locator("ins").inner_text() == "#"  # the one difference, marked

    # Merge: one memory left, with the tags of both; the other deleted as its duplicate.
    pair.get_by_role("button", name="Merge").click()
    notice = page.get_by_role("status", name="Notice")
    undo = notice.get_by_role("button", name="Undo")
    undo.wait_for()
    page.get_by_text("No possible duplicates left").wait_for()
    older = Memory.objects.get(user=user, content=OLDER)
    newer = Memory.objects.get(user=user, content=NEWER)
    assert list(live(user)) == [older]
    assert newer.deleted_at is not None and newer.duplicate_of_id == older.pk
    assert {"errands", "friday", "laundry"} <= set(older.tags)

    page.get_by_role("link", name="Memories").click()
    memories = page.get_by_role("list", name="Memories")
    # The list is the device's copy: the merge (made on the server) arrives by the changes feed.
    expect(memories.get_by_role("listitem")).to_have_count(1)
    shown = memories.get_by_role("listitem").first.inner_text()
    assert all(tag in shown for tag in ("errands", "friday", "laundry")), shown

    # Undo (from the notice, on the list): both memories back as they were, the pair open.
    undo.click()
    memories.get_by_role("listitem").filter(has_text=NEWER).wait_for()
    assert memories.get_by_role("listitem").count() == 2
    assert live(user).count() == 2
    older.refresh_from_db()
    assert "friday" not in older.tags
    assert Pair.objects.get(user=user, band="duplicate").state == "open"

    # Keep both: the pair goes, and stays gone after a reload.
    page.get_by_role("link", name="Possible duplicates").click()
    pairs.get_by_role("listitem").get_by_role("button", name="Keep both").click()
    page.get_by_text("No possible duplicates left").wait_for()
    page.get_by_role("link", name="Possible duplicates").wait_for(state="detached")
    assert Pair.objects.get(user=user, band="duplicate").state == "dismissed"
    assert live(user).count() == 2

    with page.expect_response(lambda r: "/api/v1/near-duplicates?limit=1" in r.url) as answer:
        page.goto(f"{gunicorn_server}/")
    assert answer.value.json()["count"] == 0
    page.get_by_role("list", name="Memories").get_by_role("listitem").nth(1).wait_for()
    assert page.get_by_role("link", name="Possible duplicates").count() == 0
