"""/api/docs/ renders in a real browser, from local assets only (no CDN on this network)."""

import pytest
from django.core.management import call_command
from waffle.models import Flag

from accounts.tests.factories import UserFactory
from billing.models import Plan
from memories.tests.factories import MemoryFactory


@pytest.mark.django_db(transaction=True)
def test_api_docs_render_every_endpoint_in_chromium(live_server, page):
    failed_requests = []
    page.on("requestfailed", lambda request: failed_requests.append(request.url))

    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)

    assert "Memory Connector API" in page.inner_text(".swagger-ui .info")
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    for path in [
        "/api/v1/memories",
        "/api/v1/memories/{id}",
        "/api/v1/auth/signup",
        "/api/v1/health",
        "/api/v1/export",
    ]:
        assert any(path in text.replace("\u200b", "") for text in paths), path
    assert failed_requests == []


@pytest.fixture(scope="module")
def flushed_like_after_a_transactional_test(django_db_setup, django_db_blocker):
    """The database as a transactional test leaves it (a live_server test here): flushed,
    data migrations' rows gone. Module scope, so it runs before the function-scoped autouse
    fixture that must put them back (tests/fixtures.py, _default_plans_exist); pytest-django
    runs transactional tests last, so no test order would do it."""
    with django_db_blocker.unblock():
        Plan.objects.create(name="gone-with-the-flush")
        call_command("flush", interactive=False, verbosity=0)
        assert not Plan.objects.exists()


@pytest.mark.django_db
def test_the_default_plans_are_back_after_a_transactional_test(
    flushed_like_after_a_transactional_test,
):
    assert not Plan.objects.filter(name="gone-with-the-flush").exists()  # it did flush
    assert list(Plan.objects.order_by("name").values_list("name", "max_memories")) == [
        ("free", 1_000),
        ("pro", 50_000),
        ("team", None),
    ]
    assert UserFactory().plan.name == "free"
    # The other data migration's rows are back too: the near-duplicates flag, off.
    assert Flag.objects.get(name="near_duplicates").percent == 0


# Records every CSP violation the page reports, from the first script on (before the page's own).
_RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def csp_violations(page, url: str, ready_selector: str) -> tuple[list[str], str]:
    """Load `url` and wait for `ready_selector`; the violations the page and the console
    reported, and the Content-Security-Policy header it was served with."""
    console_errors = []
    page.on(
        "console",
        lambda message: (
            console_errors.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    page.add_init_script(_RECORD_VIOLATIONS)
    response = page.goto(url)
    page.wait_for_selector(ready_selector, timeout=20_000)
    page.wait_for_load_state("networkidle")
    violations = console_errors + page.evaluate("window.__cspViolations")
    return violations, response.headers.get("content-security-policy", "")


def log_in_as_staff(page, live_server) -> None:
    """The browser gets the session of a superuser (Django's test client logs it in)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


@pytest.mark.django_db(transaction=True)
def test_api_docs_load_under_a_strict_content_security_policy(live_server, page):
    violations, policy = csp_violations(
        page, f"{live_server.url}/api/docs/", ".swagger-ui .opblock"
    )
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";")[0]
    assert violations == []
    assert page.locator(".swagger-ui .opblock").count() > 5


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("path", "ready"),
    [
        ("/admin/", "#content-main"),
        ("/admin/memories/memory/", "#changelist-form"),
        ("/admin/memories/memory/add/", "#memory_form"),
        ("/admin/billing/ailedgerentry/console/", "#spend-chart"),
    ],
)
def test_admin_pages_load_with_no_content_security_policy_violation(live_server, page, path, ready):
    MemoryFactory(content="shown in the admin list")
    log_in_as_staff(page, live_server)
    violations, policy = csp_violations(page, f"{live_server.url}{path}", ready)
    assert "object-src 'none'" in policy
    assert violations == []


@pytest.mark.django_db(transaction=True)
def test_the_home_page_loads_with_no_content_security_policy_violation(live_server, page):
    # The PWA when it is built, else the page saying it is not (config.views.frontend_index).
    violations, policy = csp_violations(page, f"{live_server.url}/", "body")
    assert "base-uri 'self'" in policy
    assert violations == []
