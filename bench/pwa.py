"""PWA benchmark (issue #14 item 4): Lighthouse on the list screen, and the first screen's
JavaScript and CSS, over the embedded stack (gunicorn, production settings on loopback).

    .venv/bin/python -m bench.pwa [--runs 3]

`make bench` builds the PWA (`make frontend`) and installs Lighthouse 12.2.3 from
bench/lighthouse/package-lock.json first; this script builds nothing. One user with 200
memories signs in (POST /api/v1/auth/login); Lighthouse (desktop preset, Debian's chromium)
loads `/` with that session's cookies in a Cookie header, --runs times. Reported: the median
of each category's score, and the failing audits (score < 1, weight > 0) of the median run
(the run with the median performance score). The first screen's bytes are measured twice:
the gzipped size of the built files it loads (frontend/dist/index.html's scripts, styles and
module preloads, plus any other /assets/ JS or CSS Lighthouse saw requested), which is the
figure the target is judged on, and what Lighthouse saw go over the wire (transferSize of its
Script and Stylesheet requests: uncompressed if the server does not compress).
Targets (issue #14): performance, accessibility and best practices >= 95 each; the first
screen's JS + CSS <= 150 KB gzipped.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import django
import requests

from bench.enrich import memory_fields
from bench.stack import ROOT, bench_stack, print_targets, save_results

HERE = Path(__file__).resolve().parent
DIST = ROOT / "frontend" / "dist"
LIGHTHOUSE = HERE / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-background-networking "
    "--disable-component-update --disable-sync"
)
CATEGORIES = ("performance", "accessibility", "best-practices")
MEMORIES = 200
EMAIL = "pwa-bench@example.com"
PASSWORD = "pwa-bench-password"  # noqa: S105 (a throwaway stack's account)
TAGS = ["work", "reading", "ideas", "health", "travel", "db", "recipes", "family"]
SCORE_TARGET = 95
BYTES_TARGET_KB = 150


def make_user_with_memories(count: int) -> None:
    """A user on an unlimited plan with `count` memories, saved through the service."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.management import call_command

    from accounts.models import User
    from billing.models import Plan
    from memories.services import memory_create

    call_command("plan", "bench")  # every limit unlimited
    user = User.objects.create_user(EMAIL, PASSWORD, plan=Plan.objects.get(name="bench"))
    rng = random.Random(14)
    for fields in memory_fields(count, seed=14):
        tags = rng.sample(TAGS, rng.randint(0, 3))
        memory_create(user=user, tags=tags, **fields)


def sign_in(base: str) -> dict[str, str]:
    """The session and CSRF cookies of a PWA login (POST /api/v1/auth/login)."""
    response = requests.post(
        f"{base}/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD}, timeout=30
    )
    response.raise_for_status()
    # A cookie set without a value has none (None): not one of these.
    cookies = {c.name: c.value for c in response.cookies if c.value is not None}
    if "sessionid" not in cookies or "csrftoken" not in cookies:
        sys.exit(f"login set no session or CSRF cookie: {sorted(cookies)}")
    listed = requests.get(f"{base}/api/v1/memories", cookies=cookies, timeout=30)
    listed.raise_for_status()
    return cookies


