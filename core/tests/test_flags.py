"""Feature flags read per user, sticky across requests, processes and clients (issue 16)."""

import subprocess
import sys

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from waffle import get_waffle_flag_model
from waffle.utils import get_setting

from accounts.models import User
from accounts.tests.factories import UserFactory
from billing.selectors import plan_default
from core.flags import flag_active_for_user, flag_active_user_ids, user_bucket

pytestmark = pytest.mark.django_db

Flag = get_waffle_flag_model()
FLAG = "some_feature"  # not near_duplicates: its migration creates that one


@pytest.fixture(autouse=True)
def _no_flags_cached_by_earlier_tests():
    """waffle caches flags in Redis, which outlives a test's rolled-back rows: a flag cached
    by one test would answer for the next test's flag of the same name."""
    cache = caches[get_setting("CACHE_NAME")]
    cache.delete_pattern("*waffle*")
    yield
    cache.delete_pattern("*waffle*")


def many_users(n: int) -> list[User]:
    """`n` accounts without passwords: hashing a thousand would take minutes."""
    plan = plan_default()
    return User.objects.bulk_create(
        User(email=f"flag-{i}@example.com", plan=plan) for i in range(n)
    )


def test_a_flag_that_does_not_exist_is_off(user):
    assert flag_active_for_user(FLAG, user) is False


def test_everyone_on_or_off_decides_for_all(user, django_capture_on_commit_callbacks):
    flag = Flag.objects.create(name=FLAG, everyone=True, percent=0)
    assert flag_active_for_user(FLAG, user) is True
    flag.everyone = False
    flag.percent = 99.9
    with django_capture_on_commit_callbacks(execute=True):  # waffle uncaches on commit
        flag.save()
    assert flag_active_for_user(FLAG, user) is False


def test_listed_users_and_staff_are_in(user, other_user):
    flag = Flag.objects.create(name=FLAG, staff=True)
    flag.users.add(user)
    staff = UserFactory(is_staff=True)
    assert flag_active_for_user(FLAG, user) is True
    assert flag_active_for_user(FLAG, staff) is True
    assert flag_active_for_user(FLAG, other_user) is False


def test_half_of_1000_users_are_in_at_50_percent_and_always_the_same_ones():
    call_command("waffle_flag", FLAG, "--percent", "50", "--create")
    users = many_users(1000)

    first = {u.pk for u in users if flag_active_for_user(FLAG, u)}
    again = {u.pk for u in users if flag_active_for_user(FLAG, u)}

    assert 450 <= len(first) <= 550, len(first)
    assert first == again
    # The pipeline's batch check (by ids, no user loaded) takes the same half.
    with CaptureQueriesContext(connection) as queries:
        by_ids = flag_active_user_ids(FLAG, [u.pk for u in users])
    assert by_ids == first
    assert len(queries) == 0
    # Another flag at 50 % takes another half: buckets are per flag.
    Flag.objects.create(name="other_feature", percent=50)
    other = {u.pk for u in users if flag_active_for_user("other_feature", u)}
    assert 0.35 < len(first & other) / len(first) < 0.65


def test_a_users_bucket_is_the_same_in_another_process():
    ids = [1, 2, 3, 1000, 123456]
    script = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings');"
        "django.setup(); from core.flags import user_bucket;"
        f"print([user_bucket('some_feature', i) for i in {ids}])"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == str([user_bucket(FLAG, i) for i in ids])


def test_raising_the_percentage_only_adds_users(django_capture_on_commit_callbacks):
    users = many_users(300)
    flag = Flag.objects.create(name=FLAG, percent=10)
    at_10 = {u.pk for u in users if flag_active_for_user(FLAG, u)}
    flag.percent = 30
    with django_capture_on_commit_callbacks(execute=True):
        flag.save()
    at_30 = {u.pk for u in users if flag_active_for_user(FLAG, u)}
    assert at_10 < at_30


def test_listed_staff_rules_are_decided_by_id_too(user, other_user):
    flag = Flag.objects.create(name=FLAG, staff=True)
    flag.users.add(user)
    staff = UserFactory(is_staff=True)
    assert flag_active_user_ids(FLAG, [user.pk, other_user.pk, staff.pk]) == {user.pk, staff.pk}


def test_the_near_duplicates_flag_exists_and_is_off(user):
    flag = Flag.objects.get(name="near_duplicates")
    assert (flag.everyone, flag.percent) == (None, 0)
    assert flag_active_for_user("near_duplicates", user) is False
    assert flag_active_user_ids("near_duplicates", [user.pk]) == set()
