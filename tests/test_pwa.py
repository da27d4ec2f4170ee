"""The PWA (frontend/) as people get it: built, served at `/` by the live gunicorn stack, and
driven in Debian's chromium through the accessible names of ../shared/PWA.md."""

from __future__ import annotations

import re
import uuid

import pytest
import requests
from django.conf import settings

from tests.test_browser_api_docs import csp_violations

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module", autouse=True)
def _the_pwa_is_built():
    index = settings.FRONTEND_DIST / "index.html"
    assert index.is_file(), "the PWA is not built: `make frontend` (make test builds it first)"


def test_every_client_route_gets_the_app_and_hashed_assets_are_cached_for_a_year(
    gunicorn_server,
):
    index = (settings.FRONTEND_DIST / "index.html").read_text()
    for path in ["/", "/memories", "/search", "/settings", "/some/deep/route"]:
        response = requests.get(f"{gunicorn_server}{path}", timeout=10)
        assert response.status_code == 200, path
        assert response.text == index, path
        assert "no-cache" in response.headers["Cache-Control"], path
    assets = re.findall(r'(?:src|href)="(/assets/[^"]+)"', index)
    assert any(asset.endswith(".js") for asset in assets), assets
    for asset in assets:
        response = requests.get(f"{gunicorn_server}{asset}", timeout=10)
        assert response.status_code == 200, asset
        assert "immutable" in response.headers["Cache-Control"], asset
        assert "max-age=315360000" in response.headers["Cache-Control"], asset
    # The API, admin and static files keep their own answers.
    missing = requests.get(f"{gunicorn_server}/api/v1/no-such-thing", timeout=10)
    assert missing.status_code == 404
    assert missing.headers["Content-Type"] == "application/problem+json"
    assert requests.get(f"{gunicorn_server}/admin/login/", timeout=10).status_code == 200


def sign_up(page, base_url: str) -> str:
    email = f"pwa-{uuid.uuid4().hex[:8]}@example.com"
    page.goto(f"{base_url}/")
    page.get_by_role("button", name="Create account").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("a long and unusual passphrase")
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("list", name="Memories").wait_for()
    return email


PENDING = re.compile("Waiting to sync|Syncing|Needs attention")


def capture(page, text: str, tags: str = "") -> None:
    """Saves a memory and waits until it reached the server: Save queues it on the device and
    lists it at once with "Waiting to sync", which goes once the replay has sent it."""
    page.get_by_role("textbox", name="Memory").fill(text)
    page.get_by_role("textbox", name="Tags").fill(tags)
    page.get_by_role("button", name="Save").click()
    page.get_by_role("list", name="Memories").get_by_role("listitem").filter(has_text=text).filter(
        has_not_text=PENDING
    ).wait_for()


def test_sign_up_capture_three_memories_and_find_them_listed(gunicorn_server, page):
    violations, policy = csp_violations(page, f"{gunicorn_server}/", "body")
    assert "script-src 'self'" in policy
    assert violations == [], violations
    sign_up(page, gunicorn_server)
    assert page.get_by_role("status", name="Connection").inner_text() == "Online"
    for name in ["Memories", "Search", "Inbox", "Settings"]:
        assert page.get_by_role("link", name=name).count() == 1, name

    texts = [
        "The tomato soup recipe from grandma: roast the tomatoes first",
        "Call the dentist about the crown on Thursday",
        "An idea: a bicycle rack that folds into the wall",
    ]
    for n, text in enumerate(texts):
        capture(page, text, tags=f"first, batch{n}")

    items = page.get_by_role("list", name="Memories").get_by_role("listitem")
    assert items.count() == 3
    assert texts[-1] in items.first.inner_text()  # newest first

    # A client route survives a reload, and the list comes back from the server.
    page.goto(f"{gunicorn_server}/memories")
    page.get_by_role("list", name="Memories").get_by_role("listitem").first.wait_for()
    assert page.get_by_role("list", name="Memories").get_by_role("listitem").count() == 3

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in").wait_for()


