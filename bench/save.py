"""Save-path benchmark: POST /api/v1/memories (with Idempotency-Key) against the framework's
floor, a trivial token-authenticated DRF GET (/api/v1/me), on gunicorn (4 sync workers) over
the embedded stack. Load comes from wrk on the same machine.

    .venv/bin/python -m bench.save [--rounds 5] [--duration 10]

Reports medians over the rounds: throughput at 32 connections, p50/p95 latency at 4.
Targets (issue #3): save throughput >= 0.5 x floor; save p95 at 4 clients <= 25 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys

import django

from bench.stack import bench_stack, print_targets, run_wrk, save_results

USERS = 64


def make_users() -> list[str]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.management import call_command

    from accounts.models import User
    from accounts.services import token_create
    from billing.models import Plan

    call_command("plan", "bench")  # every limit unlimited: the benchmark measures speed
    plan = Plan.objects.get(name="bench")
    # ...but writes are counted, as for every real plan (one Redis INCR a save), never reached.
    plan.writes_per_minute = 10**9
    plan.save(update_fields=["writes_per_minute"])
    tokens = []
    for n in range(USERS):
        user = User.objects.create_user(f"bench{n}@example.com", "bench-password", plan=plan)
        tokens.append(token_create(user=user, name="bench").secret)
    return tokens


def wrk(
    base: str, *, method: str, path: str, connections: int, seconds: int, tokens: list[str]
) -> dict:
    env = {"BENCH_TOKENS": ",".join(tokens), "BENCH_METHOD": method, "BENCH_PATH": path}
    return run_wrk(base, script="save.lua", connections=connections, seconds=seconds, env=env)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk (make bench does this)")

    runs: dict[str, list[dict]] = {k: [] for k in ("floor_32", "save_32", "floor_4", "save_4")}
    with bench_stack(web_workers=4) as (base, _env):
        tokens = make_users()
        # Warm up both paths (connections, caches, JIT-less but lazy imports).
        wrk(base, method="GET", path="/api/v1/me", connections=8, seconds=2, tokens=tokens)
        wrk(base, method="POST", path="/api/v1/memories", connections=8, seconds=2, tokens=tokens)
        for _ in range(args.rounds):
            for name, method, path, conns in [
                ("floor_32", "GET", "/api/v1/me", 32),
                ("save_32", "POST", "/api/v1/memories", 32),
                ("floor_4", "GET", "/api/v1/me", 4),
                ("save_4", "POST", "/api/v1/memories", 4),
            ]:
                result = wrk(
                    base,
                    method=method,
                    path=path,
                    connections=conns,
                    seconds=args.duration,
                    tokens=tokens,
                )
                if result["non_2xx"] or result["socket_errors"]:
                    sys.exit(f"{name}: errors in run: {result}")
                runs[name].append(result)

    def median(name: str, field: str) -> float:
        return statistics.median(r[field] for r in runs[name])

    report = {
        "floor_rps_32": median("floor_32", "rps"),
        "save_rps_32": median("save_32", "rps"),
        "floor_p50_ms_4": median("floor_4", "p50_us") / 1000,
        "floor_p95_ms_4": median("floor_4", "p95_us") / 1000,
        "save_p50_ms_4": median("save_4", "p50_us") / 1000,
        "save_p95_ms_4": median("save_4", "p95_us") / 1000,
        "rounds": args.rounds,
        "seconds_per_run": args.duration,
    }
    report["save_to_floor_throughput"] = report["save_rps_32"] / report["floor_rps_32"]
    # Each round's save run against the floor run just before it: shows how much the shared
    # machine's speed drifted between rounds (the target is judged on the medians above).
    report["save_to_floor_by_round"] = [
        round(save["rps"] / floor["rps"], 3)
        for floor, save in zip(runs["floor_32"], runs["save_32"], strict=True)
    ]
    report["targets_met"] = {
        "throughput_at_least_half_floor": report["save_to_floor_throughput"] >= 0.5,
        "save_p95_4_clients_at_most_25ms": report["save_p95_ms_4"] <= 25,
    }
    print(json.dumps(report, indent=2))
    save_results("save.json", {"report": report, "runs": runs})
    print_targets(report["targets_met"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
