"""What memories.normalization promises beyond test_link_key: a tag's inner whitespace becomes
one space, and link_key's edges (links without a host, a port that is not a number after a
password, trailing `X`s in a path, blank query values, `#!` routes)."""

import pytest

from memories.normalization import content_hash, link_key
from memories.services import memory_create

# clean_tags, as memory_create stores them


@pytest.mark.django_db
def test_a_tags_inner_whitespace_becomes_one_space(user):
    memory = memory_create(
        user=user, content="Braise the leeks", tags=["  Slow \t  Cooking ", "slow cooking"]
    ).memory
    assert memory.tags == ["slow cooking"]


# link_key


def test_a_link_without_a_host_keys_on_its_path_alone():
    assert link_key("mailto:ada@example.org") == "ada@example.org"


def test_a_port_that_is_not_a_number_is_kept_without_the_user_info_before_it():
    assert link_key("https://ada:secret@example.org:abc/a") == "example.org:abc/a"


def test_only_trailing_slashes_leave_the_path():
    assert link_key("https://example.org/BOX/") == "example.org/BOX"


def test_a_query_parameter_without_a_value_still_names_the_page():
    assert link_key("https://example.org/search?q=&page=2") == "example.org/search?page=2&q="
    assert link_key("https://example.org/item?preview") != link_key("https://example.org/item")


@pytest.mark.parametrize(
    "url,key",
    [
        ("https://example.org/app#/inbox", "example.org/app#/inbox"),
        ("https://example.org/#!/inbox", "example.org#!/inbox"),
        ("https://example.org/app?id=3#/inbox", "example.org/app?id=3#/inbox"),
    ],
)
def test_a_fragment_route_follows_the_rest_of_the_key_after_a_hash(url, key):
    assert link_key(url) == key


def test_a_content_hash_stays_what_stored_memories_were_saved_with():
    # Every live memory's hash is stored (the unique index of exact duplicates): a hash that
    # changed between releases would let each old memory be saved again, as migration 0008
    # had to recompute them once. This value was computed by the code that wrote them.
    assert content_hash("Buy oat milk", "https://Example.org/list/") == (
        "09e73fc9a8528541882ee9f46fc8629554b5720e9114e6a7095a3e9e79c23348"
    )
    assert content_hash("Buy oat milk") == content_hash("Buy oat milk", "")
