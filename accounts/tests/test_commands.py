"""manage.py createuser and setplan, as an operator scripts them."""

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_createuser_creates_an_account_that_can_log_in():
    call_command("createuser", "--email", "Ops@Example.com", "--password", "a long passphrase 1")
    user = User.objects.get(email="ops@example.com")
    assert user.check_password("a long passphrase 1")
    assert user.plan.name == "free"
    assert not user.is_staff


def test_createuser_sets_plan_and_staff():
    call_command(
        "createuser",
        "--email",
        "s@example.com",
        "--password",
        "a long passphrase 2",
        "--plan",
        "team",
        "--staff",
    )
    user = User.objects.get(email="s@example.com")
    assert user.plan.name == "team"
    assert user.is_staff and user.is_superuser


def test_createuser_refuses_a_duplicate_unless_exists_ok():
    UserFactory(email="d@example.com")
    with pytest.raises(CommandError, match="exists"):
        call_command("createuser", "--email", "d@example.com", "--password", "a long passphrase")
    call_command(
        "createuser", "--email", "d@example.com", "--password", "a long passphrase", "--exists-ok"
    )
    assert User.objects.filter(email="d@example.com").count() == 1


def test_createuser_refuses_an_unknown_plan_and_a_weak_password():
    with pytest.raises(CommandError, match="no plan named 'gold'"):
        call_command(
            "createuser",
            "--email",
            "e@example.com",
            "--password",
            "a long pass 3",
            "--plan",
            "gold",
        )
    with pytest.raises(CommandError, match="password rejected"):
        call_command("createuser", "--email", "e@example.com", "--password", "123")
    assert not User.objects.filter(email="e@example.com").exists()


def test_setplan_moves_an_account_to_another_plan():
    UserFactory(email="f@example.com")
    call_command("setplan", "F@example.com", "pro")
    assert User.objects.get(email="f@example.com").plan.name == "pro"


def test_setplan_names_what_is_wrong():
    UserFactory(email="g@example.com")
    with pytest.raises(CommandError, match="no account"):
        call_command("setplan", "nobody@example.com", "pro")
    with pytest.raises(CommandError, match="no plan named 'gold'"):
        call_command("setplan", "g@example.com", "gold")


def test_createuser_lists_the_new_account_on_a_feature_flag():
    from core.flags import flag_active_for_user

    call_command(
        "createuser", "--email", "f@example.com", "--password", "a long passphrase 3",
        "--flag", "near_duplicates",
    )  # fmt: skip
    user = User.objects.get(email="f@example.com")
    assert flag_active_for_user("near_duplicates", user) is True  # the flag itself is off
    assert flag_active_for_user("near_duplicates", UserFactory()) is False
    with pytest.raises(CommandError, match="no feature flag named nope"):
        call_command(
            "createuser", "--email", "g@example.com", "--password", "a long passphrase 4",
            "--flag", "nope",
        )  # fmt: skip
    assert not User.objects.filter(email="g@example.com").exists()
