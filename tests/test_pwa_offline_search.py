"""Issue 17 item 3, in Debian's chromium against the live gunicorn: a user with 5,000 memories,
the PWA's first full sync of them into the device copy (timed in the browser), then, with the
network cut for the page and its service worker, the list, a memory and search answer from the
device ("Offline results"), and 50 varied queries are timed through the search worker.

The figures go to bench/results/offline.json (key "sync_and_search") and docs/benchmarks.md
("Offline (issue 17)"); the targets (full sync <= 5 s, search p95 <= 30 ms) are not asserted
here, where a busy CI machine could miss them: only sanity bounds are.

The timings come from the page's own modules through `window.__mcOffline`
(frontend/src/search/devHooks.ts), which the page installs when localStorage has
`mc-dev-hooks` = "1" (set here by an init script)."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import random
import re
import statistics
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from bench.enrich import memory_fields
from memories.models import Memory
from memories.normalization import content_hash

pytestmark = pytest.mark.django_db(transaction=True)

RESULTS = Path(__file__).resolve().parent.parent / "bench" / "results" / "offline.json"
MEMORIES = 5000
QUERIES = 50
SEED = 17
PASSWORD = "a long and unusual passphrase"
TAGS = ["work", "reading", "ideas", "health", "travel", "recipes", "family", "garden"]
# Sanity bounds only (the targets are 5 s and 30 ms, reported rather than asserted).
SYNC_SANE_MS = 60_000
SEARCH_P95_SANE_MS = 500


@pytest.fixture(scope="module", autouse=True)
def _the_pwa_is_built():
    index = settings.FRONTEND_DIST / "index.html"
    assert index.is_file(), "the PWA is not built: `make frontend` (make test builds it first)"


def make_user_with_memories(count: int) -> tuple[str, list[dict]]:
    """A user with `count` memories written straight to the database (bulk_create, distinct
    content hashes), the newest first in the returned fields."""
    from accounts.models import User

    email = f"offline-{random.randrange(10**8):08d}@example.com"
    user = User.objects.create_user(email, PASSWORD)
    rng = random.Random(SEED)
    now = timezone.now()
    fields = memory_fields(count, seed=SEED)
    rows = []
    for i, memory in enumerate(fields):
        memory["tags"] = rng.sample(TAGS, rng.randint(0, 2))
        rows.append(
            Memory(
                user=user,
                content_hash=content_hash(memory["content"], memory["url"]),
                created_at=now - dt.timedelta(minutes=i),
                **memory,
            )
        )
    Memory.objects.bulk_create(rows, batch_size=1000)
    return email, fields


def varied_queries(fields: list[dict], n: int) -> list[str]:
    """Words, prefixes, one-letter typos, word pairs and a miss, drawn from the memories."""
    rng = random.Random(SEED + 1)
    words = sorted(
        {w.lower() for m in fields[:500] for w in re.findall(r"[A-Za-z]{4,}", m["content"])}
    )
    queries: list[str] = []
    for _ in range(n // 2):  # whole words
        queries.append(rng.choice(words))
    for _ in range(n // 6):  # the word being typed
        word = rng.choice(words)
        queries.append(word[: rng.randint(2, min(5, len(word)))])
    for _ in range(n // 6):  # one typo
        word = rng.choice([w for w in words if len(w) >= 5])
        at = rng.randrange(1, len(word))
        queries.append(word[:at] + rng.choice("aeiouxz") + word[at + 1 :])
    while len(queries) < n - 2:  # two words of one memory
        memory_words = re.findall(r"[A-Za-z]{4,}", rng.choice(fields)["content"])
        if len(memory_words) >= 2:
            queries.append(" ".join(rng.sample(memory_words, 2)).lower())
    queries += ["zyzzyva", "qwxv"]
    return queries


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def nav(page, name: str):
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name)


def go_offline(context) -> None:
    """Cuts the page and its service worker: set_offline alone leaves the worker's fetches."""
    context.route("**/api/**", lambda route: route.abort())
    context.set_offline(True)


def save_results(section: dict) -> None:
    """Writes this test's figures into bench/results/offline.json, keeping bench/offline.py's."""
    RESULTS.parent.mkdir(exist_ok=True)
    try:
        data = json.loads(RESULTS.read_text())
    except (OSError, ValueError):
        data = {}
    data["sync_and_search"] = section
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")


