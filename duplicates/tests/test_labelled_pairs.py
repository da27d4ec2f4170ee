"""Validate the labelled near-duplicate calibration set (issue 16, item 1). No database needed."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent.parent / "labelled"
PAIRS = DATA / "pairs.jsonl"

LABEL_BY_CATEGORY = {
    "paraphrase": "duplicate",
    "same_link_other_comment": "duplicate",
    "url_variant": "duplicate",
    "small_edit": "duplicate",
    "translation": "duplicate",
    "half": "duplicate",
    "quarter": "related",
    "related_hard_negative": "related",
    "package_dev_sibling": "related",
    "unrelated": "different",
}
LABELS = {"duplicate", "related", "different"}
MEMORY_KEYS = {"content", "title", "url"}
RECORD_KEYS = {"id", "a", "b", "label", "category", "source"}


@pytest.fixture(scope="module")
def records() -> list[dict]:
    lines = PAIRS.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_size_and_file_weight(records):
    assert len(records) >= 300
    assert PAIRS.stat().st_size < 600 * 1024


def test_every_category_has_enough_pairs(records):
    counts = Counter(r["category"] for r in records)
    assert set(counts) == set(LABEL_BY_CATEGORY)
    for category in LABEL_BY_CATEGORY:
        assert counts[category] >= 25, (category, counts[category])


def test_ids_unique_and_well_formed(records):
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids))
    for id_ in ids:
        assert id_.startswith("p") and id_[1:].isdigit() and len(id_) == 5, id_


def test_schema(records):
    for r in records:
        assert set(r) == RECORD_KEYS, r["id"]
        assert r["label"] in LABELS, r["id"]
        assert r["category"] in LABEL_BY_CATEGORY, r["id"]
        for side in ("a", "b"):
            memory = r[side]
            assert isinstance(memory, dict) and set(memory) == MEMORY_KEYS, r["id"]
            assert all(isinstance(memory[k], str) for k in MEMORY_KEYS), r["id"]


def test_no_empty_content_or_source(records):
    for r in records:
        assert r["a"]["content"].strip(), r["id"]
        assert r["b"]["content"].strip(), r["id"]
        assert isinstance(r["source"], str) and r["source"].strip(), r["id"]


def test_labels_follow_categories(records):
    for r in records:
        assert r["label"] == LABEL_BY_CATEGORY[r["category"]], r["id"]


def _key(memory: dict) -> tuple[str, str, str]:
    return (memory["content"], memory["title"], memory["url"])


def test_no_pair_twice_and_no_self_pairs(records):
    seen: dict[frozenset, str] = {}
    for r in records:
        a, b = _key(r["a"]), _key(r["b"])
        assert a != b, r["id"]
        pair = frozenset((a, b))
        assert pair not in seen, (r["id"], seen.get(pair))
        seen[pair] = r["id"]
    contents = Counter(frozenset((r["a"]["content"], r["b"]["content"])) for r in records)
    # Same content on both sides only where the URL is what differs (url_variant).
    for r in records:
        if r["a"]["content"] == r["b"]["content"]:
            assert r["category"] == "url_variant", r["id"]
        elif r["category"] != "url_variant":
            assert contents[frozenset((r["a"]["content"], r["b"]["content"]))] == 1, r["id"]


def test_category_shapes(records):
    for r in records:
        a, b, cat = r["a"], r["b"], r["category"]
        if cat == "same_link_other_comment":
            assert a["url"] and a["url"] == b["url"] and a["content"] != b["content"], r["id"]
        elif cat == "url_variant":
            assert a["url"] and b["url"] and a["url"] != b["url"], r["id"]
        elif cat in ("half", "quarter"):
            whole, part = a["content"], b["content"]
            assert part in whole, r["id"]
            share = len(part.split()) / len(whole.split())
            expected = 0.5 if cat == "half" else 0.25
            assert abs(share - expected) < 0.1, (r["id"], share)
        elif cat == "package_dev_sibling":
            assert r["source"].startswith("debian:"), r["id"]
            assert a["title"] != b["title"], r["id"]
            assert any(t.endswith("-dev") for t in (a["title"], b["title"])), r["id"]


def test_provenance_doc_lists_every_category():
    text = (DATA / "PROVENANCE.md").read_text(encoding="utf-8")
    for category in LABEL_BY_CATEGORY:
        assert category in text, category
