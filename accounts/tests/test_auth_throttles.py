"""Password guessing is throttled: per client IP on every credential endpoint, and failed
passwords per (email, IP) and per email across IPs (core.throttles, accounts.services)."""

import time
from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

import core.throttles
from accounts.tests.factories import UserFactory
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db

STRONG = "correct horse battery staple"


@pytest.fixture(autouse=True)
def inside_a_window(monkeypatch, settings):
    """Fixed windows: the throttles' clock stands still 30 s into the current hour, so no
    test straddles two windows; a fast password hasher keeps the many attempts quick."""
    frozen = (time.time() // 3600) * 3600 + 30
    monkeypatch.setattr(core.throttles, "time", SimpleNamespace(time=lambda: frozen))
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return frozen


@pytest.fixture
def victim(inside_a_window):
    return UserFactory(email="victim@example.com", password=STRONG)


def attempt(path, password, ip="203.0.113.7", email="victim@example.com", **extra):
    return APIClient().post(
        path, {"email": email, "password": password}, format="json", REMOTE_ADDR=ip, **extra
    )


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/auth/token"])
def test_the_eleventh_wrong_password_in_a_minute_is_429_but_another_ip_still_logs_in(victim, path):
    for _ in range(10):
        assert_problem(attempt(path, "wrong password"), 400, "invalid_credentials")
    refused = attempt(path, "wrong password")
    body = assert_problem(refused, 429, "rate_limited")
    assert int(refused["Retry-After"]) == 30  # the rest of the (frozen) minute
    assert body["retry_after"] == 30
    # Even the right password waits from the guessing IP...
    assert_problem(attempt(path, STRONG), 429, "rate_limited")
    # ...but the owner, elsewhere, is not locked out.
    assert attempt(path, STRONG, ip="198.51.100.4").status_code == 200


def test_failures_count_across_ips_per_email_up_to_a_looser_limit(victim, settings):
    settings.AUTH_THROTTLE_EMAIL_FAILURES_RATE = "12/hour"
    for n in range(12):
        response = attempt("/api/v1/auth/login", "wrong password", ip=f"192.0.2.{n}")
        assert_problem(response, 400, "invalid_credentials")
    refused = attempt("/api/v1/auth/login", STRONG, ip="198.51.100.4")
    assert_problem(refused, 429, "rate_limited")
    assert int(refused["Retry-After"]) == 3600 - 30


def test_a_right_password_does_not_count_as_a_failure(victim):
    for _ in range(12):
        assert attempt("/api/v1/auth/token", STRONG).status_code == 200


def test_every_credential_endpoint_shares_a_per_ip_limit(victim, settings):
    settings.AUTH_THROTTLE_IP_RATE = "4/min"
    assert attempt("/api/v1/auth/login", STRONG).status_code == 200
    assert attempt("/api/v1/auth/token", STRONG).status_code == 200
    assert attempt("/api/v1/auth/signup", STRONG, email="new1@example.com").status_code == 201
    assert_problem(attempt("/api/v1/auth/login", "wrong"), 400, "invalid_credentials")
    refused = attempt("/api/v1/auth/signup", STRONG, email="new2@example.com")
    body = assert_problem(refused, 429, "rate_limited")
    assert int(refused["Retry-After"]) == 30 and body["retry_after"] == 30
    assert attempt("/api/v1/auth/login", STRONG, ip="198.51.100.4").status_code == 200


def test_x_forwarded_for_is_ignored_without_trusted_proxies(victim, settings):
    settings.AUTH_THROTTLE_IP_RATE = "2/min"
    for n in range(2):
        forwarded = {"HTTP_X_FORWARDED_FOR": f"192.0.2.{n}"}
        assert attempt("/api/v1/auth/token", STRONG, **forwarded).status_code == 200
    spoofed = {"HTTP_X_FORWARDED_FOR": "192.0.2.99"}
    assert_problem(attempt("/api/v1/auth/token", STRONG, **spoofed), 429, "rate_limited")


def test_x_forwarded_for_names_the_client_behind_a_trusted_proxy(victim, settings):
    settings.AUTH_THROTTLE_IP_RATE = "2/min"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = "10.0.0.1"
    for _ in range(2):
        forwarded = {"HTTP_X_FORWARDED_FOR": "192.0.2.1"}
        assert attempt("/api/v1/auth/token", STRONG, ip=proxy, **forwarded).status_code == 200
    first = {"HTTP_X_FORWARDED_FOR": "192.0.2.1"}
    assert_problem(attempt("/api/v1/auth/token", STRONG, ip=proxy, **first), 429, "rate_limited")
    # The proxy appends the address it saw: a client's own X-Forwarded-For is ignored.
    other = {"HTTP_X_FORWARDED_FOR": "192.0.2.1, 192.0.2.2"}
    assert attempt("/api/v1/auth/token", STRONG, ip=proxy, **other).status_code == 200
