"""POST /api/v1/auth/signup, POST /api/v1/auth/token, GET /api/v1/me."""

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db

STRONG = "correct horse battery staple"


def test_signup_creates_an_account_on_the_default_plan_with_a_token(anon_client):
    response = anon_client.post(
        "/api/v1/auth/signup", {"email": "Ada@Example.com", "password": STRONG}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["user"]["email"] == "ada@example.com"
    assert body["user"]["plan"] == "free"
    token_client = APIClient()
    token_client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert token_client.get("/api/v1/me").json()["email"] == "ada@example.com"


def test_signup_rejects_a_bad_email(anon_client):
    response = anon_client.post(
        "/api/v1/auth/signup", {"email": "not-an-email", "password": STRONG}, format="json"
    )
    body = assert_problem(response, 400, "invalid")
    assert "email" in body["errors"]


def test_signup_rejects_a_weak_password_and_says_why(anon_client):
    response = anon_client.post(
        "/api/v1/auth/signup", {"email": "a@example.com", "password": "123"}, format="json"
    )
    body = assert_problem(response, 400, "invalid")
    assert "password" in body["errors"]
    assert "too short" in " ".join(body["errors"]["password"])
    assert not User.objects.filter(email="a@example.com").exists()


def test_signup_answers_409_for_an_email_taken_in_any_case(anon_client):
    UserFactory(email="taken@example.com")
    response = anon_client.post(
        "/api/v1/auth/signup", {"email": "TAKEN@example.com", "password": STRONG}, format="json"
    )
    assert_problem(response, 409, "email_taken")
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1


def test_signup_answers_403_when_disabled(anon_client, settings):
    settings.SIGNUP_ENABLED = False
    response = anon_client.post(
        "/api/v1/auth/signup", {"email": "b@example.com", "password": STRONG}, format="json"
    )
    assert_problem(response, 403, "signup_disabled")
    assert not User.objects.filter(email="b@example.com").exists()


def test_token_is_returned_for_the_right_credentials_whatever_the_email_case(anon_client):
    UserFactory(email="c@example.com", password=STRONG)
    response = anon_client.post(
        "/api/v1/auth/token", {"email": "C@Example.com", "password": STRONG}, format="json"
    )
    assert response.status_code == 200, response.content
    first = response.json()["token"]
    again = anon_client.post(
        "/api/v1/auth/token", {"email": "c@example.com", "password": STRONG}, format="json"
    )
    # Each call makes a new named token (API.md "API tokens"): a stored one cannot be shown
    # again, only its hash is kept. Both work.
    assert again.json()["token"] != first
    for token in (first, again.json()["token"]):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert client.get("/api/v1/me").json()["email"] == "c@example.com"


@pytest.mark.parametrize(
    "email,password",
    [("c@example.com", "wrong password here"), ("nobody@example.com", STRONG)],
)
def test_token_answers_400_for_wrong_credentials(anon_client, email, password):
    UserFactory(email="c@example.com", password=STRONG)
    response = anon_client.post(
        "/api/v1/auth/token", {"email": email, "password": password}, format="json"
    )
    assert_problem(response, 400, "invalid_credentials")


def test_token_is_refused_to_a_deactivated_account(anon_client):
    UserFactory(email="gone@example.com", password=STRONG, is_active=False)
    response = anon_client.post(
        "/api/v1/auth/token", {"email": "gone@example.com", "password": STRONG}, format="json"
    )
    assert_problem(response, 400, "invalid_credentials")


def test_me_shows_id_email_plan_and_time_zone(api, user):
    response = api.get("/api/v1/me")
    assert response.status_code == 200
    assert response.json() == {
        "id": user.id,
        "email": user.email,
        "plan": "free",
        "time_zone": "UTC",
    }


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Australia/Sydney", "UTC"])
def test_patch_me_sets_an_iana_time_zone(api, user, zone):
    response = api.patch("/api/v1/me", {"time_zone": zone}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["time_zone"] == zone
    user.refresh_from_db()
    assert user.time_zone == zone


@pytest.mark.parametrize(
    "zone",
    ["Mars/Olympus", "europe/berlin", "posix/Europe/Berlin", "localtime", "", "../../etc/passwd"],
)
def test_patch_me_refuses_what_is_not_an_iana_zone(api, user, zone):
    response = api.patch("/api/v1/me", {"time_zone": zone}, format="json")
    body = assert_problem(response, 400, "invalid")
    assert "time_zone" in body["errors"]
    user.refresh_from_db()
    assert user.time_zone == "UTC"


@pytest.mark.parametrize(
    "header",
    [None, "Bearer not-a-real-token", "Token abc", "Basic dXNlcjpwYXNz", "Bearer"],
)
def test_me_answers_401_without_valid_bearer_credentials(db, header):
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_session_login_works_for_the_pwa(user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get("/api/v1/me").json()["email"] == user.email
    # Unsafe requests with a session need the CSRF token.
    response = client.post("/api/v1/memories", {"content": "x"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