def test_a_wrong_password_shows_the_servers_reason(gunicorn_server, page, browser):
    email = sign_up(page, gunicorn_server)
    other = browser.new_context().new_page()
    other.goto(f"{gunicorn_server}/")
    other.get_by_label("Email").fill(email)
    other.get_by_label("Password").fill("not the passphrase at all")
    other.get_by_role("button", name="Sign in").click()
    other.get_by_text("No active account with this email and password.").wait_for()
    other.context.close()


def test_search_finds_a_memory_by_its_words_and_keeps_the_query_in_the_address(
    gunicorn_server, page
):
    sign_up(page, gunicorn_server)
    capture(page, "The tomato soup recipe from grandma: roast the tomatoes first")
    capture(page, "Call the dentist about the crown on Thursday")

    page.get_by_role("link", name="Search").click()
    page.get_by_role("combobox", name="Mode").select_option("keyword")
    page.get_by_role("searchbox", name="Search memories").fill("tomatoes")
    results = page.get_by_role("list", name="Results")
    results.get_by_role("listitem").first.wait_for()
    assert results.get_by_role("listitem").count() == 1
    assert "tomato soup" in results.inner_text()

    # The query lives in the address: a reload answers the same.
    assert "q=tomatoes" in page.url
    page.reload()
    page.get_by_role("list", name="Results").get_by_role("listitem").first.wait_for()
    assert page.get_by_role("list", name="Results").get_by_role("listitem").count() == 1
    assert page.get_by_role("searchbox", name="Search memories").input_value() == "tomatoes"

    page.get_by_role("searchbox", name="Search memories").fill("bicycle")
    page.get_by_text("No memories match").wait_for()


def test_the_app_is_installable_and_its_files_are_served_compressed(gunicorn_server):
    manifest = requests.get(f"{gunicorn_server}/manifest.webmanifest", timeout=10)
    assert manifest.status_code == 200
    body = manifest.json()
    assert body["name"] == "Memory Connector" and body["start_url"] == "/"
    assert body["display"] == "standalone"
    sizes = {icon["sizes"] for icon in body["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in body["icons"]:
        assert requests.get(f"{gunicorn_server}{icon['src']}", timeout=10).status_code == 200

    worker = requests.get(f"{gunicorn_server}/sw.js", timeout=10)
    assert worker.status_code == 200
    assert "javascript" in worker.headers["Content-Type"]
    assert "immutable" not in worker.headers.get("Cache-Control", "")  # updates must be seen

    index = (settings.FRONTEND_DIST / "index.html").read_text()
    script = re.search(r'src="(/assets/[^"]+\.js)"', index).group(1)
    for encoding in ("br", "gzip"):
        response = requests.get(
            f"{gunicorn_server}{script}", headers={"Accept-Encoding": encoding}, timeout=10
        )
        assert response.headers["Content-Encoding"] == encoding
        assert (
            int(response.headers["Content-Length"])
            < (settings.FRONTEND_DIST / script[1:]).stat().st_size / 2
        )


def test_the_service_worker_serves_the_app_shell_but_never_the_api_or_admin(gunicorn_server, page):
    page.goto(f"{gunicorn_server}/")
    page.get_by_role("button", name="Sign in").wait_for()
    scope = page.evaluate("navigator.serviceWorker.ready.then((r) => r.scope)")
    assert scope == f"{gunicorn_server}/"
    page.reload()  # now controlled by the worker
    page.wait_for_function("navigator.serviceWorker.controller !== null")

    app_route = page.goto(f"{gunicorn_server}/search")
    assert app_route.from_service_worker
    for path in ["/api/docs/", "/admin/login/", "/api/v1/health"]:
        response = page.goto(f"{gunicorn_server}{path}")
        assert not response.from_service_worker, path
        assert response.status == 200, path