def test_5000_memories_sync_to_the_device_and_list_detail_and_search_answer_offline(
    gunicorn_server, browser
):
    email, fields = make_user_with_memories(MEMORIES)
    context = browser.new_context()
    context.add_init_script("window.localStorage.setItem('mc-dev-hooks', '1')")
    page = context.new_page()
    try:
        page.goto(f"{gunicorn_server}/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("list", name="Memories").wait_for()

        # The search screen starts the search worker and installs the hooks.
        nav(page, "Search").click()
        page.get_by_role("searchbox", name="Search memories").wait_for()
        page.wait_for_function("window.__mcOffline !== undefined")

        # The app pulls the copy by itself once signed in; let that finish, then time a first
        # full sync of our own from an empty copy.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if page.evaluate("window.__mcOffline.copyCount()") >= MEMORIES:
                break
            time.sleep(0.5)
        sync = page.evaluate("window.__mcOffline.fullSync()")
        assert sync["copy"] == MEMORIES, sync
        assert sync["changed"] >= MEMORIES, sync
        assert sync["ms"] < SYNC_SANE_MS, sync

        # The worker's index: built once, then followed; the first query waits for it.
        started = time.monotonic()
        warm = page.evaluate("window.__mcOffline.search('meeting')")
        index_ready_s = time.monotonic() - started
        assert warm["indexed"] == MEMORIES, warm
        assert warm["runsIn"] == "worker", warm  # not the fallback on the page's thread

        # Open a memory online once, so its screen's code is loaded before the network goes.
        nav(page, "Memories").click()
        page.get_by_role("list", name="Memories").get_by_role("listitem").first.get_by_role(
            "link"
        ).click()
        page.get_by_role("button", name="Edit").wait_for()
        nav(page, "Search").click()
        page.get_by_role("searchbox", name="Search memories").wait_for()

        go_offline(context)
        page.get_by_role("status", name="Connection").filter(has_text="Offline").wait_for()

        # Search answers from the device, marked as such, and opens a memory from the copy.
        target = fields[1234]
        marker = f"(#{SEED}-1234)"  # bench.enrich.memory_fields ends each content with it
        assert target["content"].endswith(marker)
        distinctive = max(re.findall(r"[A-Za-z]{5,}", target["content"]), key=len).lower()
        page.get_by_role("searchbox", name="Search memories").fill(f"{distinctive} {marker[2:-1]}")
        results = page.get_by_role("list", name="Results")
        page.get_by_text("Offline results").wait_for()
        hit = results.get_by_role("listitem").first
        hit.wait_for()
        ui_ms = float(page.locator("[data-offline-ms]").get_attribute("data-offline-ms"))
        hit.get_by_role("link").click()
        page.get_by_text(marker, exact=False).first.wait_for()

        # The list answers from the device: newest first, all of them there.
        nav(page, "Memories").click()
        listed = page.get_by_role("list", name="Memories")
        newest = (fields[0]["title"] or fields[0]["content"]).strip()[:40]
        listed.get_by_role("listitem").filter(has_text=newest).first.wait_for()

        # 50 varied queries through the worker, timed from posting the query to the results.
        queries = varied_queries(fields, QUERIES)
        timings = []
        found = 0
        for query in queries:
            answer = page.evaluate("(q) => window.__mcOffline.search(q)", query)
            timings.append(answer["ms"])
            found += answer["total"] > 0
        assert found >= len(queries) - 4, (found, queries)
        p50 = statistics.median(timings)
        p95 = percentile(timings, 95)
        assert p95 < SEARCH_P95_SANE_MS, timings
    finally:
        context.close()

    save_results(
        {
            "memories": MEMORIES,
            "full_sync_s": round(sync["ms"] / 1000, 3),
            "index_ready_after_sync_s": round(index_ready_s, 3),
            "queries": len(queries),
            "queries_with_results": found,
            "search_ms": {
                "p50": round(p50, 2),
                "p95": round(p95, 2),
                "max": round(max(timings), 2),
                "mean": round(statistics.fmean(timings), 2),
            },
            "search_ms_one_ui_query": round(ui_ms, 2),
            "targets": {"full_sync_s_at_most": 5, "search_p95_ms_at_most": 30},
            "targets_met": {
                "full_sync_at_most_5_s": sync["ms"] <= 5000,
                "search_p95_at_most_30_ms": p95 <= 30,
            },
            "browser": browser.version,
            "machine": {
                "cpus": os.cpu_count(),
                "load_avg_1m": _load(),
                "python": platform.python_version(),
            },
            "measured_at": timezone.now().isoformat(),
        }
    )


def _load() -> float | None:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
