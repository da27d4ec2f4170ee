"""The PWA without a network, in Debian's chromium against the live stack (issue #17, "What it
must show" 1, 4 and 5): saves made offline survive a reload and reach the server exactly once,
also when the tab is closed mid-replay; an offline edit of a memory changed on the server
meanwhile opens "Edit conflict", one that met only enrichment merges by itself; a nearly full
or full storage is said, and a save the disk refused still reaches the server; saves one
account left unsent when another signed in reach their own account when it signs in again, and
so does a save made in a tab whose session another tab replaced.

Cutting the network: `context.set_offline(True)` alone does not stop the service worker's
fetches, so every /api/ request is also routed to abort (and unrouted to come back)."""

from __future__ import annotations

import contextlib
import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from core.models import IdempotencyKey
from memories.enrichment import ClaimedMemory, EnrichmentResult, memories_enrichment_apply
from memories.models import Memory
from tests.test_pwa import PENDING, capture, sign_up
from tests.workers import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

TEXTS = [
    "Buy a new bicycle bell at the market",
    "The train to Lyon leaves at 7:42 from platform 3",
    "Idea: a lamp that dims with the sunset",
]
API = "**/api/**"


def abort(route) -> None:
    route.abort()


def go_offline(page) -> None:
    page.context.route(API, abort)
    page.context.set_offline(True)
    expect(page.get_by_role("status", name="Connection")).to_have_text("Offline")


def go_online(page) -> None:
    page.context.unroute(API, abort)
    page.context.set_offline(False)


