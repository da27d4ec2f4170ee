"""Category, tags and summary without a chat model: no AI spend beyond the embedding.

Category and tags are the prototypes nearest to the memory's embedding (cosine); each
prototype is the mean of a few example notes, embedded once per model and process. The summary is
extractive: the first sentence, shortened to SUMMARY_CHARS.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

import numpy as np

SUMMARY_CHARS = 160
TAG_THRESHOLD = 0.3
MAX_AI_TAGS = 3

# Each label is the mean of a few example notes: closer to what people write than keywords.
CATEGORIES = {
    "work": [
        "Meeting with the team about the project deadline",
        "Send the quarterly report to my manager",
        "Client call about the contract",
    ],
    "learning": [
        "Read the chapter on statistics for the course",
        "Watch the lecture about linear algebra",
        "Notes from the history book",
    ],
    "technology": [
        "The SQL query on the database is slow, add an index",
        "Fix the bug in the Python code and deploy to the server",
        "Postgres, Linux and software tools for programming",
    ],
    "health": [
        "Doctor appointment on Monday about my back pain",
        "Go for a run and sleep eight hours",
        "Take the medicine twice a day",
    ],
    "finance": [
        "Pay the electricity bill and check the bank account",
        "Tax return due in April",
        "Monthly budget and savings plan",
    ],
    "travel": [
        "Book flights and a hotel for the trip to Lisbon",
        "Places to visit in Japan",
        "Pack passport and tickets for the journey",
    ],
    "food": [
        "Recipe: cook pasta with tomato sauce",
        "Try the new restaurant downtown",
        "Buy vegetables and bake bread for dinner",
    ],
    "personal": [
        "Call mum on her birthday",
        "Dinner with friends on Saturday",
        "Clean the house and water the plants",
    ],
    "ideas": [
        "Idea for a new app that helps people share rides",
        "What if we built a tool to sort photos automatically",
        "Brainstorm names for the startup",
    ],
    "entertainment": [
        "Watch that new movie this weekend",
        "Album to listen to",
        "Video game and TV series recommendations",
    ],
    "shopping": [
        "Buy a new winter jacket",
        "Order a phone charger online",
        "Shopping list: shoes, lamp, headphones",
    ],
}

TAGS = {
    "reading": ["An article to read later", "A book recommendation to read"],
    "meeting": ["Meeting with people at 10am", "Schedule a call with the team"],
    "todo": ["Remember to do this task tomorrow", "Must not forget to renew it"],
    "recipe": ["A recipe with ingredients and cooking steps", "How to cook this dish"],
    "programming": ["Source code and software development", "Fix the bug in the program"],
    "database": ["SQL query on a database table", "Postgres index and query plan"],
    "ai": ["Machine learning and language models", "Artificial intelligence research"],
    "fitness": ["Workout at the gym", "Running and exercise plan"],
    "travel": ["A trip by plane to another country", "Hotel and flight booking"],
    "money": ["Payments, costs and prices", "Budget and money spent"],
    "music": ["A song or album to listen to", "Concert tickets"],
    "film": ["A movie to watch", "A TV series episode"],
    "quote": ["A quotation: something someone famous said", "A memorable saying"],
    "gift": ["A gift idea for someone's birthday", "Present to buy for a friend"],
    "family": ["Parents, children and relatives", "Family gathering at home"],
}


def summarize(text: str) -> str:
    text = " ".join(text.split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    sentence = match.group(1) if match else text
    if len(sentence) <= SUMMARY_CHARS:
        return sentence
    cut = sentence[: SUMMARY_CHARS - 1].rsplit(" ", 1)[0]
    return cut + "…"


class Prototypes:
    """Unit vectors of the category and tag descriptions for one model."""

    def __init__(self, categories: np.ndarray, tags: np.ndarray) -> None:
        self.categories, self.tags = categories, tags

    def classify(self, vector: list[float]) -> tuple[str, list[str]]:
        v = np.asarray(vector, dtype=np.float32)
        v = v / (np.linalg.norm(v) or 1.0)
        category = list(CATEGORIES)[int(np.argmax(self.categories @ v))]
        scores = self.tags @ v
        order = np.argsort(-scores)[:MAX_AI_TAGS]
        tags = [list(TAGS)[i] for i in order if scores[i] >= TAG_THRESHOLD]
        return category, tags


_cache: dict[str, Prototypes] = {}
_lock = threading.Lock()


def prototypes_for(model: str, embed: Callable[[list[str]], list[list[float]]]) -> Prototypes:
    """The prototypes of `model`, embedding the descriptions with `embed` the first time."""
    with _lock:
        if model not in _cache:
            labels = [*CATEGORIES.values(), *TAGS.values()]
            texts = [example for examples in labels for example in examples]
            vectors = np.asarray(embed(texts), dtype=np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            means, start = [], 0
            for examples in labels:
                mean = vectors[start : start + len(examples)].mean(axis=0)
                means.append(mean / np.linalg.norm(mean))
                start += len(examples)
            centroids = np.stack(means)
            _cache[model] = Prototypes(centroids[: len(CATEGORIES)], centroids[len(CATEGORIES) :])
        return _cache[model]
