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
