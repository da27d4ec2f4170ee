"""link_key: one key for the same page saved through different-looking links (issue 16)."""

import pytest

from memories.normalization import link_key

SAME_PAGE = [
    "https://example.org/post/42",
    "http://example.org/post/42",
    "https://www.example.org/post/42",
    "https://EXAMPLE.org/post/42/",
    "https://example.org:443/post/42",
    "https://example.org/post/42?utm_source=newsletter&utm_medium=email",
    "https://example.org/post/42?fbclid=IwAR0abc",
    "https://example.org/post/42#comments",
    "  https://example.org/post/42  ",
]


@pytest.mark.parametrize("url", SAME_PAGE)
def test_variants_of_a_link_have_one_key(url):
    assert link_key(url) == "example.org/post/42"


def test_the_query_that_names_the_page_counts_in_any_order():
    a = link_key("https://shop.example/item?id=3&color=red&utm_campaign=x")
    b = link_key("https://shop.example/item?color=red&id=3")
    assert a == b == "shop.example/item?color=red&id=3"


@pytest.mark.parametrize(
    "first,second",
    [
        ("https://example.org/post/42", "https://example.org/post/43"),
        ("https://example.org/Post/42", "https://example.org/post/42"),  # paths are case-sensitive
        ("https://example.org/item?id=3", "https://example.org/item?id=4"),
        ("https://example.org/app#/inbox", "https://example.org/app#/settings"),
        ("https://example.org:8080/a", "https://example.org/a"),
        ("https://blog.example.org/a", "https://example.org/a"),
    ],
)
def test_different_pages_have_different_keys(first, second):
    assert link_key(first) != link_key(second)


def test_no_url_has_no_key():
    assert link_key("") == link_key("   ") == ""


def test_a_port_that_is_not_a_number_does_not_break_the_key():
    assert link_key("https://example.org:abc/a") == "example.org:abc/a"
