"""Django admin: the operator console for users, plans and memories."""

import pytest
from django.test import Client

from accounts.tests.factories import UserFactory
from memories.tests.factories import MemoryFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/admin/accounts/user/",
        "/admin/accounts/user/?plan__id__exact=1&is_staff__exact=0&q=person",
        "/admin/billing/plan/",
        "/admin/memories/memory/",
        "/admin/memories/memory/?kind__exact=link&enrichment_status__exact=pending&q=pgvector",
        "/admin/memories/memory/?deleted_at__isempty=1",
    ],
)
def test_admin_lists_render_with_filters_and_search(staff_client, url):
    MemoryFactory(content="about pgvector", kind="link")
    response = staff_client.get(url)
    assert response.status_code == 200, url


def test_admin_memory_search_finds_by_content_and_owner(staff_client):
    memory = MemoryFactory(content="a very particular phrase")
    MemoryFactory(content="something else")
    response = staff_client.get("/admin/memories/memory/?q=particular")
    assert response.status_code == 200
    assert str(memory.pk) in response.content.decode()
    by_owner = staff_client.get(f"/admin/memories/memory/?q={memory.user.email}")
    assert str(memory.pk) in by_owner.content.decode()


def test_admin_change_pages_render(staff_client):
    memory = MemoryFactory()
    assert staff_client.get(f"/admin/memories/memory/{memory.pk}/change/").status_code == 200
    assert staff_client.get(f"/admin/accounts/user/{memory.user.pk}/change/").status_code == 200
    assert staff_client.get("/admin/accounts/user/add/").status_code == 200
    assert staff_client.get("/admin/billing/plan/1/change/").status_code == 200


def test_admin_can_edit_a_plan_limit(staff_client):
    from billing.models import Plan

    plan = Plan.objects.get(name="free")
    data = {field: getattr(plan, field) or "" for field in Plan.LIMIT_FIELDS}
    data.update(name="free", display_name="Free", max_memories=5)
    response = staff_client.post(f"/admin/billing/plan/{plan.pk}/change/", data)
    assert response.status_code == 302, response.content[:2000]
    plan.refresh_from_db()
    assert plan.max_memories == 5


def test_admin_is_refused_to_non_staff():
    client = Client()
    client.force_login(UserFactory())
    response = client.get("/admin/memories/memory/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


CONSOLE = "/admin/billing/ailedgerentry/console/"


@pytest.fixture
def ai_breaker_reset():
    from ai.breaker import ai_breaker

    ai_breaker.force(None)
    yield ai_breaker
    ai_breaker.force(None)


def console_staff(*codenames: str) -> Client:
    """A staff member's session holding exactly these permissions."""
    from django.contrib.auth.models import Permission

    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(*(Permission.objects.get(codename=name) for name in codenames))
    client = Client()
    client.force_login(staff)
    return client


def test_staff_who_may_only_view_the_console_cannot_force_the_breaker(ai_breaker_reset):
    client = console_staff("view_ailedgerentry")

    page = client.get(CONSOLE)
    assert page.status_code == 200
    assert 'name="force"' not in page.content.decode()  # no buttons they could not use
    assert client.post(f"{CONSOLE}breaker/", {"force": "open"}).status_code == 403
    assert ai_breaker_reset.forced() is None


def test_staff_with_the_force_permission_can_force_the_breaker(ai_breaker_reset):
    from ai.breaker import Forced

    client = console_staff("view_ailedgerentry", "force_ai_breaker")

    assert 'name="force"' in client.get(CONSOLE).content.decode()
    response = client.post(f"{CONSOLE}breaker/", {"force": "open"})
    assert response.status_code == 302
    assert ai_breaker_reset.forced() is Forced.OPEN
