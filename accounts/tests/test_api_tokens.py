"""Named API tokens (API.md "API tokens"): shown once, stored as a SHA-256 digest,
revocable at once, all revoked when the password changes."""

import datetime as dt
import hashlib

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import token_create
from accounts.tests.factories import UserFactory
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db

STRONG = "correct horse battery staple"


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def create(client, name="laptop"):
    return client.post("/api/v1/tokens", {"name": name}, format="json")


def test_a_new_token_is_shown_once_and_stored_only_as_its_digest(api, user):
    from accounts.models import ApiToken

    response = create(api, "my script")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "name", "token"} and body["name"] == "my script"
    secret = body["token"]
    assert secret.startswith("mc_") and len(secret) >= 3 + 43  # 256 random bits
    stored = ApiToken.objects.get(pk=body["id"])
    assert stored.key_digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {str(value) for value in vars(stored).values()}
    assert bearer(secret).get("/api/v1/me").json()["email"] == user.email


def test_the_list_shows_the_users_tokens_and_never_a_secret(api, user, other_user, client_for):
    secret = create(api, "phone").json()["token"]
    client_for(other_user)  # someone else's token
    response = api.get("/api/v1/tokens")
    assert response.status_code == 200
    tokens = response.json()["results"]
    assert sorted(token["name"] for token in tokens) == ["phone", "test"]
    for token in tokens:
        assert set(token) == {"id", "name", "created_at", "last_used_at"}
    assert secret not in response.content.decode()


def test_a_user_has_many_named_tokens_that_all_work(api, user):
    secrets = [create(api, name).json()["token"] for name in ("cli", "mcp", "cron")]
    assert len(set(secrets)) == 3
    for secret in secrets:
        assert bearer(secret).get("/api/v1/me").status_code == 200


def test_a_name_is_required(api):
    body = assert_problem(api.post("/api/v1/tokens", {}, format="json"), 400, "invalid")
    assert "name" in body["errors"]


def test_a_deleted_token_stops_working_at_once(api):
    created = create(api).json()
    client = bearer(created["token"])
    assert client.get("/api/v1/me").status_code == 200
    assert api.delete(f"/api/v1/tokens/{created['id']}").status_code == 204
    assert_problem(client.get("/api/v1/me"), 401, "authentication_failed")
    assert_problem(api.delete(f"/api/v1/tokens/{created['id']}"), 404, "not_found")


def test_another_users_token_is_404_and_keeps_working(api, other_user, client_for):
    theirs = create(client_for(other_user)).json()
    assert_problem(api.delete(f"/api/v1/tokens/{theirs['id']}"), 404, "not_found")
    assert bearer(theirs["token"]).get("/api/v1/me").status_code == 200


def test_last_used_at_is_written_at_most_once_a_minute(api, user, django_assert_num_queries):
    from accounts.models import ApiToken

    created = create(api).json()
    client = bearer(created["token"])
    client.get("/api/v1/me")
    first = ApiToken.objects.get(pk=created["id"]).last_used_at
    assert first is not None and timezone.now() - first < dt.timedelta(seconds=30)
    with django_assert_num_queries(1):  # the token with its user and plan; no write
        client.get("/api/v1/me")
    assert ApiToken.objects.get(pk=created["id"]).last_used_at == first
    ApiToken.objects.filter(pk=created["id"]).update(last_used_at=first - dt.timedelta(minutes=2))
    client.get("/api/v1/me")
    assert ApiToken.objects.get(pk=created["id"]).last_used_at > first


def test_a_password_change_revokes_every_token(api, user):
    secrets = [create(api, name).json()["token"] for name in ("a", "b")]
    user.set_password("a brand new passphrase")
    user.save()
    for secret in secrets:
        assert_problem(bearer(secret).get("/api/v1/me"), 401, "authentication_failed")


def test_saving_a_user_without_a_new_password_keeps_the_tokens(api, user):
    secret = create(api).json()["token"]
    user.is_staff = True
    user.save()
    assert bearer(secret).get("/api/v1/me").status_code == 200


