"""Admin logins are locked after repeated failures (django-axes); the API's are not."""

import datetime as dt

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

STRONG = "correct horse battery staple"


@pytest.fixture
def admin_user(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.AXES_FAILURE_LIMIT = 3
    return UserFactory(email="boss@example.com", password=STRONG, is_staff=True)


def admin_login(client, password, ip="203.0.113.7"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": "boss@example.com", "password": password},
        REMOTE_ADDR=ip,
    )


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_repeated_wrong_admin_passwords_lock_the_account_until_the_cool_off(admin_user, settings):
    client = Client()
    for _ in range(2):
        assert admin_login(client, "wrong password").status_code == 200  # the form again
    assert admin_login(client, "wrong password").status_code == 429  # the third: locked
    locked = admin_login(client, STRONG)
    assert locked.status_code == 429
    assert not logged_in(client)
    # Keyed by the account: another address does not get around it.
    elsewhere = Client()
    assert admin_login(elsewhere, STRONG, ip="198.51.100.4").status_code == 429
    assert not logged_in(elsewhere)

    settings.AXES_COOLOFF_TIME = dt.timedelta(seconds=0)  # the cool-off is over
    assert admin_login(client, STRONG).status_code == 302
    assert logged_in(client)


def test_api_logins_are_not_locked_by_axes(admin_user):
    for _ in range(3):
        admin_login(Client(), "wrong password")
    assert admin_login(Client(), STRONG).status_code == 429
    response = APIClient().post(
        "/api/v1/auth/login",
        {"email": "boss@example.com", "password": STRONG},
        format="json",
        REMOTE_ADDR="203.0.113.7",
    )
    assert response.status_code == 200, response.content


def test_wrong_api_passwords_do_not_lock_the_admin(admin_user):
    for _ in range(5):
        response = APIClient().post(
            "/api/v1/auth/token",
            {"email": "boss@example.com", "password": "wrong password"},
            format="json",
        )
        assert response.status_code == 400
    assert admin_login(Client(), STRONG).status_code == 302
