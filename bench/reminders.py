"""Reminders benchmark (issue #15, item 6): the beat's delivery and the inbox, on the embedded
stack (Postgres and Redis in a temp dir, migrated; gunicorn with 4 sync workers for the API).

    .venv/bin/python -m bench.reminders            # 100,000 reminders, 1,000 users
    .venv/bin/python -m bench.reminders --quick    # 10,000 and 100: a smoke run

The load (COPY): 1,000 users with 10 memories each (the inbox user 100), and 100,000 scheduled
reminders. 10,000 of them fall due in one clock minute, the whole of which has passed by a few
seconds when a round starts (500 of them the inbox user's); the others are spread over the next
30 days.

- Delivery: `reminders.tasks.deliver_due()` called in this process, as beat's worker runs it
  (`reminders_deliver_due` with REMINDER_DELIVERY_BATCH rows a transaction), against the
  stack's Postgres; the bench stack has no Celery worker. Before each round the 10,000 are
  scheduled again (their minute moved to the last whole one) and the table vacuumed, so every
  round starts from the state a beat run finds. One EXPLAIN (ANALYZE, BUFFERS) of the first
  batch's statement (rolled back) shows the plan.
- Inbox: GET /api/v1/reminders/inbox (limit 100, the default, and limit 500) for the user with
  500 due reminders, driven by wrk at 1, 4 and 16 connections (bench/save.lua, one token),
  beside the floor of bench/save.py (GET /api/v1/me, same token) in the same rounds.

Targets (issue #15): the 10,000 delivered within 10 s; inbox p95 <= 25 ms (default limit,
judged at 1 and 4 clients, as the other API targets; 16 clients and limit 500 are reported).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import random
import shutil
import statistics
import sys
import time
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from bench.stack import (
    bench_services,
    first_value,
    print_targets,
    run_wrk,
    save_results,
    web_server,
)

FULL = {"users": 1_000, "reminders": 100_000, "due": 10_000, "inbox_due": 500}
QUICK = {"users": 100, "reminders": 10_000, "due": 1_000, "inbox_due": 500}
MEMORIES_PER_USER, INBOX_USER_MEMORIES = 10, 100
ZONES = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC", "Australia/Sydney"]
# fmt: off
WORDS = [
    "call", "dentist", "renew", "passport", "book", "flights", "pay", "invoice", "water",
    "plants", "check", "backups", "send", "report", "buy", "milk", "review", "pull", "request",
    "quarterly", "taxes", "birthday", "gift", "car", "service",
]
# fmt: on
REMINDER_COLUMNS = (
    "id, user_id, memory_id, remind_at, occurrence_at, time_zone, local_date, local_time,"
    " recurrence, state, source, phrase, delivered_at, created_at, updated_at"
)


def pg_connect(**kwargs) -> psycopg.Connection:
    return psycopg.connect(os.environ["DATABASE_URL"], **kwargs)


def last_whole_minute(now: dt.datetime) -> dt.datetime:
    """The latest clock minute that ended at least 5 s before `now`."""
    return (now - dt.timedelta(seconds=65)).replace(second=0, microsecond=0)


# --- Load --------------------------------------------------------------------------------


def make_users(users: int) -> tuple[list[int], int, str]:
    """(every user's id, the inbox user's id, a Bearer token of the inbox user)."""
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    from accounts.models import User
    from accounts.services import token_create
    from billing.models import Plan

    call_command("plan", "bench")  # every limit unlimited: the benchmark measures speed
    plan = Plan.objects.get(name="bench")
    inbox = User.objects.create_user(
        "inbox@example.com", "bench-password", plan=plan, time_zone="Europe/Berlin"
    )
    unusable = make_password(None)
    others = User.objects.bulk_create(
        (
            User(email=f"user{n}@example.com", password=unusable, plan=plan, time_zone=ZONES[n % 5])
            for n in range(users - 1)
        ),
        batch_size=1000,
    )
    token = token_create(user=inbox, name="bench").secret
    return [inbox.pk, *(u.pk for u in others)], inbox.pk, token


def load(
    rng: random.Random, user_ids: list[int], inbox_id: int, size: dict, minute: dt.datetime
) -> dict:
    """COPY the memories, then the reminders: `size['due']` in `minute` (`inbox_due` of them
    the inbox user's, the rest spread over the other users), the others over the next 30
    days, everyone's spread over their memories."""
    started = time.perf_counter()
    now = dt.datetime.now(dt.UTC)
    zone_of = {
        uid: ("Europe/Berlin" if uid == inbox_id else ZONES[i % 5])
        for i, uid in enumerate(user_ids)
    }
    memories: dict[int, list[str]] = {}
    lines = []
    for uid in user_ids:
        count = INBOX_USER_MEMORIES if uid == inbox_id else MEMORIES_PER_USER
        memories[uid] = []
        for n in range(count):
            mid = str(uuid.uuid4())
            memories[uid].append(mid)
            title = " ".join(rng.sample(WORDS, 3)).capitalize()
            content = f"{title}: {' '.join(rng.choices(WORDS, k=60))} ({uid}-{n})"
            digest = hashlib.sha256(content.encode()).hexdigest()
            stamp = (now - dt.timedelta(days=rng.uniform(1, 365))).isoformat()
            url = f"https://example.com/{uid}/{n}" if n % 3 == 0 else ""
            lines.append(
                f"{mid}\t{uid}\tnote\t{title}\t{content}\t{url}\t{{}}\t\t\t1\tenriched\t1\t\t"
                f"{digest}\t{stamp}\t{stamp}\n"
            )
    memory_count = len(lines)
    zones = {name: ZoneInfo(name) for name in ZONES}
    others = [uid for uid in user_ids if uid != inbox_id]
    due_owner = [inbox_id] * size["inbox_due"] + [
        others[i % len(others)] for i in range(size["due"] - size["inbox_due"])
    ]
    future_owner = [user_ids[i % len(user_ids)] for i in range(size["reminders"] - size["due"])]
    rows = []
    for owners, due in ((due_owner, True), (future_owner, False)):
        for uid in owners:
            if due:
                at = minute + dt.timedelta(microseconds=rng.randrange(60_000_000))
            else:
                at = now + dt.timedelta(seconds=rng.uniform(3600, 30 * 86400))
            at = at.replace(microsecond=at.microsecond // 1000 * 1000)
            local = at.astimezone(zones[zone_of[uid]])
            created = (now - dt.timedelta(days=rng.uniform(0, 30))).isoformat()
            rows.append(
                f"{uuid.uuid4()}\t{uid}\t{rng.choice(memories[uid])}\t{at.isoformat()}\t"
                f"{at.isoformat()}\t{zone_of[uid]}\t{local.date()}\t{local.time()}\t\t"
                f"scheduled\tuser\t\t\\N\t{created}\t{created}\n"
            )
    rng.shuffle(rows)  # rows land in the table in no particular time order
    generated = time.perf_counter() - started
    with pg_connect() as conn, conn.cursor() as cur:
        # Consistent by construction: skip the per-row foreign-key triggers.
        cur.execute("SET session_replication_role = replica")
        columns = (
            "id, user_id, kind, title, content, url, tags, category, summary, version,"
            " enrichment_status, enrichment_attempts, enrichment_error, content_hash,"
            " created_at, updated_at"
        )
        with cur.copy(f"COPY memories_memory ({columns}) FROM STDIN") as copy:
            for i in range(0, len(lines), 5000):
                copy.write("".join(lines[i : i + 5000]))
        with cur.copy(f"COPY reminders_reminder ({REMINDER_COLUMNS}) FROM STDIN") as copy:
            for i in range(0, len(rows), 10_000):
                copy.write("".join(rows[i : i + 10_000]))
    with pg_connect(autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) memories_memory")
        conn.execute("VACUUM (ANALYZE) reminders_reminder")
    seconds = time.perf_counter() - started
    return {
        "memories": memory_count,
        "reminders": len(rows),
        "seconds": seconds,
        "generating_seconds": generated,
        "reminder_rows_per_second": len(rows) / (seconds - generated),
    }


# --- Delivery ----------------------------------------------------------------------------

RESET_SQL = """
UPDATE reminders_reminder
SET state = 'scheduled', delivered_at = NULL,
    remind_at = %(minute)s + (remind_at - date_trunc('minute', remind_at)),
    occurrence_at = %(minute)s + (remind_at - date_trunc('minute', remind_at))
WHERE remind_at <= now()  -- the due minute's (every other one is hours ahead)
"""


def reset_due() -> int:
    """The due minute's reminders scheduled again, moved to the last whole minute; the table
    vacuumed (as
    autovacuum would have between two minutes' batches of new reminders)."""
    with pg_connect(autocommit=True) as conn:
        minute = last_whole_minute(dt.datetime.now(dt.UTC))
        count = conn.execute(RESET_SQL, {"minute": minute}).rowcount
        conn.execute("VACUUM (ANALYZE) reminders_reminder")
    return count


def pending_due_now() -> int:
    with pg_connect() as conn:
        return first_value(
            conn.execute(
                "SELECT count(*) FROM reminders_reminder"
                " WHERE state IN ('scheduled', 'snoozed') AND remind_at <= now()"
            ).fetchone()
        )


def explain_delivery(batch: int) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) of the delivery statement's first batch, rolled back."""
    from django.db import connection, transaction
    from django.utils import timezone

    from reminders.services import _DELIVER_SQL

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (ANALYZE, BUFFERS) " + _DELIVER_SQL, {"now": timezone.now(), "limit": batch}
        )
        plan = [row[0] for row in cursor.fetchall()]
        transaction.set_rollback(True)
    key = [line.strip() for line in plan if "reminder_pending_by_time" in line]
    scans = [line.strip() for line in plan if "Scan" in line]
    return {
        "key_line": (key or scans or [""])[0],
        "uses_reminder_pending_by_time": bool(key),
        "execution_ms": next(
            (float(x.split(":")[1].split()[0]) for x in plan if x.startswith("Execution Time")),
            None,
        ),
        "plan": plan,
    }