def lighthouse(url: str, headers_file: Path, out: Path) -> dict:
    argv = [
        str(LIGHTHOUSE),
        url,
        "--preset=desktop",
        f"--chrome-path={CHROME}",
        f"--chrome-flags={CHROME_FLAGS}",
        "--only-categories=" + ",".join(CATEGORIES),
        "--output=json",
        f"--output-path={out}",
        f"--extra-headers={headers_file}",
        "--quiet",
    ]
    env = {**os.environ, "CHROME_PATH": CHROME}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    if done.returncode != 0 or not out.is_file():
        sys.exit(f"lighthouse failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(out.read_text())


def network_requests(lhr: dict) -> list[dict]:
    return lhr["audits"]["network-requests"]["details"]["items"]


def check_signed_in(lhr: dict) -> None:
    """The run measured the list screen: /me and the memory list answered 200."""
    paths = {urlsplit(item["url"]).path: item.get("statusCode") for item in network_requests(lhr)}
    if lhr.get("runtimeError"):
        sys.exit(f"lighthouse runtime error: {lhr['runtimeError']}")
    broken = [path for path, code in paths.items() if path.startswith("/assets/") and code != 200]
    if broken:
        sys.exit(f"{broken} did not answer 200: was frontend/dist rebuilt meanwhile? Run again")
    for path in ("/api/v1/me", "/api/v1/memories"):
        if paths.get(path) != 200:
            sys.exit(f"{path} answered {paths.get(path)}: not the signed-in list screen")


def scores(lhr: dict) -> dict[str, float]:
    return {name: round(lhr["categories"][name]["score"] * 100) for name in CATEGORIES}


def _item_summary(item: dict) -> dict:
    """The parts of an audit's detail item that say what to fix."""
    keep = {}
    for key in ("url", "wastedBytes", "wastedMs", "totalBytes", "transferSize", "description"):
        if key in item:
            keep[key] = item[key]
    node = item.get("node")
    if isinstance(node, dict):
        for key in ("selector", "snippet", "nodeLabel", "explanation"):
            if node.get(key):
                keep[key] = node[key]
    for key in ("source", "sourceLocation"):
        if isinstance(item.get(key), dict) and item[key].get("url"):
            keep["source"] = f"{item[key]['url']}:{item[key].get('line')}"
    if "subItems" in item and not keep:
        keep["subItems"] = len(item["subItems"].get("items", []))
    return keep


def failing_audits(lhr: dict) -> dict[str, list[dict]]:
    """Per category, the weighted audits that did not score 1, with their details."""
    failing: dict[str, list[dict]] = {}
    for name in CATEGORIES:
        rows = []
        for ref in lhr["categories"][name]["auditRefs"]:
            audit = lhr["audits"][ref["id"]]
            if not ref.get("weight") or audit.get("score") is None or audit["score"] >= 1:
                continue
            items = (audit.get("details") or {}).get("items") or []
            rows.append(
                {
                    "id": ref["id"],
                    "title": audit["title"],
                    "score": audit["score"],
                    "weight": ref["weight"],
                    "displayValue": audit.get("displayValue", ""),
                    "items": [_item_summary(item) for item in items[:8]],
                }
            )
        failing[name] = sorted(rows, key=lambda row: -row["weight"])
    return failing


def opportunities(lhr: dict) -> list[dict]:
    """Performance audits of weight 0 (Lighthouse 12's opportunities and diagnostics) that
    found something: they move no score by themselves, but say what would."""
    rows = []
    for ref in lhr["categories"]["performance"]["auditRefs"]:
        audit = lhr["audits"][ref["id"]]
        if ref.get("weight") or audit.get("score") is None or audit["score"] >= 1:
            continue
        if audit.get("scoreDisplayMode") not in ("metricSavings", "numeric", "binary"):
            continue
        items = (audit.get("details") or {}).get("items") or []
        rows.append(
            {
                "id": ref["id"],
                "title": audit["title"],
                "score": audit["score"],
                "displayValue": audit.get("displayValue", ""),
                "metricSavings": audit.get("metricSavings", {}),
                "items": [_item_summary(item) for item in items[:8]],
            }
        )
    return rows


def metrics(lhr: dict) -> dict[str, float]:
    ids = ["first-contentful-paint", "largest-contentful-paint", "total-blocking-time"]
    ids += ["cumulative-layout-shift", "speed-index"]
    return {i: lhr["audits"][i]["numericValue"] for i in ids if i in lhr["audits"]}


class _AssetRefs(HTMLParser):
    """The scripts, stylesheets and module preloads an index.html references."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        rel = (a.get("rel") or "").split()
        src, href = a.get("src"), a.get("href")
        if tag == "script" and src:
            self.refs.append(src)
        elif tag == "link" and href and ({"stylesheet", "modulepreload"} & set(rel)):
            self.refs.append(href)


def snapshot_dist() -> dict[str, bytes]:
    """index.html and the built JS and CSS as they are now (the app may be rebuilt while the
    benchmark runs: the bytes measured must be the ones that were served)."""
    files = {"/index.html": (DIST / "index.html").read_bytes()}
    for path in (DIST / "assets").iterdir():
        if path.suffix in (".js", ".css"):
            files[f"/assets/{path.name}"] = path.read_bytes()
    return files


def first_screen_bytes(lhrs: list[dict], dist: dict[str, bytes]) -> dict:
    """The gzipped JS + CSS of the first screen, from the built files, and what Lighthouse
    saw transferred (its median run's Script and Stylesheet requests)."""
    parser = _AssetRefs()
    parser.feed(dist["/index.html"].decode())
    from_index = [urlsplit(ref).path for ref in parser.refs]
    requested = set()
    for lhr in lhrs:
        for item in network_requests(lhr):
            path = urlsplit(item["url"]).path
            if path.startswith("/assets/") and path.endswith((".js", ".css")):
                requested.add(path)
    lazy = sorted(requested - set(from_index))
    missing = [path for path in [*from_index, *lazy] if path not in dist]
    if missing or not set(from_index) <= requested:
        sys.exit(f"frontend/dist was rebuilt during the runs ({missing or from_index}): run again")
    files = []
    for path in [*from_index, *lazy]:
        data = dist[path]
        files.append(
            {
                "path": path,
                "from": "index.html" if path in from_index else "requested on first load",
                "bytes": len(data),
                "gzip_bytes": len(gzip.compress(data, compresslevel=9, mtime=0)),
            }
        )
    wire = [
        {
            "url": urlsplit(item["url"]).path,
            "resourceType": item.get("resourceType"),
            "transferSize": item.get("transferSize", 0),
            "resourceSize": item.get("resourceSize", 0),
        }
        for item in network_requests(lhrs[0])
        if item.get("resourceType") in ("Script", "Stylesheet")
    ]
    return {
        "files": files,
        "gzip_bytes": sum(f["gzip_bytes"] for f in files),
        "raw_bytes": sum(f["bytes"] for f in files),
        "lighthouse_requests": wire,
        "lighthouse_transfer_bytes": sum(w["transferSize"] for w in wire),
        "lighthouse_resource_bytes": sum(w["resourceSize"] for w in wire),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs (median reported)")
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        sys.exit(f"{LIGHTHOUSE} is missing: cd bench/lighthouse && npm ci (make bench does this)")
    if not (DIST / "index.html").is_file():
        sys.exit("frontend/dist is missing: make frontend (make bench does this)")
    if not Path(CHROME).exists():
        sys.exit(f"{CHROME} is missing: apt-get install chromium (make bench does this)")

    dist = snapshot_dist()
    lhrs: list[dict] = []
    with bench_stack(web_workers=2) as (base, _env), tempfile.TemporaryDirectory() as tmp:
        make_user_with_memories(MEMORIES)
        cookies = sign_in(base)
        headers_file = Path(tmp) / "headers.json"
        cookie = "; ".join(f"{k}={cookies[k]}" for k in ("sessionid", "csrftoken"))
        headers_file.write_text(json.dumps({"Cookie": cookie}))
        for n in range(args.runs):
            lhr = lighthouse(f"{base}/", headers_file, Path(tmp) / f"run{n}.json")
            check_signed_in(lhr)
            lhrs.append(lhr)
            print(f"run {n + 1}/{args.runs}: {scores(lhr)}", flush=True)

    by_run = [scores(lhr) for lhr in lhrs]
    median_run = sorted(range(len(lhrs)), key=lambda i: by_run[i]["performance"])[len(lhrs) // 2]
    median = {name: statistics.median(s[name] for s in by_run) for name in CATEGORIES}
    lhrs = [lhrs[median_run], *(lhr for i, lhr in enumerate(lhrs) if i != median_run)]
    if snapshot_dist() != dist:
        sys.exit("frontend/dist was rebuilt during the runs: run again")
    bytes_ = first_screen_bytes(lhrs, dist)
    report = {
        "lighthouse": lhrs[0]["lighthouseVersion"],
        "browser": lhrs[0]["environment"]["hostUserAgent"],
        "preset": "desktop",
        "memories": MEMORIES,
        "frontend_build": [path for path in dist if path != "/index.html"],
        "runs": args.runs,
        "median_scores": median,
        "scores_by_run": by_run,
        "median_run": median_run,
        "median_run_metrics_ms": metrics(lhrs[0]),
        "first_screen_gzip_kb": round(bytes_["gzip_bytes"] / 1024, 1),
        "first_screen_wire_kb": round(bytes_["lighthouse_transfer_bytes"] / 1024, 1),
        "failing_audits": failing_audits(lhrs[0]),
        "performance_opportunities": opportunities(lhrs[0]),
    }
    report["targets_met"] = {
        f"{name}_at_least_{SCORE_TARGET}": median[name] >= SCORE_TARGET for name in CATEGORIES
    }
    report["targets_met"][f"first_screen_js_css_gzip_at_most_{BYTES_TARGET_KB}kb"] = (
        bytes_["gzip_bytes"] <= BYTES_TARGET_KB * 1024
    )

    save_results("pwa.json", {"report": report, "first_screen_bytes": bytes_})
    # The median run's whole report, to open in a Lighthouse viewer or read in full.
    save_results("pwa-lighthouse.json", lhrs[0], indent=None)
    print(f"Lighthouse {report['lighthouse']}, desktop, {args.runs} runs, {MEMORIES} memories")
    print("median scores: " + ", ".join(f"{k} {v:g}" for k, v in median.items()))
    print(
        f"first screen JS+CSS: {report['first_screen_gzip_kb']} KB gzipped (built files), "
        f"{report['first_screen_wire_kb']} KB as transferred (Lighthouse)"
    )
    for name, rows in report["failing_audits"].items():
        for row in rows:
            shown = f" ({row['displayValue']})" if row["displayValue"] else ""
            print(f"  failing [{name}] {row['id']}: score {row['score']}{shown}")
    for row in report["performance_opportunities"]:
        shown = f" ({row['displayValue']})" if row["displayValue"] else ""
        print(f"  opportunity (weight 0) {row['id']}: score {row['score']}{shown}")
    print_targets(report["targets_met"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
