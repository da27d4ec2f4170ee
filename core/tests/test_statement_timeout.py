"""A runaway query of a web request stops at DB_STATEMENT_TIMEOUT_MS and answers 503."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

import memories.api.views as views
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def test_a_query_cancelled_by_the_statement_timeout_answers_503(api, monkeypatch):
    def runaway(**kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(5)")
        raise AssertionError("the statement timeout did not stop the query")

    monkeypatch.setattr(views, "memory_list", runaway)
    with connection.cursor() as cursor:  # as the web process's connections have it
        cursor.execute("SET LOCAL statement_timeout = 100")
    response = api.get("/api/v1/memories")
    assert_problem(response, 503, "query_timeout")
    assert "Retry-After" in response


def web_process_statement_timeout(env: dict[str, str], code: str) -> str:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        **env,
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


SHOW = (
    "from django.db import connection\n"
    "with connection.cursor() as c:\n"
    "    c.execute('SHOW statement_timeout'); timeout = c.fetchone()[0]\n"
    "    try:\n"
    "        c.execute('SELECT pg_sleep(3)'); outcome = 'finished'\n"
    "    except Exception as exc:\n"
    "        outcome = type(exc.__cause__).__name__\n"
    "import json; print(json.dumps([timeout, outcome]))\n"
)


@pytest.mark.django_db(transaction=True)
def test_the_web_process_connections_stop_a_runaway_query_at_the_timeout():
    timeout, outcome = web_process_statement_timeout(
        {"DB_STATEMENT_TIMEOUT_MS": "300"}, "import config.wsgi\n" + SHOW
    )
    assert timeout == "300ms"
    assert outcome == "QueryCanceled"


@pytest.mark.django_db(transaction=True)
def test_other_processes_have_no_statement_timeout_of_the_web():
    code = "import django, os\nos.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'\n"
    code += "django.setup()\n" + SHOW.replace("pg_sleep(3)", "pg_sleep(0.5)")
    timeout, outcome = web_process_statement_timeout({"DB_STATEMENT_TIMEOUT_MS": "300"}, code)
    assert (timeout, outcome) == ("0", "finished")


@pytest.mark.django_db(transaction=True)
def test_the_web_process_sets_the_timeout_without_a_startup_option_poolers_refuse():
    # PgBouncer refuses a startup packet with `options` ("unsupported startup parameter"), so
    # the web tier would not connect through it; a SET after connecting passes through.
    code = (
        "import config.wsgi, json\n"
        "from django.db import connection\n"
        "shown = []\n"
        "for _ in range(2):  # a new connection (CONN_MAX_AGE over) has it too\n"
        "    connection.close()\n"
        "    with connection.cursor() as c:\n"
        "        c.execute('SHOW statement_timeout'); shown.append(c.fetchone()[0])\n"
        "sent = sorted(connection.connection.info.get_parameters())\n"
        "print(json.dumps([shown, sent]))\n"
    )
    shown, sent = web_process_statement_timeout({"DB_STATEMENT_TIMEOUT_MS": "300"}, code)
    assert "options" not in sent
    assert shown == ["300ms", "300ms"]