def app_is_installed(page) -> None:
    """The service worker is active (the app shell precached): a reload works with no network."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")


def memories(page):
    return page.get_by_role("list", name="Memories")


def save_offline(page, text: str) -> None:
    page.get_by_role("textbox", name="Memory").fill(text)
    page.get_by_role("button", name="Save").click()
    item = memories(page).get_by_role("listitem").filter(has_text=text)
    expect(item).to_contain_text("Waiting to sync")


def server_texts(email: str) -> list[str]:
    return sorted(
        Memory.objects.filter(user__email=email, deleted_at__isnull=True).values_list(
            "content", flat=True
        )
    )


def wait_for_exactly(email: str, texts: list[str]) -> None:
    wait_until(
        lambda: len(server_texts(email)) >= len(texts),
        timeout=60,
        message=f"the server has {server_texts(email)}",
    )
    assert server_texts(email) == sorted(texts)


def test_saves_made_offline_survive_a_reload_and_reach_the_server_once(gunicorn_server, page):
    email = sign_up(page, gunicorn_server)
    app_is_installed(page)
    go_offline(page)
    for text in TEXTS:
        save_offline(page, text)
    expect(page.get_by_text("3 waiting to sync")).to_be_visible()

    # A reload with no network: the app opens from the service worker, the saves from the device.
    page.reload()
    items = memories(page).get_by_role("listitem")
    expect(items).to_have_count(3)
    for n, text in enumerate(reversed(TEXTS)):  # newest first
        expect(items.nth(n)).to_contain_text(text)
        expect(items.nth(n)).to_contain_text("Waiting to sync")
    expect(page.get_by_text("3 waiting to sync")).to_be_visible()
    assert server_texts(email) == []

    go_online(page)
    wait_for_exactly(email, TEXTS)
    expect(page.get_by_text(re.compile(r"\d+ waiting to sync"))).to_have_count(0)
    expect(items.filter(has_text=PENDING)).to_have_count(0)
    expect(items).to_have_count(3)
    # Each memory's time is when Save was pressed, not when it reached the server.
    times = list(
        Memory.objects.filter(user__email=email)
        .order_by("created_at")
        .values_list("content", flat=True)
    )
    assert times == TEXTS


def test_a_tab_closed_mid_replay_loses_and_duplicates_nothing(gunicorn_server, page):
    email = sign_up(page, gunicorn_server)
    app_is_installed(page)
    go_offline(page)
    for text in TEXTS:
        save_offline(page, text)

    # Back online, the second save reaches the server but its answer never comes back: the
    # tab is closed while waiting for it.
    posts: list[str] = []
    held = []

    def second_post_never_answered(route):
        request = route.request
        if request.method == "POST" and request.url.endswith("/api/v1/memories"):
            posts.append(request.headers.get("idempotency-key", ""))
            if len(posts) == 2:
                route.fetch()  # the server runs it
                held.append(route)  # and the tab never hears
                return
        route.continue_()

    page.context.unroute(API, abort)
    page.context.route("**/api/v1/memories", second_post_never_answered)
    page.context.set_offline(False)
    # Route handlers run while Playwright is called: wait in the page, not in time.sleep.
    for _ in range(600):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, f"the second save was never sent: {posts}"
    wait_until(lambda: len(server_texts(email)) == 2, timeout=30, message=str(server_texts(email)))
    page.close()
    for route in held:
        # The page, and its request with it, may be gone already.
        with contextlib.suppress(Exception):
            route.abort()
    page.context.unroute("**/api/v1/memories", second_post_never_answered)

    context = page.context
    resent: list[str] = []
    context.on(
        "request",
        lambda request: (
            request.method == "POST"
            and request.url.endswith("/api/v1/memories")
            and resent.append(request.headers.get("idempotency-key", ""))
        ),
    )
    reopened = context.new_page()
    reopened.goto(f"{gunicorn_server}/")
    wait_for_exactly(email, TEXTS)
    # The unanswered save was sent again with the key made at Save, and the server ran it once.
    # By the reopened page or by the service worker's Background Sync, whose requests are not
    # this context's events: so the proof is on the server, which knows no key but those made
    # at Save (a key made anew would have stored the text twice).
    expect(memories(reopened).get_by_role("listitem")).to_have_count(3)
    assert posts[0] not in resent, (posts, resent)  # answered: never sent again
    server_keys = set(
        IdempotencyKey.objects.filter(user__email=email).values_list("key", flat=True)
    )
    assert server_keys == set(posts) | set(resent) and len(server_keys) == 3, (
        posts,
        resent,
        server_keys,
    )
    items = memories(reopened).get_by_role("listitem")
    expect(items).to_have_count(3)
    expect(items.filter(has_text=PENDING)).to_have_count(0)
    expect(reopened.get_by_text(re.compile(r"\d+ waiting to sync"))).to_have_count(0)


def open_memory(page, text: str) -> None:
    memories(page).get_by_role("listitem").filter(has_text=text).get_by_role("link").click()
    page.get_by_role("button", name="Edit").wait_for()


def edit_offline(page, text: str) -> None:
    page.get_by_role("button", name="Edit").click()
    page.get_by_role("textbox", name="Memory").fill(text)
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".memory-content")).to_have_text(text)


def enrich(memory: Memory) -> None:
    """What the worker's enrichment writes (memories_enrichment_apply): AI tags, category and
    summary, one version on."""
    applied = memories_enrichment_apply(
        results=[
            EnrichmentResult(
                memory=ClaimedMemory(
                    id=str(memory.pk),
                    user_id=memory.user_id,
                    text=memory.content,
                    content_hash=memory.content_hash,
                ),
                vector=[1.0] + [0.0] * (settings.EMBEDDING_DIMENSIONS - 1),
                category="errands",
                summary="A parcel to collect.",
                tags=["post"],
            )
        ],
        model="test-model",
        dimensions=settings.EMBEDDING_DIMENSIONS,
    )
    assert applied == {str(memory.pk)}


def test_an_offline_edit_conflicts_with_a_server_edit_but_merges_over_enrichment(
    gunicorn_server, page
):
    email = sign_up(page, gunicorn_server)
    capture(page, "Pick up the parcel at the post office")
    capture(page, "Return the library books")
    parcel = Memory.objects.get(user__email=email, content__startswith="Pick up")
    books = Memory.objects.get(user__email=email, content__startswith="Return")

    # Enrichment only: the offline edit of the text is merged with the AI's fields by itself.
    open_memory(page, "Pick up the parcel")
    go_offline(page)
    edit_offline(page, "Pick up the parcel at the post office on Monday")
    enrich(parcel)
    go_online(page)
    wait_until(
        lambda: Memory.objects.get(pk=parcel.pk).content.endswith("on Monday"),
        timeout=30,
        message="the offline edit never reached the server",
    )
    parcel.refresh_from_db()
    assert parcel.tags == ["post"] and parcel.summary == "A parcel to collect."
    assert parcel.version == 3  # created, enriched, edited
    expect(page.get_by_role("dialog", name="Edit conflict")).to_have_count(0)
    expect(page.locator(".memory-content")).to_have_text(
        "Pick up the parcel at the post office on Monday"
    )

    # The same text changed on the server meanwhile: "Edit conflict" when the edit replays.
    page.get_by_role("link", name="Memories").first.click()
    open_memory(page, "Return the library books")
    go_offline(page)
    edit_offline(page, "Return the library books by Friday")
    Memory.objects.filter(pk=books.pk).update(
        content="Return the library books and pay the fine", version=books.version + 1
    )
    go_online(page)
    dialog = page.get_by_role("dialog", name="Edit conflict")
    expect(dialog).to_be_visible(timeout=30_000)
    expect(dialog).to_contain_text("by Friday")
    expect(dialog).to_contain_text("pay the fine")
    dialog.get_by_role("button", name="Keep mine").click()
    wait_until(
        lambda: Memory.objects.get(pk=books.pk).content == "Return the library books by Friday",
        timeout=30,
        message="the choice never reached the server",
    )


STORAGE_85_PERCENT = """
navigator.storage.estimate = async () => ({ usage: 85 * 1024 * 1024, quota: 100 * 1024 * 1024 });
"""

# Every put into the queue store fails as a full disk does (the copy and drafts still write).
QUEUE_STORE_FULL = """
(() => {
  const put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function (...args) {
    if (this.name === "queue" && !window.__roomAgain) {
      throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
    }
    return put.apply(this, args);
  };
})();
"""


def test_storage_nearly_full_is_said_and_a_save_the_disk_refused_still_arrives(
    gunicorn_server, browser
):
    context = browser.new_context()
    try:
        context.add_init_script(STORAGE_85_PERCENT)
        page = context.new_page()
        sign_up(page, gunicorn_server)
        page.get_by_role("link", name="Settings").click()
        storage = page.get_by_role("region", name="Storage")
        expect(storage).to_contain_text("85 %")
        expect(storage.get_by_role("alert")).to_contain_text("storage")
    finally:
        context.close()

    context = browser.new_context()
    try:
        context.add_init_script(QUEUE_STORE_FULL)
        page = context.new_page()
        email = sign_up(page, gunicorn_server)
        go_offline(page)
        page.get_by_role("textbox", name="Memory").fill("Kept in memory while the disk is full")
        page.get_by_role("button", name="Save").click()
        banner = page.get_by_role("alert").filter(has_text="storage")
        expect(banner).to_be_visible()
        expect(banner.get_by_role("link", name=re.compile("export", re.I))).to_have_attribute(
            "href", "/api/v1/export"
        )
        item = memories(page).get_by_role("listitem").filter(has_text="Kept in memory")
        expect(item).to_contain_text("Waiting to sync")
        expect(page.get_by_text("1 waiting to sync")).to_be_visible()

        go_online(page)
        wait_for_exactly(email, ["Kept in memory while the disk is full"])
        expect(item).not_to_contain_text(PENDING)
    finally:
        context.close()


# A draft as the device stores it (offline/drafts.ts: the `drafts` store of the app's database),
# or null. The app has opened the database (and made its stores) once the list is shown.
STORED_DRAFT = """
(id) => new Promise((resolve, reject) => {
  const open = indexedDB.open("memory-connector");
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const db = open.result;
    const get = db.transaction("drafts").objectStore("drafts").get(id);
    get.onsuccess = () => { db.close(); resolve(get.result ? get.result.fields : null); };
    get.onerror = () => { db.close(); reject(get.error); };
  };
})
"""


def stored_draft(page, draft_id: str, *, until) -> dict | None:
    """The stored draft once `until(draft)` holds (asked every 100 ms, for up to 30 s)."""
    draft = None
    for _ in range(300):
        draft = page.evaluate(STORED_DRAFT, draft_id)
        if until(draft):
            return draft
        page.wait_for_timeout(100)
    raise AssertionError(f"the stored draft {draft_id!r} is still {draft}")


CAPTURE_DRAFT = {
    "Memory": "Ask Marie for the name of that jazz trio from the wedding",
    "Title": "Jazz trio",
    "Tags": "music, wedding",
}


def fill_capture(page, fields: dict[str, str]) -> None:
    for name, value in fields.items():
        page.get_by_role("textbox", name=name).fill(value)


def expect_capture(page, fields: dict[str, str]) -> None:
    for name, value in fields.items():
        expect(page.get_by_role("textbox", name=name)).to_have_value(value)


def test_drafts_come_back_after_a_reload_and_go_once_saved(gunicorn_server, page):
    email = sign_up(page, gunicorn_server)

    # The capture form: typed, not saved, the page reloaded once the debounce wrote it.
    fill_capture(page, CAPTURE_DRAFT)
    stored_draft(page, "new", until=lambda d: d and d["content"] == CAPTURE_DRAFT["Memory"])
    page.reload()
    expect_capture(page, CAPTURE_DRAFT)

    # Save: the memory goes to the server and the draft goes; a reload shows an empty form.
    page.get_by_role("button", name="Save").click()
    memories(page).get_by_role("listitem").filter(has_text="Jazz trio").filter(
        has_not_text=PENDING
    ).wait_for()
    stored_draft(page, "new", until=lambda d: d is None)
    page.reload()
    item = memories(page).get_by_role("listitem").filter(has_text="Jazz trio")
    expect(item).to_have_count(1)
    stored_draft(page, "new", until=lambda d: d is None)
    expect_capture(page, dict.fromkeys(CAPTURE_DRAFT, ""))
    memory = Memory.objects.get(user__email=email)
    assert (memory.content, memory.title, sorted(memory.tags)) == (
        CAPTURE_DRAFT["Memory"],
        "Jazz trio",
        ["music", "wedding"],
    )

    # An edit on the memory's screen: changed, not saved, reloaded: the form comes back with it.
    open_memory(page, "Jazz trio")
    memory_id = page.url.rstrip("/").rsplit("/", 1)[1]
    assert memory_id == str(memory.pk)
    edited = "Ask Marie for the name of that jazz trio from Paul's wedding"
    page.get_by_role("button", name="Edit").click()
    page.get_by_role("textbox", name="Memory").fill(edited)
    stored_draft(page, memory_id, until=lambda d: d and d["content"] == edited)
    page.reload()
    expect(page.get_by_role("textbox", name="Memory")).to_have_value(edited)
    expect(page.get_by_role("textbox", name="Title")).to_have_value("Jazz trio")

    # "Save changes": the edit is queued and sent, the draft goes; a reload shows no form.
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".memory-content")).to_have_text(edited)
    stored_draft(page, memory_id, until=lambda d: d is None)
    wait_until(
        lambda: Memory.objects.get(pk=memory.pk).content == edited,
        timeout=30,
        message="the edit never reached the server",
    )
    page.reload()
    expect(page.get_by_role("button", name="Edit")).to_be_visible()
    expect(page.locator(".memory-content")).to_have_text(edited)
    stored_draft(page, memory_id, until=lambda d: d is None)
    expect(page.get_by_role("textbox", name="Memory")).to_have_count(0)


# The draft's debounce (useDraft: 500 ms) never fires in this page, as when the page is closed
# within it: only the `pagehide` flush can store what was typed.
HOLD_THE_DEBOUNCE = """
() => {
  const setTimeout = window.setTimeout;
  window.setTimeout = (handler, delay, ...args) =>
    delay === 500 ? 0 : setTimeout(handler, delay, ...args);
}
"""


def test_a_draft_typed_just_before_the_page_closes_is_kept_by_pagehide(gunicorn_server, page):
    sign_up(page, gunicorn_server)
    context = page.context
    text = "The plumber's number is on the fridge magnet"
    page.evaluate(HOLD_THE_DEBOUNCE)
    fill_capture(page, {"Memory": text, "Title": "Plumber"})
    assert page.evaluate(STORED_DRAFT, "new") is None  # nothing written while typing
    with page.expect_event("close"):
        page.close(run_before_unload=True)

    reopened = context.new_page()
    reopened.goto(f"{gunicorn_server}/")
    expect_capture(reopened, {"Memory": text, "Title": "Plumber", "Tags": ""})


def test_a_draft_typed_just_before_a_reload_or_navigation_is_kept_by_pagehide(
    gunicorn_server, page
):
    sign_up(page, gunicorn_server)
    text = "The plumber's number is on the fridge magnet"
    page.evaluate(HOLD_THE_DEBOUNCE)
    fill_capture(page, {"Memory": text, "Title": "Plumber"})
    page.reload()
    expect_capture(page, {"Memory": text, "Title": "Plumber"})

    page.evaluate(HOLD_THE_DEBOUNCE)
    fill_capture(page, {"Memory": text + ", behind the takeaway menu"})
    page.goto("about:blank")
    page.goto(f"{gunicorn_server}/")
    expect_capture(page, {"Memory": text + ", behind the takeaway menu", "Title": "Plumber"})


def test_saves_left_unsent_when_another_account_signs_in_reach_their_own_account_later(
    gunicorn_server, page
):
    first = sign_up(page, gunicorn_server)
    app_is_installed(page)
    go_offline(page)
    save_offline(page, TEXTS[0])

    def hold_the_first_save(route) -> None:  # whoever sends it, page or service worker
        if TEXTS[0] in (route.request.post_data or ""):
            route.abort()
        else:
            route.continue_()

    page.context.route(API, hold_the_first_save)
    go_online(page)
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in").wait_for()

    second = sign_up(page, gunicorn_server)
    capture(page, TEXTS[1])
    # The first account's save is neither shown to the second nor counted for it.
    expect(memories(page).get_by_role("listitem")).to_have_count(1)
    expect(page.get_by_text(re.compile(r"\d+ waiting to sync"))).to_have_count(0)
    page.get_by_role("button", name="Sign out").click()
    page.context.unroute(API, hold_the_first_save)

    page.get_by_label("Email").fill(first)
    page.get_by_label("Password").fill("a long and unusual passphrase")
    page.get_by_role("button", name="Sign in").click()
    wait_for_exactly(first, [TEXTS[0]])
    item = memories(page).get_by_role("listitem").filter(has_text=TEXTS[0])
    expect(item).not_to_contain_text(PENDING)
    assert server_texts(second) == [TEXTS[1]]


def test_a_save_made_in_a_tab_of_an_account_another_tab_replaced_goes_to_its_own_account(
    gunicorn_server, page
):
    first = sign_up(page, gunicorn_server)
    second = UserFactory(email=f"second-{first}", password="another long passphrase")
    # Another tab of this browser signs in as `second`: the one session cookie is second's now.
    signed_in = page.context.request.post(
        f"{gunicorn_server}/api/v1/auth/login",
        data={"email": second.email, "password": "another long passphrase"},
    )
    assert signed_in.ok, signed_in.text()

    # This tab still shows `first`, and saves: the server refuses it for second's session.
    page.get_by_role("textbox", name="Memory").fill(TEXTS[0])
    page.get_by_role("button", name="Save").click()
    page.get_by_role("button", name="Sign in").wait_for()  # told the session is another's
    assert server_texts(second.email) == []

    page.get_by_label("Email").fill(first)
    page.get_by_label("Password").fill("a long and unusual passphrase")
    page.get_by_role("button", name="Sign in").click()
    wait_for_exactly(first, [TEXTS[0]])
    assert server_texts(second.email) == []
