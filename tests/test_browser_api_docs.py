"""/api/docs/ renders in a real browser, from local assets only (no CDN on this network)."""

import pytest

from accounts.tests.factories import UserFactory


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


@pytest.mark.django_db
def test_the_default_plans_are_back_after_a_transactional_test():
    # Runs after the browser test, whose database flush removed the migrated plans.
    assert UserFactory().plan.name == "free"
