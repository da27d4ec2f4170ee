"""The PWA's Settings screen on the live stack: the plan's usage, and API tokens created,
used and revoked through the screen (../shared/PWA.md)."""

from __future__ import annotations

import re

import pytest
import requests
from django.conf import settings

from accounts.models import ApiToken, User
from accounts.tests.factories import TokenFactory
from tests.test_pwa import capture, sign_up

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module", autouse=True)
def _the_pwa_is_built():
    index = settings.FRONTEND_DIST / "index.html"
    assert index.is_file(), "the PWA is not built: `make frontend` (make test builds it first)"


def me_with(base_url: str, secret: str) -> requests.Response:
    return requests.get(
        f"{base_url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"}, timeout=10
    )


def test_settings_shows_usage_and_a_new_token_works_until_it_is_revoked(gunicorn_server, page):
    email = sign_up(page, gunicorn_server)
    capture(page, "The tomato soup recipe from grandma: roast the tomatoes first")

    page.get_by_role("link", name="Settings").click()
    stored = page.get_by_role("meter", name="Memories stored")
    stored.wait_for()
    assert stored.get_attribute("value") == "1"
    row = (
        page.get_by_role("list", name="Usage")
        .get_by_role("listitem")
        .filter(has_text="Memories stored")
    )
    assert re.search(r"^1 / \S", row.locator(".usage-amount").inner_text())
    assert "Never resets" in row.inner_text()

    tokens = page.get_by_role("list", name="API tokens")
    tokens.get_by_role("listitem").first.wait_for()  # the token signup made
    page.get_by_role("textbox", name="Token name").fill("laptop")
    page.get_by_role("button", name="Create token").click()
    secret_box = page.get_by_role("textbox", name="New token")
    secret = secret_box.input_value()
    assert secret
    answer = me_with(gunicorn_server, secret)
    assert answer.status_code == 200
    assert answer.json()["email"] == email

    page.get_by_role("button", name="Done").click()
    secret_box.wait_for(state="detached")
    assert secret not in page.content()
    laptop = tokens.get_by_role("listitem").filter(has_text="laptop")
    assert laptop.count() == 1

    # After a reload the list comes from the server: the token has been used since.
    page.reload()
    laptop.wait_for()
    assert "Last used" in laptop.inner_text()
    assert secret not in page.content()

    laptop.get_by_role("button", name="Revoke laptop").click()
    laptop.get_by_role("button", name="Revoke", exact=True).click()
    laptop.wait_for(state="detached")
    assert me_with(gunicorn_server, secret).status_code == 401
    page.reload()
    tokens.get_by_role("listitem").first.wait_for()
    assert tokens.get_by_role("listitem").filter(has_text="laptop").count() == 0


def test_a_token_over_the_cap_shows_the_servers_reason(gunicorn_server, page):
    email = sign_up(page, gunicorn_server)
    user = User.objects.get(email=email)
    held = ApiToken.objects.filter(user=user).count()
    TokenFactory.create_batch(settings.API_TOKENS_PER_USER - held, user=user)

    page.get_by_role("link", name="Settings").click()
    page.get_by_role("list", name="API tokens").get_by_role("listitem").first.wait_for()
    page.get_by_role("textbox", name="Token name").fill("one too many")
    page.get_by_role("button", name="Create token").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert f"holds {settings.API_TOKENS_PER_USER} API tokens" in alert.inner_text()
    assert page.get_by_role("textbox", name="New token").count() == 0
