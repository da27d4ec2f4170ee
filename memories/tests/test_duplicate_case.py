"""Duplicate detection keeps case where it means something: content and a URL's path and query
are case-sensitive (`/AbC` and `/abc` are different pages), scheme and host are not."""

import hashlib
import importlib
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memories.models import Memory
from memories.normalization import content_hash, normalize_text, normalize_url
from memories.tests.factories import MemoryFactory

pytestmark = pytest.mark.django_db


def save(client, **body):
    return client.post("/api/v1/memories", body, format="json")


def test_content_differing_only_in_case_is_another_memory_with_its_own_title_and_tags(api):
    first = save(api, content="Hello")
    second = save(api, content="hello", title="the lower-case one", tags=["greeting"])
    assert first.status_code == 201
    assert second.status_code == 201, second.json()
    assert second.json()["id"] != first.json()["id"]
    assert second.json()["title"] == "the lower-case one"
    assert second.json()["tags"] == ["greeting"]
    assert Memory.objects.count() == 2


def test_urls_differing_only_in_the_case_of_their_path_are_different_pages(api):
    first = save(api, content="an article", url="https://x.org/AbC")
    second = save(api, content="an article", url="https://x.org/abc")
    assert second.status_code == 201
    assert second.json()["id"] != first.json()["id"]


def test_a_urls_query_keeps_its_case_too(api):
    save(api, content="a video", url="https://youtube.example/watch?v=dQw4w9WgXcQ")
    other = save(api, content="a video", url="https://youtube.example/watch?v=dqw4w9wgxcq")
    assert other.status_code == 201


def test_scheme_and_host_stay_case_insensitive(api):
    first = save(api, content="an article", url="https://x.org/AbC")
    again = save(api, content="an article", url="HTTPS://X.Org/AbC")
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert again.json()["id"] == first.json()["id"]


def test_whitespace_and_unicode_width_still_make_no_new_memory(api):
    first = save(api, content="Call the dentist", url="https://x.org/AbC")
    again = save(api, content="  Call\tthe   dentist\n", url=" https://x.org/AbC ")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]


@pytest.mark.parametrize(
    ("url", "normalized"),
    [
        ("HTTPS://Example.COM/Path/To?Q=Yes#Frag", "https://example.com/Path/To?Q=Yes#Frag"),
        ("https://User:PassWord@Example.com:8443/A", "https://User:PassWord@example.com:8443/A"),
        ("  https://x.org/a  b ", "https://x.org/a b"),
        ("", ""),
        ("not a url at all", "not a url at all"),
        ("http://[::1/broken", "http://[::1/broken"),  # unparseable: kept as written
    ],
)
def test_normalize_url_lowercases_only_scheme_and_host(url, normalized):
    assert normalize_url(url) == normalized


def _old_fold(text: str) -> str:
    """The normalization as it was before: everything case-folded."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _old_hash(content: str, url: str) -> str:
    return hashlib.sha256((_old_fold(content) + "\x1f" + _old_fold(url)).encode()).hexdigest()


@given(
    text=st.text(),
    url=st.from_regex(r"\A(?i:https?|ftp)://[^/?#\s]{0,20}[/?#]?.{0,30}\Z") | st.text(),
)
def test_two_memories_equal_now_were_equal_before(text, url):
    # What keeps migration 0008 from breaking the unique index: the new normalization only
    # keeps case the old one folded, so folding it gives the old one back.
    assert normalize_text(text).casefold() == _old_fold(text)
    assert normalize_url(url).casefold() == _old_fold(url)


def test_the_migration_recomputes_every_stored_hash_in_batches(monkeypatch, user, other_user):
    from django.apps import apps

    migration = importlib.import_module("memories.migrations.0008_case_sensitive_content_hash")
    monkeypatch.setattr(migration, "BATCH_SIZE", 2)
    rows = [
        ("Hello World", "https://X.org/AbC", user),
        ("lower case already", "", user),
        ("Another Memory", "", other_user),
        ("Mixed Case", "HTTP://Example.com/Path?Q=1", other_user),
        ("Deleted One", "", user),
    ]
    memories = [
        MemoryFactory(user=owner, content=content, url=url, content_hash=_old_hash(content, url))
        for content, url, owner in rows
    ]
    Memory.objects.filter(pk=memories[-1].pk).update(deleted_at="2026-01-01T00:00:00Z")
    versions = {m.pk: m.version for m in Memory.objects.all()}

    migration.recompute_content_hashes(apps, schema_editor=None)

    for memory in Memory.objects.all():
        assert memory.content_hash == content_hash(memory.content, memory.url), memory.content
        assert memory.version == versions[memory.pk]  # not an edit: clients' ETags hold
    # Case variants of a migrated memory can now be saved beside it.
    MemoryFactory(user=user, content="hello world", url="https://x.org/AbC")
