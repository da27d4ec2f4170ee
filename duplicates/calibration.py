"""Calibrating the near-duplicate thresholds for an embedding model on the labelled set
(duplicates/labelled/pairs.jsonl, its PROVENANCE.md says how it was made).

Each pair is embedded the way a memory is (memories.embeddings.embedding_text) by the model,
and called a near-duplicate when its similarity reaches a threshold or its two links are the
same page (link_key), as candidates_find does. For each threshold: precision and recall of
"duplicate" pairs, and precision of "duplicate or related" against "different" ones.

- t_high: the lowest threshold from which precision stays ≥ TARGET_PRECISION at every higher
  one (the recall it keeps is what that precision costs);
- t_low: the highest threshold at which the pairs labelled "duplicate" or "related" are still
  found at RELATED_RECALL or more, with "related" precision ≥ TARGET_PRECISION (against
  "different" pairs); never above t_high. A precision rule alone would put it near 0: the set
  holds few unrelated pairs, and none of them comes close.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from memories.embeddings import embedding_text
from memories.normalization import link_key

LABELLED_PAIRS = Path(__file__).resolve().parent / "labelled" / "pairs.jsonl"
TARGET_PRECISION = 0.95
RELATED_RECALL = 0.80
STEP = 0.005  # the thresholds tried: 0, 0.005, …, 0.995


@dataclass(frozen=True)
class LabelledPair:
    id: str
    a: str  # the text embedded
    b: str
    label: str  # duplicate, related or different
    category: str
    same_link: bool


@dataclass(frozen=True)
class Row:
    threshold: float
    precision: float  # of pairs called near-duplicates, how many are labelled duplicate
    recall: float  # of duplicate pairs, how many are called near-duplicates
    related_precision: float  # of pairs at or above it, how many are duplicate or related
    related_recall: float
    called: int


@dataclass(frozen=True)
class Result:
    model: str
    pairs: int
    similarities: list[float]
    rows: list[Row]
    t_high: float
    t_low: float

    def at(self, threshold: float) -> Row:
        return min(self.rows, key=lambda row: abs(row.threshold - threshold))


def load_pairs(path: Path = LABELLED_PAIRS) -> list[LabelledPair]:
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        a, b = record["a"], record["b"]
        key_a, key_b = link_key(a.get("url", "")), link_key(b.get("url", ""))
        pairs.append(
            LabelledPair(
                id=record["id"],
                a=embedding_text(a.get("title", ""), a["content"], a.get("url", "")),
                b=embedding_text(b.get("title", ""), b["content"], b.get("url", "")),
                label=record["label"],
                category=record["category"],
                same_link=bool(key_a) and key_a == key_b,
            )
        )
    return pairs


def cosine(u: Sequence[float], v: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(u, v, strict=True))
    return dot / (math.sqrt(sum(x * x for x in u)) * math.sqrt(sum(y * y for y in v)))


def _row(threshold: float, pairs: list[LabelledPair], similarities: list[float]) -> Row:
    called = [p.same_link or s >= threshold for p, s in zip(pairs, similarities, strict=True)]
    duplicates = [p.label == "duplicate" for p in pairs]
    true_positives = sum(c and d for c, d in zip(called, duplicates, strict=True))
    alike = [p.label != "different" for p in pairs]
    above = [s >= threshold for s in similarities]
    alike_above = sum(a and b for a, b in zip(alike, above, strict=True))
    return Row(
        threshold=round(threshold, 3),
        precision=true_positives / sum(called) if any(called) else 1.0,
        recall=true_positives / sum(duplicates) if any(duplicates) else 0.0,
        related_precision=alike_above / sum(above) if any(above) else 1.0,
        related_recall=alike_above / sum(alike) if any(alike) else 0.0,
        called=sum(called),
    )


def _lowest_steady(rows: list[Row], precision: Callable[[Row], float]) -> float:
    """The lowest threshold from which `precision` stays at or above the target; of the
    thresholds that call the same pairs as that one, the highest (nothing in the set tells
    them apart, and the higher is the safer on pairs it has not seen)."""
    lowest = len(rows) - 1
    for i in range(len(rows) - 1, -1, -1):
        if precision(rows[i]) < TARGET_PRECISION:
            break
        lowest = i
    while lowest + 1 < len(rows) and rows[lowest + 1].called == rows[lowest].called:
        lowest += 1
    return rows[lowest].threshold


def calibrate(
    *, model: str, embed: Callable[[list[str]], list[Sequence[float]]], pairs: list[LabelledPair]
) -> Result:
    """Embed the pairs with `embed` (texts → vectors, in order) and choose the thresholds."""
    vectors = embed([p.a for p in pairs] + [p.b for p in pairs])
    half = len(pairs)
    similarities = [cosine(vectors[i], vectors[half + i]) for i in range(half)]
    steps = round(1 / STEP)
    rows = [_row(i * STEP, pairs, similarities) for i in range(steps)]
    t_high = _lowest_steady(rows, lambda row: row.precision)
    floor = _lowest_steady(rows, lambda row: row.related_precision)
    reaching = [
        row.threshold
        for row in rows
        if row.related_recall >= RELATED_RECALL and row.threshold >= floor
    ]
    t_low = min(max(reaching, default=floor), t_high)
    return Result(model, len(pairs), similarities, rows, t_high, t_low)


def report(result: Result) -> list[str]:
    """The table the command prints and docs/near-duplicates.md shows (Markdown): every 0.05
    from 0.2, every 0.01 from 0.9, and the chosen thresholds."""
    lines = [
        "| threshold | near-duplicate precision | recall | called | related precision "
        "| related recall |",
        "|---|---|---|---|---|---|",
    ]
    marks = {result.t_high: " (t_high)", result.t_low: " (t_low)"}
    if result.t_high == result.t_low:
        marks[result.t_high] = " (t_high = t_low)"

    def on_grid(threshold: float, every: float) -> bool:
        return abs(threshold / every - round(threshold / every)) < 1e-6

    for row in result.rows:
        t = row.threshold
        if t in marks or (t >= 0.2 and on_grid(t, 0.05)) or (t >= 0.9 and on_grid(t, 0.01)):
            lines.append(
                f"| {t:.3f}{marks.get(t, '')} | {row.precision:.3f} | {row.recall:.3f} "
                f"| {row.called} | {row.related_precision:.3f} | {row.related_recall:.3f} |"
            )
    return lines


def recall_by_category(result: Result, pairs: list[LabelledPair]) -> dict[str, tuple[int, int]]:
    """For each category: (pairs called near-duplicates at t_high, pairs)."""
    counts: dict[str, tuple[int, int]] = {}
    for pair, similarity in zip(pairs, result.similarities, strict=True):
        called, total = counts.get(pair.category, (0, 0))
        hit = pair.same_link or similarity >= result.t_high
        counts[pair.category] = (called + hit, total + 1)
    return counts
