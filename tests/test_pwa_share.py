"""Sharing into the PWA (issue 17, item 6; docs/pwa.md "Share into the app"): the service
worker turns what Android's share sheet POSTs to /share into a queued save, with no network,
and the bookmarklet's GET /share into one too; each reaches the server exactly once."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from urllib.parse import urlencode

import pytest

from memories.models import Memory
from tests.test_pwa import sign_up
from tests.workers import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

READ_QUEUE = """() => new Promise((resolve, reject) => {
  const opening = indexedDB.open("memory-connector");
  opening.onerror = () => reject(opening.error);
  opening.onsuccess = () => {
    const db = opening.result;
    const all = db.transaction("queue").objectStore("queue").getAll();
    all.onsuccess = () => {
      db.close();
      resolve(all.result.map((e) => ({
        operation: e.operation, payload: e.payload, memoryId: e.memoryId,
      })));
    };
    all.onerror = () => reject(all.error);
  };
})"""

# As Android's share sheet sends a page from Chrome: a POST navigation to the share action,
# multipart, the address inside `text`. (A page's `fetch("/share")` would not do: a redirect the
# worker answers a fetch with is followed past the worker, to the network that is cut.)
SHARE_AS_ANDROID = """({title, text}) => {
  const form = document.createElement("form");
  form.method = "POST";
  form.action = "/share";
  form.enctype = "multipart/form-data";
  for (const [name, value] of Object.entries({title, text, url: ""})) {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.append(input);
  }
  document.body.append(form);
  form.submit();
}"""


def share_as_android(page, *, title: str, text: str) -> str:
    """Shares as Android does and returns the address the app opened on."""
    page.evaluate(SHARE_AS_ANDROID, {"title": title, "text": text})
    page.wait_for_url("**/?shared=local*")
    return page.url


def controlled_by_the_worker(page) -> None:
    """Waits for the service worker, then reloads so it controls the page."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.get_by_role("list", name="Memories").wait_for()


def cut_the_network(context) -> None:
    """Offline for the page and for the service worker (set_offline alone leaves its fetches)."""
    context.set_offline(True)
    context.route("**/api/**", lambda route: route.abort())


def restore_the_network(context) -> None:
    context.unroute("**/api/**")
    context.set_offline(False)


def queued(page) -> list[dict]:
    return page.evaluate(READ_QUEUE)


def test_a_link_shared_from_android_while_offline_is_queued_once_and_sent_once_online(
    gunicorn_server, page
):
    email = sign_up(page, gunicorn_server)
    controlled_by_the_worker(page)
    link = f"https://example.com/soup-{uuid.uuid4().hex[:8]}"
    cut_the_network(page.context)

    opened = share_as_android(page, title="Grandma's soup", text=link)

    entries = queued(page)
    assert len(entries) == 1, entries
    (entry,) = entries
    assert entry["operation"] == "create"
    assert entry["payload"] == {"content": "Grandma's soup", "kind": "link", "url": link}
    assert opened.endswith("/?shared=" + entry["memoryId"].replace(":", "%3A")), opened
    assert not Memory.objects.filter(user__email=email).exists()

    # The app opened on it, offline: the list shows it waiting.
    page.get_by_role("list", name="Memories").get_by_role("listitem").filter(
        has_text="Grandma's soup"
    ).wait_for()
    page.get_by_text("1 waiting to sync").wait_for()

    restore_the_network(page.context)
    wait_until(
        lambda: Memory.objects.filter(user__email=email, url=link).exists(),
        timeout=60,
        message="the shared link never reached the server",
    )
    wait_until(lambda: queued(page) == [], timeout=30, message=json.dumps(queued(page)))
    memory = Memory.objects.get(user__email=email)  # exactly one, no duplicate
    assert (memory.url, memory.kind, memory.content) == (link, "link", "Grandma's soup")


