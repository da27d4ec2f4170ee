"""The PWA's everyday flows in Debian's chromium against the live stack (issue #14): capture,
find by meaning (a real Celery worker embeds with the local model), edit, delete and undo; and
the same memory edited in two browsers, settled by each choice of "Edit conflict"."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from memories.models import Memory
from tests.test_pwa import capture, sign_up
from tests.workers import Worker, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

TEXTS = [
    "The tomato soup recipe from grandma: roast the tomatoes first",
    "Call the dentist about the crown on Thursday",
    "An idea: a bicycle rack that folds into the wall",
]


@pytest.fixture
def worker(tmp_path):
    """A Celery worker with the default (local) embedding model, as `make run` starts it."""
    worker = Worker({}, tmp_path / "worker.log").start()
    yield worker
    worker.stop()


def memories_list(page):
    return page.get_by_role("list", name="Memories")


def open_memory(page, text: str) -> None:
    memories_list(page).get_by_role("listitem").filter(has_text=text).get_by_role("link").click()
    page.get_by_role("button", name="Edit").wait_for()


def search_by_meaning(page, query: str, *, timeout: float = 90) -> str:
    """The first result of a semantic search for `query`. A gunicorn worker's first query
    embedding loads the model and may pass the 2 s timeout (the answer then says "Keyword
    only"); ask again until the model answers, as a person would."""
    page.get_by_role("link", name="Search").click()
    page.get_by_role("combobox", name="Mode").select_option("semantic")
    box = page.get_by_role("searchbox", name="Search memories")
    results = page.get_by_role("list", name="Results")
    deadline = time.monotonic() + timeout
    while True:
        box.fill("")
        box.fill(query)
        page.wait_for_function(
            "() => !document.querySelector('[aria-busy=\"true\"]')", timeout=30_000
        )
        page.wait_for_timeout(600)  # past the debounce, and the answer drawn
        if (
            page.get_by_text("Keyword only").count() == 0
            and results.get_by_role("listitem").count()
        ):
            return results.get_by_role("listitem").first.inner_text()
        assert time.monotonic() < deadline, "semantic search never answered without degrading"


def test_capture_find_by_meaning_edit_delete_and_undo(gunicorn_server, page, worker):
    email = sign_up(page, gunicorn_server)
    for text in TEXTS:
        capture(page, text)
    items = memories_list(page).get_by_role("listitem")
    assert [items.nth(i).inner_text().splitlines()[0] for i in range(3)] == TEXTS[::-1]

    # The worker embeds the three memories; then a search with none of their words finds one.
    wait_until(
        lambda: Memory.objects.filter(user__email=email, enrichment_status="enriched").count() == 3,
        timeout=120,
        message=worker.log()[-3000:],
    )
    first = search_by_meaning(page, "what should I cook for dinner")
    assert "tomato soup" in first, first

    # Edit one: the detail screen, "Edit", "Save changes".
    before = Memory.objects.get(user__email=email, content__startswith="The tomato soup")
    page.get_by_role("list", name="Results").get_by_role("link").first.click()
    page.get_by_role("button", name="Edit").click()
    page.get_by_role("textbox", name="Memory").fill(
        "Grandma's tomato soup: roast the tomatoes, add basil"
    )
    page.get_by_role("button", name="Save changes").click()
    page.get_by_role("button", name="Edit").wait_for()  # the form closes at once: edit queued
    assert shown_text(page) == "Grandma's tomato soup: roast the tomatoes, add basil"
    # Once the replay sent it, the edit's answer is one version on (the worker then enriches
    # the new text: one more, which the changes feed may bring in too).
    page.wait_for_function(
        "(v) => Number(document.querySelector('.facts dd:nth-of-type(2)').textContent) >= v",
        arg=before.version + 1,
    )
    memory = Memory.objects.get(pk=before.pk)
    assert memory.content == "Grandma's tomato soup: roast the tomatoes, add basil"

    # Delete it, then Undo from the notice on the list.
    page.get_by_role("button", name="Delete").click()
    notice = page.get_by_role("status", name="Notice")
    notice.get_by_role("button", name="Undo").wait_for()
    assert memories_list(page).get_by_role("listitem").filter(has_text="add basil").count() == 0
    # The delete is queued, then sent by the replay.
    wait_until(
        lambda: Memory.objects.filter(pk=before.pk, deleted_at__isnull=False).exists(),
        timeout=30,
        message="the queued delete never reached the server",
    )

    notice.get_by_role("button", name="Undo").click()
    memories_list(page).get_by_role("listitem").filter(has_text="add basil").wait_for()
    assert re.search(r"Restored", notice.inner_text())
    memory.refresh_from_db()
    assert memory.deleted_at is None
    assert memories_list(page).get_by_role("listitem").count() == 3


# Two browsers, one memory: A saves first, B's save (of the version both opened) conflicts.


@pytest.fixture
def two_editors(gunicorn_server, browser, page):
    email = sign_up(page, gunicorn_server)
    capture(page, "Pick up the parcel at the post office")
    memory = Memory.objects.get(user__email=email)
    other = browser.new_context().new_page()
    other.goto(f"{gunicorn_server}/")
    other.get_by_label("Email").fill(email)
    other.get_by_label("Password").fill("a long and unusual passphrase")
    other.get_by_role("button", name="Sign in").click()
    memories_list(other).get_by_role("listitem").first.wait_for()

    for editor in (page, other):
        open_memory(editor, "Pick up the parcel")
        editor.get_by_role("button", name="Edit").click()

    page.get_by_role("textbox", name="Memory").fill(
        "Pick up the parcel at the post office before 6"
    )
    page.get_by_role("button", name="Save changes").click()
    page.get_by_role("button", name="Edit").wait_for()
    # A's edit is queued: it must reach the server before B's, or B would not conflict.
    wait_until(
        lambda: Memory.objects.get(pk=memory.pk).version == 2,
        timeout=30,
        message="A's queued edit never reached the server",
    )

    other.get_by_role("textbox", name="Memory").fill(
        "Pick up the parcel at the post office on Monday"
    )
    other.get_by_role("button", name="Save changes").click()
    dialog = other.get_by_role("dialog", name="Edit conflict")
    dialog.wait_for()
    # Both versions are shown, their differences marked.
    assert "before 6" in dialog.inner_text() and "on Monday" in dialog.inner_text()
    assert dialog.locator("ins").count() and dialog.locator("del").count()
    yield other, dialog, memory
    other.context.close()


def shown_text(page) -> str:
    return page.locator(".memory-content").inner_text()


@pytest.mark.parametrize(
    "choice,text,version",
    [
        ("Keep mine", "Pick up the parcel at the post office on Monday", 3),
        ("Keep theirs", "Pick up the parcel at the post office before 6", 2),  # nothing sent
    ],
)
def test_conflict_keep_mine_or_theirs_ends_with_that_text(two_editors, choice, text, version):
    other, dialog, memory = two_editors
    dialog.get_by_role("button", name=choice).click()
    dialog.wait_for(state="detached")
    expect(other.locator(".memory-content")).to_have_text(text)
    # The choice is queued, then sent (or, for "Keep theirs", nothing is).
    wait_until(
        lambda: Memory.objects.filter(pk=memory.pk, content=text, version=version).exists(),
        timeout=30,
        message=f"the server never had {text!r} at version {version}",
    )


def test_conflict_merge_saves_the_text_the_user_wrote(two_editors):
    other, dialog, memory = two_editors
    dialog.get_by_role("button", name="Merge").click()
    merged = dialog.get_by_role("textbox", name="Merged text")
    assert "before 6" in merged.input_value() and "on Monday" in merged.input_value()
    merged.fill("Pick up the parcel at the post office on Monday before 6")
    dialog.get_by_role("button", name="Save merge").click()
    dialog.wait_for(state="detached")
    merged_text = "Pick up the parcel at the post office on Monday before 6"
    expect(other.locator(".memory-content")).to_have_text(merged_text)
    wait_until(
        lambda: Memory.objects.filter(pk=memory.pk, content=merged_text, version=3).exists(),
        timeout=30,
        message="the merge never reached the server",
    )
