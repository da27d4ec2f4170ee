"""The `near_duplicates` flag at 50 % (issue 16, item 3): about half of 1,000 users, the same
ones in every request, whichever client asks (an API token, the PWA's session), and in every
process; and `manage.py near_duplicates_backfill` for those who had memories before."""

import io
import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from core.flags import flag_active_for_user, flag_active_user_ids
from duplicates.models import BackfillProgress, Calibration, Pair
from duplicates.tests.helpers import enrich_all, save, set_flag
from memories.models import Memory
from tests.fixtures import bearer_client
from tests.workers import ROOT, worker_database_url

CLEANING = "Pick up the dry cleaning on Friday before 6pm, ticket number 4411"
CLEANING_AGAIN = "Pick up the dry-cleaning on Friday before 6 pm, ticket number 4411"


def ids_inside_in_another_process(user_ids: range) -> set[int]:
    script = (
        "import django; django.setup(); from core.flags import flag_active_user_ids;"
        f"print(sorted(flag_active_user_ids('near_duplicates', range({user_ids.start}, "
        f"{user_ids.stop}))))"
    )
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=ROOT,
        env=env,
    ).stdout
    return set(eval(out.strip().splitlines()[-1]))  # noqa: S307 (a list of ints we printed)


@pytest.mark.django_db(transaction=True)
def test_half_of_1000_users_and_the_same_half_in_another_process():
    set_flag(everyone=None, percent=50)
    users = range(1, 1001)
    here = flag_active_user_ids("near_duplicates", users)
    assert 450 <= len(here) <= 550, len(here)
    assert flag_active_user_ids("near_duplicates", users) == here
    assert ids_inside_in_another_process(users) == here


@pytest.mark.django_db
def test_every_client_of_a_user_sees_the_same_answer():
    set_flag(everyone=None, percent=50)
    people = UserFactory.create_batch(16)
    for person in people:  # one open pair each, as if found while the flag was on for all
        a, b = save(person, CLEANING), save(person, CLEANING_AGAIN)
        first, second = sorted([a.pk, b.pk])
        Pair.objects.create(
            user=person, first_id=first, second_id=second, similarity=0.99, band="duplicate"
        )
    inside = {p.pk for p in people if flag_active_for_user("near_duplicates", p)}
    assert 0 < len(inside) < len(people)  # 16 users at 50 %: some of each, here

    for person in people:
        by_token = bearer_client(person).get("/api/v1/near-duplicates").json()["count"]
        session = APIClient()  # the PWA's way: a session cookie, no token
        session.force_login(person)
        by_session = session.get("/api/v1/near-duplicates").json()["count"]
        again = bearer_client(person).get("/api/v1/near-duplicates").json()["count"]
        expected = 1 if person.pk in inside else 0
        assert by_token == by_session == again == expected, person.pk


@pytest.mark.django_db
def test_backfill_finds_pairs_saved_before_the_flag_and_resumes(user, other_user):
    set_flag(everyone=False)
    for owner in (user, other_user):
        save(owner, CLEANING)
        save(owner, CLEANING_AGAIN)
        save(owner, "Call the plumber about the leaking kitchen tap")
    enrich_all()
    assert not Pair.objects.exists()  # the flag was off

    set_flag(everyone=True)
    out = io.StringIO()
    call_command(
        "near_duplicates_backfill",
        "--batch",
        "2",
        "--max-batches",
        "1",
        stdout=out,
        stderr=io.StringIO(),
    )
    assert "stopped; run again to resume" in out.getvalue()
    progress = BackfillProgress.objects.get(scope="all")
    assert progress.done == 2 and progress.finished_at is None

    call_command("near_duplicates_backfill", "--batch", "2", stdout=out, stderr=io.StringIO())
    progress.refresh_from_db()
    assert progress.done == 6  # resumed at 2, not from the start
    assert progress.finished_at is not None
    assert Pair.objects.filter(band="duplicate").count() == 2  # one per user
    assert set(Pair.objects.values_list("user_id", flat=True)) == {user.pk, other_user.pk}


@pytest.mark.django_db
def test_backfill_for_one_user_only_and_its_refusals(user, other_user):
    set_flag(everyone=False)
    for owner in (user, other_user):
        save(owner, CLEANING)
        save(owner, CLEANING_AGAIN)
    enrich_all()
    set_flag(everyone=True)

    call_command(
        "near_duplicates_backfill", "--user", user.email, stdout=io.StringIO(), stderr=io.StringIO()
    )
    assert set(Pair.objects.values_list("user_id", flat=True)) == {user.pk}

    with pytest.raises(CommandError, match=r"no such user: nobody@example\.com"):
        call_command("near_duplicates_backfill", "--user", "nobody@example.com")
    Calibration.objects.all().delete()
    with pytest.raises(CommandError, match="has no near-duplicate calibration"):
        call_command("near_duplicates_backfill")
    assert Memory.objects.live().count() == 4