def measure_delivery(rounds: int, due: int) -> dict:
    from django.conf import settings
    from django.db import connection

    from reminders.tasks import deliver_due

    runs = []
    for n in range(rounds):
        if n:
            reset_due()
        waiting = pending_due_now()
        if waiting != due:
            sys.exit(f"round {n}: {waiting} reminders due before the run, not {due}")
        connection.close()  # each beat run is a fresh task: open its connection in the time
        started = time.perf_counter()
        delivered = deliver_due()  # the task's body, as the worker runs it
        seconds = time.perf_counter() - started
        if delivered != due or pending_due_now():
            sys.exit(f"round {n}: delivered {delivered} of {due}")
        runs.append({"seconds": seconds, "delivered": delivered, "rows_per_second": due / seconds})
        print(f"  round {n + 1}: {delivered:,} in {seconds:.3f} s", flush=True)
    round_seconds = [r["seconds"] for r in runs]
    reset_due()
    explain = explain_delivery(settings.REMINDER_DELIVERY_BATCH)
    deliver_due()  # all delivered again: the inbox user's 500 are due
    return {
        "how": "in-process: reminders.tasks.deliver_due() (no Celery worker in the bench stack)",
        "batch": settings.REMINDER_DELIVERY_BATCH,
        "median_seconds": statistics.median(round_seconds),
        "max_seconds": max(round_seconds),
        "median_rows_per_second": due / statistics.median(round_seconds),
        "explain": explain,
        "runs": runs,
    }


