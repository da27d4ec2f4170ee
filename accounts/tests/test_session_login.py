"""POST /api/v1/auth/login and /auth/logout: the PWA's session (API.md "Accounts")."""

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db

STRONG = "correct horse battery staple"


def login(client, email="pwa@example.com", password=STRONG):
    return client.post("/api/v1/auth/login", {"email": email, "password": password}, format="json")


@pytest.fixture
def person():
    return UserFactory(email="pwa@example.com", password=STRONG)


def test_login_answers_the_user_with_a_session_cookie_and_a_csrf_cookie(person):
    client = APIClient(enforce_csrf_checks=True)
    response = login(client, email="PWA@Example.com")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "user": {"id": person.id, "email": person.email, "plan": "free", "time_zone": "UTC"}
    }
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    csrf = response.cookies[settings.CSRF_COOKIE_NAME]
    assert session["httponly"] and session["samesite"] == "Lax"
    assert not csrf["httponly"] and csrf["samesite"] == "Lax"  # the PWA's script reads it
    assert client.get("/api/v1/me").json()["email"] == "pwa@example.com"


def test_login_rotates_the_session_key(person):
    client = APIClient()
    anonymous = client.session  # an anonymous session, as a fixation attack would plant
    anonymous["planted"] = True
    anonymous.save()
    planted = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert login(client).status_code == 200
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != planted


@pytest.mark.parametrize(
    "email,password",
    [("pwa@example.com", "wrong password here"), ("nobody@example.com", STRONG)],
)
def test_login_answers_400_invalid_credentials_and_sets_no_session(person, email, password):
    client = APIClient()
    response = login(client, email=email, password=password)
    assert_problem(response, 400, "invalid_credentials")
    assert settings.SESSION_COOKIE_NAME not in response.cookies


def test_login_refuses_a_deactivated_account(db):
    UserFactory(email="gone@example.com", password=STRONG, is_active=False)
    assert_problem(login(APIClient(), email="gone@example.com"), 400, "invalid_credentials")


def test_session_writes_need_the_csrf_token(person):
    client = APIClient(enforce_csrf_checks=True)
    assert login(client).status_code == 200
    without = client.post("/api/v1/memories", {"content": "no token"}, format="json")
    assert_problem(without, 403, "permission_denied")
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    with_token = client.post(
        "/api/v1/memories", {"content": "with token"}, format="json", HTTP_X_CSRFTOKEN=token
    )
    assert with_token.status_code == 201, with_token.content


def test_logout_ends_the_session(person):
    client = APIClient(enforce_csrf_checks=True)
    assert login(client).status_code == 200
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post("/api/v1/auth/logout", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 204
    assert_problem(client.get("/api/v1/me"), 401, "not_authenticated")


def test_a_password_change_ends_existing_sessions(person):
    client = APIClient()
    assert login(client).status_code == 200
    assert client.get("/api/v1/me").status_code == 200
    person.set_password("another long passphrase")
    person.save()
    assert_problem(client.get("/api/v1/me"), 401, "not_authenticated")
