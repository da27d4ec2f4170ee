"""`X-Account-Id` (docs/api.md): a request made for one account is refused, and does nothing,
when the session it arrives with is another account's (another account signed in in another
tab of the same browser)."""

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from memories.models import Memory
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser():
    """One browser's cookie jar, signed in as `second` after `first` signed in there."""
    first, second = UserFactory(), UserFactory()
    client = APIClient()
    client.force_login(first)
    client.force_login(second)  # another tab signed in: the one cookie is second's now
    return client, first, second


def test_a_save_made_for_the_account_that_left_is_refused_and_not_stored(browser):
    client, first, _second = browser

    response = client.post(
        "/api/v1/memories",
        {"content": "First's note, queued before the switch"},
        format="json",
        HTTP_X_ACCOUNT_ID=str(first.pk),
    )

    body = assert_problem(response, 401, "account_changed")
    assert str(first.pk) in body["detail"]
    assert not Memory.objects.exists()
    # Reads too: the first account's screen must not show the second's memories.
    assert_problem(
        client.get("/api/v1/memories", HTTP_X_ACCOUNT_ID=str(first.pk)), 401, "account_changed"
    )


def test_the_named_account_itself_and_requests_naming_none_go_through(browser):
    client, _first, second = browser

    named = client.post(
        "/api/v1/memories", {"content": "Mine"}, format="json", HTTP_X_ACCOUNT_ID=str(second.pk)
    )
    unnamed = client.get("/api/v1/memories")

    assert named.status_code == 201, named.content
    assert [m["content"] for m in unnamed.json()["results"]] == ["Mine"]


def test_a_token_of_another_account_is_refused_too(api, other_user):
    response = api.get("/api/v1/me", HTTP_X_ACCOUNT_ID=str(other_user.pk))
    assert_problem(response, 401, "account_changed")


def test_no_session_at_all_is_not_authenticated_as_before(anon_client, user):
    response = anon_client.get("/api/v1/me", HTTP_X_ACCOUNT_ID=str(user.pk))
    assert_problem(response, 401, "not_authenticated")


def test_a_sign_out_owed_for_the_account_that_left_does_not_end_anothers_session(browser):
    client, first, second = browser

    refused = client.post("/api/v1/auth/logout", HTTP_X_ACCOUNT_ID=str(first.pk))

    assert_problem(refused, 401, "account_changed")
    assert client.get("/api/v1/me").json()["id"] == second.pk  # still signed in
    ended = client.post("/api/v1/auth/logout", HTTP_X_ACCOUNT_ID=str(second.pk))
    assert ended.status_code == 204
    assert client.get("/api/v1/me").status_code == 401
