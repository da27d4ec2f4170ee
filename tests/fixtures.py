"""Fixtures shared by every app's tests (loaded by the root conftest.py)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import TokenFactory, UserFactory


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


def bearer_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {TokenFactory(user=user).key}")
    return client


@pytest.fixture
def client_for():
    """client_for(user) -> an APIClient authenticated with the user's Bearer token."""
    return bearer_client


@pytest.fixture
def api(user) -> APIClient:
    return bearer_client(user)


@pytest.fixture(autouse=True)
def _restore_default_plans(request, django_db_blocker):
    """Transactional tests (live_server) flush every table, data migrations included.

    Put the default plans back afterwards so later tests find them as migrated.
    """
    yield
    if {"transactional_db", "live_server"} & set(request.fixturenames):
        from billing.migrations import _default_plans

        with django_db_blocker.unblock():
            _default_plans.ensure()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never `playwright install`: it cannot download)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()
