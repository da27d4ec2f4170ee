"""`make mutate`: mutation testing of the modules whose mistakes cost money or data.

Starts a throwaway Postgres (pgvector) and Redis (the binaries of `make run`), runs mutmut
over the modules listed in pyproject.toml's [tool.mutmut] with the tests talking to them, and
writes the score of each module into docs/testing.md. mutmut keeps every result under
mutants/, so a run that was stopped resumes where it was; `--rerun-survivors` tries the
survivors again after tests were added.

    python -m mutation                      # everything not decided yet
    python -m mutation 'ai.breaker.*'       # one module (mutmut's mutant-name globs)
    python -m mutation --report             # only rewrite the table from mutants/
    python -m mutation --survivors 'ai.*'   # each survivor's diff, for the triage
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from embedded import servers

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
DOC = ROOT / "docs" / "testing.md"
EQUIVALENT = Path(__file__).resolve().parent / "equivalent.txt"
TABLE_START = "<!-- mutation-scores:start -->"
TABLE_END = "<!-- mutation-scores:end -->"

# mutmut's exit codes (mutmut/stats.py), grouped for the score.
DETECTED = {1: "killed", 3: "killed", 36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout"}
DETECTED |= {255: "timeout", 37: "type check"}
UNDETECTED = {0: "survived", 5: "no tests", 33: "no tests"}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m mutation", description=__doc__.split("\n")[0])
    parser.add_argument("mutants", nargs="*", help="mutant-name globs, e.g. 'ai.breaker.*'")
    parser.add_argument("--max-children", type=int, default=1, help="mutants tested at once")
    parser.add_argument("--rerun-survivors", action="store_true", help="try survivors again")
    parser.add_argument("--report", action="store_true", help="only rewrite docs/testing.md")
    parser.add_argument("--survivors", action="store_true", help="print the survivors' diffs")
    args = parser.parse_args()
    if args.survivors:
        show_survivors(args.mutants)
        return 0
    if not args.report:
        bring_mutants_up_to_date()
        names = to_try(args.mutants, rerun_survivors=args.rerun_survivors)
        if names == []:
            print("nothing left to try among these mutants")
        else:
            code = run_mutmut(names or [], max_children=args.max_children)
            if code:
                return code
    write_report()
    return 0


# mutmut's generation step as `mutmut run` starts it (mutmut 3.8), without the run: a function
# changed since its mutants were made gets new ones, not tried yet; the others keep their verdict.
_GENERATE = """
import os
from mutmut.__main__ import create_mutants
from mutmut.mutation.trampoline import set_mutant_under_test
from mutmut.utils.file_utils import copy_also_copy_files, copy_src_dir, setup_source_paths
os.makedirs("mutants", exist_ok=True)
set_mutant_under_test("mutant_generation")
copy_src_dir()
copy_also_copy_files()
setup_source_paths()
create_mutants(1)
"""


def bring_mutants_up_to_date() -> None:
    """Regenerate mutants/ from today's sources before choosing what to try: mutmut does it only
    inside `run`, after the names were chosen, so a changed function's new mutants would not be
    among them."""
    subprocess.run(  # noqa: S603 (our argv)
        [sys.executable, "-c", _GENERATE], cwd=ROOT, check=True, stdout=subprocess.DEVNULL
    )


def to_try(globs: list[str], *, rerun_survivors: bool) -> list[str] | None:
    """The mutants to hand to mutmut: None for "every one not tried yet" (mutmut's own
    resume). mutmut re-tests every mutant it is given by name, so globs are expanded here to
    those not tried yet (and the survivors, when asked), and a run stopped midway resumes."""
    from fnmatch import fnmatch

    known = results()
    if not known:  # no mutant generated yet: mutmut expands the globs itself
        return list(globs) or None
    if not globs and not rerun_survivors:
        return None
    wanted = globs or ["*"]
    argued = equivalent()  # tried again, they would only survive again
    return [
        name
        for codes in known.values()
        for name, code in codes.items()
        if any(fnmatch(name, g) for g in wanted)
        and (code is None or (rerun_survivors and code in UNDETECTED and name not in argued))
    ]


def run_mutmut(names: list[str], *, max_children: int) -> int:
    """mutmut against a Postgres and a Redis of its own; each mutant's tests reuse one test
    database (one mutant at a time by default: the tests share the database and Redis)."""
    workdir = Path(tempfile.mkdtemp(prefix="memcon-mutate-"))
    processes = []
    try:
        pg_port, redis_port = servers.free_port(), servers.free_port()
        postgres = servers.spawn_postgres(
            servers.PostgresOptions(pgdata=workdir / "pgdata", port=pg_port, ephemeral=True),
            log_path=workdir / "postgres.log",
        )
        processes.append(postgres)
        servers.wait_for_postgres(pg_port, process=postgres)
        redis = servers.spawn_redis(
            redis_port, workdir / "redis", persistent=False, log_path=workdir / "redis.log"
        )
        processes.append(redis)
        servers.wait_for_port(redis_port, process=redis)
        env = os.environ | {
            "TEST_DATABASE_URL": servers.postgres_url(pg_port, "memory_connector"),
            "TEST_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "MEMCON_MUTATION": "1",  # tests/fixtures.py warms the fork server
        }
        command = [sys.executable, "-m", "mutmut", "run", "--max-children", str(max_children)]
        return subprocess.call([*command, *names], cwd=ROOT, env=env)  # noqa: S603 (our argv)
    finally:
        for process in reversed(processes):
            servers.stop(process)
        shutil.rmtree(workdir, ignore_errors=True)


def results() -> dict[str, dict[str, int | None]]:
    """{module file: {mutant name: exit code or None (not tried yet)}} from mutants/."""
    found = {}
    for meta in sorted(MUTANTS.rglob("*.py.meta")):
        source = meta.relative_to(MUTANTS).as_posix().removesuffix(".meta")
        found[source] = json.loads(meta.read_text())["exit_code_by_key"]
    return found


def equivalent() -> dict[str, str]:
    """Survivors argued equivalent: {mutant name: why}, one per line as `name  # why`."""
    if not EQUIVALENT.exists():
        return {}
    argued = {}
    for line in EQUIVALENT.read_text().splitlines():
        name, _, why = line.partition("#")
        if name.strip():
            argued[name.strip()] = why.strip()
    return argued


def show_survivors(globs: list[str]) -> None:
    """The diff of every survivor (not argued equivalent) matching `globs`."""
    from fnmatch import fnmatch

    argued = equivalent()
    survivors = [
        (name, code)
        for codes in results().values()
        for name, code in codes.items()
        if code in UNDETECTED
        and name not in argued
        and (not globs or any(fnmatch(name, g) for g in globs))
    ]
    for name, code in survivors:
        shown = subprocess.run(  # noqa: S603 (our argv)
            [sys.executable, "-m", "mutmut", "show", name], cwd=ROOT, capture_output=True, text=True
        ).stdout
        changed = [
            line
            for line in shown.splitlines()
            if line[:1] in "+-" and line[:3] not in ("+++", "---")
        ]
        print(f"{name} ({UNDETECTED[code]})", *changed, sep="\n    ")


def write_report() -> None:
    argued = equivalent()
    rows = [
        "| Module | Mutants | Killed | Survived | No test | Not tried | Equivalent | Score |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for source, codes in results().items():
        counts = Counter(
            "equivalent"
            if name in argued and code in UNDETECTED
            else "not tried"
            if code is None
            else DETECTED.get(code) or UNDETECTED.get(code) or "suspicious"
            for name, code in codes.items()
        )
        detected = counts["killed"] + counts["timeout"] + counts["type check"]
        undetected = counts["survived"] + counts["no tests"] + counts["suspicious"]
        judged = detected + undetected
        score = f"{100 * detected / judged:.1f} %" if judged else "n/a"
        rows.append(
            f"| `{source}` | {len(codes)} | {detected} | {counts['survived']} | "
            f"{counts['no tests']} | {counts['not tried']} | {counts['equivalent']} | {score} |"
        )
    table = "\n".join(rows)
    text = DOC.read_text()
    start, end = text.index(TABLE_START) + len(TABLE_START), text.index(TABLE_END)
    DOC.write_text(f"{text[:start]}\n{table}\n{text[end:]}")
    print(table)


if __name__ == "__main__":
    sys.exit(main())