# --- Inbox -------------------------------------------------------------------------------


def check_inbox(base: str, token: str, inbox_due: int) -> dict:
    import requests

    headers = {"Authorization": f"Bearer {token}"}
    out: dict[str, Any] = {}
    for limit in (100, 500):
        body = requests.get(
            f"{base}/api/v1/reminders/inbox?limit={limit}", headers=headers, timeout=30
        ).json()
        if body["count"] != inbox_due or len(body["results"]) != min(limit, inbox_due):
            sys.exit(f"inbox limit={limit}: count {body['count']}, {len(body['results'])} items")
        out[f"limit_{limit}"] = {"count": body["count"], "items": len(body["results"])}
    out["bytes_limit_100"] = len(
        requests.get(f"{base}/api/v1/reminders/inbox", headers=headers, timeout=30).content
    )
    return out


def measure_inbox(
    base: str, token: str, *, connections: list[int], rounds: int, seconds: int
) -> dict:
    paths = {
        "floor": "/api/v1/me",  # the least a token-authenticated DRF GET of this app does
        "default": "/api/v1/reminders/inbox",
        "limit500": "/api/v1/reminders/inbox?limit=500",
    }

    def wrk(path: str, conns: int, secs: int) -> dict:
        env = {"BENCH_TOKENS": token, "BENCH_METHOD": "GET", "BENCH_PATH": path}
        return run_wrk(base, script="save.lua", connections=conns, seconds=secs, env=env)

    for path in paths.values():  # warm every worker's connection and imports
        wrk(path, 4, 2)
    runs: dict[str, list[dict]] = {}
    for _ in range(rounds):
        for conns in connections:
            for name, path in paths.items():
                result = wrk(path, conns, seconds)
                if result["non_2xx"] or result["socket_errors"]:
                    sys.exit(f"inbox {name} at {conns}: errors in run: {result}")
                runs.setdefault(f"{name}_{conns}", []).append(result)
    summary = {
        name: {
            "p50_ms": statistics.median(r["p50_us"] for r in results) / 1000,
            "p95_ms": statistics.median(r["p95_us"] for r in results) / 1000,
            "p99_ms": statistics.median(r["p99_us"] for r in results) / 1000,
            "rps": statistics.median(r["rps"] for r in results),
        }
        for name, results in runs.items()
    }
    for conns in connections:
        summary[f"default_{conns}"]["p95_to_floor"] = (
            summary[f"default_{conns}"]["p95_ms"] / summary[f"floor_{conns}"]["p95_ms"]
        )
    return {"summary": summary, "runs": runs}