def test_a_stronger_rehash_of_the_same_password_at_login_keeps_the_tokens(user, anon_client):
    """Django re-hashes a password stored with older parameters when it checks it (after an
    upgrade raises PBKDF2's iterations): the password did not change, no token may go."""
    weaker = PBKDF2PasswordHasher()
    weaker.iterations = 1000
    user.password = weaker.encode("correct horse battery staple", weaker.salt())
    user.save()
    secret = token_create(user=user, name="script").secret
    response = anon_client.post(
        "/api/v1/auth/token",
        {"email": user.email, "password": "correct horse battery staple"},
        format="json",
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert f"${PBKDF2PasswordHasher.iterations}$" in user.password  # it was re-hashed
    assert bearer(secret).get("/api/v1/me").status_code == 200


def test_a_password_changed_in_admin_revokes_the_tokens(api, user):
    secret = create(api).json()["token"]
    staff = Client()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))
    new = "an admin chose this passphrase"
    response = staff.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": new, "password2": new, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content[:2000]
    assert_problem(bearer(secret).get("/api/v1/me"), 401, "authentication_failed")


def test_signup_and_auth_token_each_create_a_named_token(anon_client):
    from accounts.models import ApiToken

    signup = anon_client.post(
        "/api/v1/auth/signup", {"email": "new@example.com", "password": STRONG}, format="json"
    )
    first = signup.json()["token"]
    second = anon_client.post(
        "/api/v1/auth/token", {"email": "new@example.com", "password": STRONG}, format="json"
    ).json()["token"]
    assert first != second
    for secret in (first, second):
        assert secret.startswith("mc_")
        assert bearer(secret).get("/api/v1/me").status_code == 200
    names = ApiToken.objects.filter(user__email="new@example.com").values_list("name", flat=True)
    assert sorted(names) == ["auth/token", "signup"]


def test_the_plaintext_drf_token_admin_is_gone():
    from django.contrib import admin
    from rest_framework.authtoken.models import Token, TokenProxy

    assert not admin.site.is_registered(TokenProxy)
    assert not admin.site.is_registered(Token)


def test_token_admin_lists_searches_and_revokes_without_showing_a_secret(api, user):
    from accounts.models import ApiToken

    created = create(api, "old laptop").json()
    staff = Client()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))
    listing = staff.get(f"/admin/accounts/apitoken/?q={user.email}")
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "old laptop" in page and created["token"] not in page
    digest = ApiToken.objects.get(pk=created["id"]).key_digest
    change = staff.get(f"/admin/accounts/apitoken/{created['id']}/change/").content.decode()
    assert digest not in change and created["token"] not in change
    assert staff.get("/admin/accounts/apitoken/add/").status_code == 403
    response = staff.post(f"/admin/accounts/apitoken/{created['id']}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert_problem(bearer(created["token"]).get("/api/v1/me"), 401, "authentication_failed")


def test_changepassword_command_revokes_the_tokens(api, user, monkeypatch):
    secret = create(api).json()["token"]
    new = "typed at the terminal"
    monkeypatch.setattr("getpass.getpass", lambda prompt="": new)
    call_command("changepassword", user.email)
    assert_problem(bearer(secret).get("/api/v1/me"), 401, "authentication_failed")


def test_a_replayed_creation_answers_the_same_token_without_keeping_its_secret(api):
    from core.models import IdempotencyKey

    def post():
        return api.post(
            "/api/v1/tokens", {"name": "ci"}, format="json", HTTP_IDEMPOTENCY_KEY="token-1"
        )

    first = post()
    assert first.status_code == 201, first.content
    secret = first.json()["token"]
    assert secret.startswith("mc_")
    again = post()
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == {**first.json(), "token": None}
    stored = b"".join(bytes(row.response_body) for row in IdempotencyKey.objects.all())
    assert stored and secret.encode() not in stored
    assert bearer(secret).get("/api/v1/me").status_code == 200


def test_an_account_holds_at_most_api_tokens_per_user(api, user, anon_client, settings):
    """A script asking /auth/token on every run would otherwise pile up live credentials."""
    settings.API_TOKENS_PER_USER = 3  # the `api` client's token is the first
    assert create(api, "second").status_code == 201
    assert create(api, "third").status_code == 201
    assert_problem(create(api, "fourth"), 409, "too_many_tokens")
    response = anon_client.post(
        "/api/v1/auth/token",
        {"email": user.email, "password": "correct horse battery staple"},
        format="json",
    )
    assert_problem(response, 409, "too_many_tokens")
    assert user.api_tokens.count() == 3
    # Revoking one makes room again.
    second = next(t for t in api.get("/api/v1/tokens").json()["results"] if t["name"] == "second")
    assert api.delete(f"/api/v1/tokens/{second['id']}").status_code == 204
    assert create(api, "fifth").status_code == 201