def dispatch_sync(context, base_url: str) -> None:
    """Fires the worker's `sync` event as the browser does (DevTools), from a page of the origin
    without the app (Django's 404 under /static/, which the worker leaves alone)."""
    blank = context.new_page()
    blank.goto(f"{base_url}/static/no-such-file.txt")
    cdp = context.new_cdp_session(blank)
    registrations: list[dict] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(event["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    # Playwright hands over events only while it is called: wait through it.
    wait_until(
        lambda: blank.wait_for_timeout(100) or registrations,
        timeout=30,
        message="no service worker registration",
    )
    cdp.send(
        "ServiceWorker.dispatchSyncEvent",
        {
            "origin": base_url,
            "registrationId": registrations[0]["registrationId"],
            "tag": "memory-connector-sync",
            "lastChance": False,
        },
    )


def test_the_worker_sends_a_queued_share_by_background_sync_with_the_app_closed(
    gunicorn_server, page
):
    email = sign_up(page, gunicorn_server)
    controlled_by_the_worker(page)
    link = f"https://example.com/bg-{uuid.uuid4().hex[:8]}"
    context = page.context
    cut_the_network(context)
    share_as_android(page, title="", text=f"Read later {link}")
    assert len(queued(page)) == 1

    # The app's page is gone: only the worker can send it, on the `sync` event the worker
    # registered when it queued the share. Chromium fires it when the network is back; should
    # it have spent its attempt while the network was cut (its retry comes minutes later), the
    # test fires the event itself, as the browser would.
    page.close()
    restore_the_network(context)
    try:
        wait_until(lambda: Memory.objects.filter(user__email=email).exists(), timeout=20)
    except AssertionError:
        dispatch_sync(context, gunicorn_server)
    wait_until(
        lambda: Memory.objects.filter(user__email=email, url=link).exists(),
        timeout=60,
        message="the worker's sync never sent the shared link",
    )
    memory = Memory.objects.get(user__email=email)  # exactly one
    assert (memory.content, memory.kind) == ("Read later", "link")


def test_the_bookmarklet_saves_the_page_it_was_clicked_on(gunicorn_server, page):
    email = sign_up(page, gunicorn_server)
    controlled_by_the_worker(page)
    link = f"https://example.com/article-{uuid.uuid4().hex[:8]}"

    page.goto(f"{gunicorn_server}/share?{urlencode({'url': link, 'title': 'An article'})}")

    page.wait_for_url("**/?shared=local*")
    wait_until(
        lambda: Memory.objects.filter(user__email=email, url=link).exists(),
        timeout=60,
        message="the bookmarked page never reached the server",
    )
    wait_until(lambda: queued(page) == [], timeout=30, message=json.dumps(queued(page)))
    memory = Memory.objects.get(user__email=email)
    assert (memory.content, memory.kind) == ("An article", "link")


APP = Path(__file__).resolve().parent.parent / "frontend" / "src" / "App.tsx"


@pytest.mark.skipif(
    "ShareScreen" not in APP.read_text(), reason="App.tsx does not route /share yet"
)
def test_the_bookmarklet_works_without_the_service_worker(gunicorn_server, browser):
    context = browser.new_context(service_workers="block")
    try:
        page = context.new_page()
        email = sign_up(page, gunicorn_server)
        link = f"https://example.com/no-worker-{uuid.uuid4().hex[:8]}"

        page.goto(f"{gunicorn_server}/share?{urlencode({'url': link, 'title': 'No worker'})}")

        page.wait_for_url("**/?shared=local*")
        wait_until(
            lambda: Memory.objects.filter(user__email=email, url=link).exists(),
            timeout=60,
            message="the app's /share route never sent it",
        )
        page.reload()  # a reload of the list never queues it again
        page.get_by_role("list", name="Memories").wait_for()
        assert Memory.objects.filter(user__email=email).count() == 1
        assert queued(page) == []
    finally:
        context.close()
