"""Every screen of the PWA audited by axe-core (issue #14): no serious or critical violation, in
the light and the dark colour scheme, on a phone (360x740) and a desktop (1280x800) window; and
a screenshot of each screen at both sizes (light), kept in docs/screenshots/ for the README."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import User
from duplicates.models import Pair
from memories import services
from memories.models import Memory
from reminders.tests.factories import ReminderFactory
from tests.test_pwa import PENDING, capture
from tests.test_pwa_duplicates import NEWER, OLDER, near_duplicates_for
from tests.test_pwa_offline import (
    QUEUE_STORE_FULL,
    app_is_installed,
    go_offline,
    go_online,
    save_offline,
)

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"
VIEWPORTS = [{"width": 360, "height": 740}, {"width": 1280, "height": 800}]
BLOCKING = {"serious", "critical"}
# axe is served as if it were one of the app's own files, so the audit runs under the app's
# real Content-Security-Policy (script-src 'self'): no bypass_csp, no inline script.
# The app's service worker answers only precached files and navigations, so this request
# reaches the network and the context's route.
AXE_PATH = "/__a11y__/axe.min.js"
PASSPHRASE = "a long and unusual passphrase"


@pytest.fixture(scope="module", autouse=True)
def _the_pwa_is_built():
    index = settings.FRONTEND_DIST / "index.html"
    assert index.is_file(), "the PWA is not built: `make frontend` (make test builds it first)"
    assert AXE.is_file(), "axe-core is not installed: `make frontend` (npm ci) installs it"


@pytest.fixture
def page(browser, gunicorn_server):
    """A fresh context whose requests for AXE_PATH get axe-core from node_modules."""
    context = browser.new_context(viewport=VIEWPORTS[0], color_scheme="light", locale="en-US")
    axe = AXE.read_bytes()
    context.route(
        f"{gunicorn_server}{AXE_PATH}",
        lambda route: route.fulfill(
            status=200, body=axe, headers={"Content-Type": "text/javascript"}
        ),
    )
    page = context.new_page()
    yield page
    context.close()


def load_axe(page) -> None:
    """axe-core into the page, once per document (a full load drops it). Offline audits load it
    before the network is cut: the cut aborts every request, this one too."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(url=AXE_PATH)
        page.wait_for_function("() => typeof window.axe === 'object'")