def inbox_in_process(token: str, repeat: int = 50) -> dict:
    """The inbox through Django's test client (no HTTP, one at a time), with its statements'
    time: where a request's time goes."""
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")
    out = {}
    for name, path in [
        ("default", "/api/v1/reminders/inbox"),
        ("limit500", "/api/v1/reminders/inbox?limit=500"),
    ]:
        in_db: list[float] = [0.0, 0]  # seconds in the database, statements

        def timed(execute, sql, params, many, context, in_db=in_db):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                in_db[0] += time.perf_counter() - started
                in_db[1] += 1

        for _ in range(5):
            client.get(path)
        total, db, queries = [], [], 0
        with connection.execute_wrapper(timed):
            for _ in range(repeat):
                in_db[0], in_db[1] = 0.0, 0
                started = time.perf_counter()
                client.get(path)
                total.append((time.perf_counter() - started) * 1000)
                db.append(in_db[0] * 1000)
                queries = int(in_db[1])
        out[name] = {
            "request_p50_ms": statistics.median(total),
            "statements_p50_ms": statistics.median(db),
            "statements_per_request": queries,
        }
    return out


# --- Main --------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 reminders, 100 users")
    parser.add_argument("--delivery-rounds", type=int, help="delivery runs (default 5; quick 3)")
    parser.add_argument("--rounds", type=int, help="wrk rounds (default 3; quick 1)")
    parser.add_argument("--duration", type=int, help="seconds per wrk run (default 10; quick 3)")
    parser.add_argument("--connections", default="1,4,16", help="wrk connections, comma-separated")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    size = QUICK if args.quick else FULL
    delivery_rounds = args.delivery_rounds or (3 if args.quick else 5)
    rounds = args.rounds or (1 if args.quick else 3)
    seconds = args.duration or (3 if args.quick else 10)
    connections = [int(c) for c in args.connections.split(",")]
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk (make bench does this)")

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    report: dict = {
        **size,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    with bench_services() as (workdir, env):
        import django

        django.setup()
        rng = random.Random(args.seed)
        user_ids, inbox_id, token = make_users(size["users"])
        minute = last_whole_minute(dt.datetime.now(dt.UTC))
        print(f"loading {size['reminders']:,} reminders of {size['users']:,} users", flush=True)
        report["load"] = load(rng, user_ids, inbox_id, size, minute)
        print(json.dumps(report["load"]), flush=True)
        reset_due()  # the load took a while: move the due minute to the last whole one
        print(f"delivery: {size['due']:,} due, {delivery_rounds} rounds", flush=True)
        report["delivery"] = measure_delivery(delivery_rounds, size["due"])
        print(f"  plan: {report['delivery']['explain']['key_line']}", flush=True)
        report["inbox_in_process"] = inbox_in_process(token)
        print("inbox", json.dumps(report["inbox_in_process"]), flush=True)
        with web_server(workdir, env, workers=4, ready_within=120) as base:
            report["inbox_check"] = check_inbox(base, token, size["inbox_due"])
            report["inbox"] = measure_inbox(
                base, token, connections=connections, rounds=rounds, seconds=seconds
            )

    inbox = report["inbox"]["summary"]
    report["targets_met"] = {
        f"delivery_of_{size['due']}_within_10s": report["delivery"]["max_seconds"] <= 10,
        **{
            f"inbox_p95_{c}_clients_at_most_25ms": inbox[f"default_{c}"]["p95_ms"] <= 25
            for c in connections
            if c <= 4
        },
    }
    printable = {k: v for k, v in report.items() if k not in ("inbox", "delivery")}
    printable["delivery"] = {
        k: v for k, v in report["delivery"].items() if k not in ("plan", "runs", "explain")
    }
    printable["delivery"]["plan_key_line"] = report["delivery"]["explain"]["key_line"]
    printable["inbox"] = inbox
    print(json.dumps(printable, indent=2, default=str))
    save_results("reminders-quick.json" if args.quick else "reminders.json", report)
    print_targets(report["targets_met"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