def serious_violations(page) -> list[dict]:
    load_axe(page)
    results = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']}).then(r => ({"
        " passed: r.passes.length,"
        " violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " helpUrl: v.helpUrl, targets: v.nodes.map(n => ({target: n.target,"
        " summary: n.failureSummary}))}))}))"
    )
    assert results["passed"] > 10, "axe-core checked next to nothing: is the screen drawn?"
    return [v for v in results["violations"] if v["impact"] in BLOCKING]


def report(found: dict[str, list[dict]]) -> str:
    lines = []
    for where, violations in found.items():
        for violation in violations:
            lines.append(
                f"{where}: {violation['id']} ({violation['impact']}): {violation['help']}"
                f" <{violation['helpUrl']}>"
            )
            for node in violation["targets"]:
                summary = " ".join((node["summary"] or "").split())
                lines.append(f"    {json.dumps(node['target'])}: {summary}")
    return "\n".join(lines)


def audit(page, screen: str, *, show=None) -> None:
    """axe on the screen as it is now, light and dark, at both sizes; a screenshot (light) of
    each size. `show`: a locator scrolled into view before the screenshot."""
    found: dict[str, list[dict]] = {}
    try:
        for viewport in VIEWPORTS:
            page.set_viewport_size(viewport)
            size = f"{viewport['width']}x{viewport['height']}"
            page.emulate_media(color_scheme="light")
            if show is not None:
                show.scroll_into_view_if_needed()
            page.evaluate("() => document.fonts.ready")
            page.screenshot(path=SCREENSHOTS / f"{screen}-{size}.png", full_page=False)
            for scheme in ("light", "dark"):
                page.emulate_media(color_scheme=scheme)
                violations = serious_violations(page)
                if violations:
                    found[f"{screen} {size} {scheme}"] = violations
    finally:
        page.emulate_media(color_scheme="light")
        page.set_viewport_size(VIEWPORTS[0])
    assert not found, "axe-core found serious or critical violations:\n" + report(found)


def sign_up(page, base_url: str, email: str) -> None:
    """tests.test_pwa.sign_up with a fixed address (the database is emptied after each test),
    so the screenshots show the same top bar every run."""
    page.goto(f"{base_url}/")
    page.get_by_role("button", name="Create account").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSPHRASE)
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("list", name="Memories").wait_for()


def test_sign_in_and_create_account(gunicorn_server, page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{gunicorn_server}/")
    page.get_by_role("button", name="Sign in").wait_for()
    audit(page, "sign-in")

    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Create an account").wait_for()
    audit(page, "create-account")


def test_memories_detail_edit_conflict_merge_and_undo(gunicorn_server, page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    email = "ada@example.com"
    sign_up(page, gunicorn_server, email)
    capture(page, "The tomato soup recipe from grandma: roast the tomatoes first", "cooking")
    capture(page, "Call the dentist about the crown on Thursday", "health, todo")
    capture(page, "Pick up the parcel at the post office", "errands")
    memories = page.get_by_role("list", name="Memories")
    audit(page, "memories", show=page.get_by_role("heading", name="Your memories"))

    # Save with only spaces: the form says what is missing.
    page.get_by_role("textbox", name="Memory").fill("   ")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("alert").wait_for()
    audit(page, "capture-error")

    memories.get_by_role("listitem").filter(has_text="Pick up the parcel").get_by_role(
        "link"
    ).click()
    page.get_by_role("button", name="Edit").wait_for()
    audit(page, "memory")

    page.get_by_role("button", name="Edit").click()
    page.get_by_role("button", name="Save changes").wait_for()
    audit(page, "memory-edit")

    # Someone else saves the same memory meanwhile; this save then conflicts.
    user = User.objects.get(email=email)
    memory = Memory.objects.get(user=user, content__startswith="Pick up the parcel")
    services.memory_update(
        user=user,
        memory_id=memory.pk,
        expected_version=memory.version,
        changes={"content": "Pick up the parcel at the post office before 6"},
    )
    page.get_by_role("textbox", name="Memory").fill(
        "Pick up the parcel at the post office on Monday"
    )
    page.get_by_role("button", name="Save changes").click()
    dialog = page.get_by_role("dialog", name="Edit conflict")
    dialog.wait_for()
    audit(page, "conflict")

    dialog.get_by_role("button", name="Merge").click()
    merged = dialog.get_by_role("textbox", name="Merged text")
    merged.wait_for()
    audit(page, "conflict-merge", show=merged)

    merged.fill("Pick up the parcel at the post office on Monday before 6")
    dialog.get_by_role("button", name="Save merge").click()
    dialog.wait_for(state="detached")

    page.get_by_role("button", name="Delete").click()
    undo = page.get_by_role("status", name="Notice").get_by_role("button", name="Undo")
    undo.wait_for()
    # The notice stays while focus is inside it (else it hides after 15 s, mid-audit).
    undo.focus()
    audit(page, "undo")


def test_search_inbox_settings_and_not_found(gunicorn_server, page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    sign_up(page, gunicorn_server, "grace@example.com")
    capture(page, "The tomato soup recipe from grandma: roast the tomatoes first", "cooking")
    capture(page, "Tomatoes grow best against a south-facing wall", "garden")
    capture(page, "Call the dentist about the crown on Thursday", "health")

    page.get_by_role("link", name="Search").click()
    page.get_by_role("combobox", name="Mode").select_option("keyword")
    page.get_by_role("searchbox", name="Search memories").fill("tomatoes")
    results = page.get_by_role("list", name="Results")
    results.get_by_role("listitem").nth(1).wait_for()
    page.wait_for_function("() => !document.querySelector('[aria-busy=\"true\"]')")
    audit(page, "search")

    page.get_by_role("searchbox", name="Search memories").fill("bicycle")
    page.get_by_text("No memories match").wait_for()
    page.wait_for_function("() => !document.querySelector('[aria-busy=\"true\"]')")
    audit(page, "search-empty")

    # Two due reminders, one delivered late, the way beat leaves them.
    grace = User.objects.get(email="grace@example.com")
    now = timezone.now()
    for memory, late in zip(
        Memory.objects.filter(user=grace).order_by("created_at")[:2], (0, 2), strict=True
    ):
        ReminderFactory(
            user=grace,
            memory=memory,
            remind_at=now - dt.timedelta(hours=late),
            state="due",
            delivered_at=now,
        )
    page.reload()
    page.get_by_role("link", name="Inbox 2").click()
    page.get_by_role("list", name="Due reminders").get_by_role("listitem").nth(1).wait_for()
    audit(page, "inbox")
    first = page.get_by_role("list", name="Due reminders").get_by_role("listitem").first
    first.get_by_role("button", name="Snooze").click()
    page.get_by_role("menu").wait_for()
    audit(page, "inbox-snooze")
    page.keyboard.press("Escape")

    page.get_by_role("link", name="Settings").click()
    page.get_by_role("meter", name="Memories stored").wait_for()
    page.get_by_role("list", name="API tokens").get_by_role("listitem").first.wait_for()
    page.get_by_role("textbox", name="Token name").fill("laptop")
    page.get_by_role("button", name="Create token").click()
    page.get_by_role("textbox", name="New token").wait_for()
    audit(page, "settings")

    page.goto(f"{gunicorn_server}/some/unknown/route")
    page.get_by_role("heading", name="Page not found").wait_for()
    audit(page, "not-found")


def pair_of(user: User, a: Memory, b: Memory, similarity: float, band: str) -> Pair:
    """A pair as the worker stores it (no worker here): `first` has the lower id."""
    first, second = sorted((a, b), key=lambda memory: str(memory.pk))
    return Pair.objects.create(
        user=user,
        first=first,
        second=second,
        similarity=similarity,
        band=band,
        model="all-MiniLM-L6-v2",
    )


def test_possible_duplicates_and_related_memories(gunicorn_server, page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    sign_up(page, gunicorn_server, "alan@example.com")
    alan = User.objects.get(email="alan@example.com")
    near_duplicates_for(alan)
    capture(page, OLDER, "errands")
    capture(page, NEWER, "friday, laundry")
    capture(page, "Drop the winter coats at the cleaners in October", "errands")
    older, newer, coats = (
        Memory.objects.get(user=alan, content=text)
        for text in (OLDER, NEWER, "Drop the winter coats at the cleaners in October")
    )
    pair_of(alan, older, newer, 0.9874, "duplicate")
    pair_of(alan, older, coats, 0.71, "related")

    page.reload()
    page.get_by_role("link", name="Possible duplicates").click()
    pairs = page.get_by_role("list", name="Possible duplicates")
    pairs.get_by_role("listitem").first.wait_for()
    audit(page, "duplicates")

    pairs.get_by_role("region", name="Kept").get_by_role("link").click()
    related = page.get_by_role("list", name="Related memories")
    related.get_by_role("listitem").nth(1).wait_for()
    audit(page, "memory-related", show=related)


REFUSED = {
    "type": "https://memory-connector.example/problems/invalid",
    "title": "Invalid input.",
    "status": 400,
    "detail": "content: Ensure this field has no more than 20000 characters.",
    "code": "invalid",
}


def test_offline_waiting_offline_results_and_needs_attention(gunicorn_server, page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    sign_up(page, gunicorn_server, "ida@example.com")
    capture(page, "The tomato soup recipe from grandma: roast the tomatoes first", "cooking")
    capture(page, "Tomatoes grow best against a south-facing wall", "garden")
    memories = page.get_by_role("list", name="Memories")
    # Installed: the service worker has the app shell (the Search screen's code too) and
    # controls the page once reloaded, as on any visit after the first.
    app_is_installed(page)
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    memories.get_by_role("listitem").nth(1).wait_for()

    # Offline: two saves wait on the device.
    load_axe(page)
    go_offline(page)
    save_offline(page, "Book the car's service before the long weekend")
    save_offline(page, "Idea: a bird feeder the squirrels cannot reach")
    page.get_by_text("2 waiting to sync").wait_for()
    page.get_by_role("button", name="Sync now").wait_for()
    audit(page, "offline-waiting", show=page.get_by_role("heading", name="Your memories"))

    # Search answers from the device.
    page.get_by_role("link", name="Search").click()
    page.get_by_role("searchbox", name="Search memories").fill("tomatoes")
    results = page.get_by_role("list", name="Results")
    results.get_by_role("listitem").nth(1).wait_for()
    page.get_by_text("Offline results").wait_for()
    page.wait_for_function("() => !document.querySelector('[aria-busy=\"true\"]')")
    audit(page, "search-offline")

    # Back online, the server refuses the first save (400 problem+json): "Needs attention", with
    # the server's reason, and its "Fix" form open.
    refused: list[str] = []

    def refuse_the_first_create(route):
        request = route.request
        if request.method == "POST" and request.url.endswith("/api/v1/memories") and not refused:
            refused.append(request.headers.get("idempotency-key", ""))
            route.fulfill(
                status=400, content_type="application/problem+json", body=json.dumps(REFUSED)
            )
            return
        route.fallback()

    page.context.route("**/api/v1/memories", refuse_the_first_create)
    page.get_by_role("link", name="Memories").first.click()
    go_online(page)
    item = memories.get_by_role("listitem").filter(has_text="Book the car's service")
    item.filter(has_text="Needs attention").wait_for(timeout=30_000)
    memories.get_by_role("listitem").filter(has_text="a bird feeder").filter(
        has_not_text=PENDING
    ).wait_for(timeout=30_000)
    item.get_by_text(REFUSED["detail"]).wait_for()
    page.get_by_text("1 waiting to sync").wait_for()
    item.get_by_role("button", name="Fix").click()
    fix = item.get_by_role("textbox", name="Fix the text")
    fix.wait_for()
    audit(page, "offline-needs-attention", show=fix)
    page.context.unroute("**/api/v1/memories", refuse_the_first_create)


def test_storage_full_banner(gunicorn_server, page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.context.add_init_script(QUEUE_STORE_FULL)
    sign_up(page, gunicorn_server, "joan@example.com")
    load_axe(page)
    go_offline(page)
    page.get_by_role("textbox", name="Memory").fill("Kept in memory while the disk is full")
    page.get_by_role("button", name="Save").click()
    banner = page.get_by_role("alert").filter(has_text="storage")
    banner.wait_for()
    page.get_by_text("1 waiting to sync").wait_for()
    audit(page, "storage-full", show=banner)
