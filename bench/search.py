"""Search benchmark (issue #5): a million memories with 384-d embeddings, loaded by COPY into
the embedded stack, the indexes built after the load, then for the heavy user:

- recall@10 of the app's HNSW query (`nearest_memories`: ef_search from settings, iterative
  scan) against an exact scan of the same rows, in the same database;
- the app's semantic DB time against the floor, the bare pgvector top-10 query;
- p50/p95 of GET /api/v1/search for mode=semantic (query embedding cached in Redis),
  keyword and hybrid, through gunicorn (4 sync workers), load from wrk.

    .venv/bin/python -m bench.search            # 1,000,000 memories, one user with 100,000
    .venv/bin/python -m bench.search --quick    # 60,000 and 10,000: what CI can afford

The vectors are synthetic (1M real MiniLM encodings take hours on 2 cores) but shaped like
sentence embeddings: 64 topics of 64 clusters each (4,096 Gaussian clusters around random
centres), noise with a decaying spectrum, a shared mean direction; random pairs have cosine
~0.06 and a query's 10th neighbour ~0.6, as with MiniLM on short notes. Texts are drawn from
a generated vocabulary (stop words, Zipf-distributed general words, per-topic and per-cluster
words), so a keyword query has realistic selectivity and agrees with its query vector.

Targets (issue #5): recall@10 >= 0.95; semantic DB time <= 1.5 x the raw pgvector query;
API p95 <= 25 ms for semantic with a cached query embedding and <= 30 ms for keyword.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import psycopg
from psycopg.copy import QueuedLibpqWriter

from bench.stack import (
    bench_services,
    first_value,
    print_targets,
    run_wrk,
    save_results,
    web_server,
)

DIMENSIONS = 384
TOPICS, CLUSTERS_PER_TOPIC = 64, 64
CLUSTER_SPREAD = 1.0  # cluster centre to topic centre, relative
NOISE = 1.0  # point to cluster centre: cosine ~0.7 to its centre, ~0.6 to its 10th neighbour
COMMON = 0.3  # the shared mean direction every embedding model has: random pairs ~0.06
HEAVY_TOPICS, LIGHT_TOPICS = 16, 4
TOPIC_WORDS, CLUSTER_WORDS, GENERAL_WORDS = 400, 20, 20_000
# fmt: off
STOP_WORDS = [
    "the", "a", "to", "and", "of", "in", "for", "on", "with", "at", "is", "my", "it", "this",
    "from", "that", "be", "about",
]
# fmt: on
KINDS, KIND_WEIGHTS = ["note", "link", "quote", "idea", "task"], [0.55, 0.1, 0.1, 0.15, 0.1]
PG_EPOCH = np.datetime64("2000-01-01T00:00:00", "us")

FULL = {"memories": 1_000_000, "heavy": 100_000, "light_size": 500, "queries": 200}
QUICK = {"memories": 60_000, "heavy": 10_000, "light_size": 250, "queries": 50}


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def pseudo_words(rng: np.random.Generator, count: int) -> list[str]:
    """`count` distinct pronounceable words that are not English stop words."""
    # fmt: off
    onsets = [
        "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w",
        "z", "br", "ch", "cl", "dr", "fl", "gr", "pl", "pr", "sh", "st", "tr",
    ]
    # fmt: on
    vowels = ["a", "e", "i", "o", "u", "ai", "ea", "ou", "io"]
    codas = ["", "", "", "n", "r", "s", "l", "m", "t", "x"]
    words: set[str] = set()
    while len(words) < count:
        syllables = int(rng.integers(2, 4))
        word = (
            "".join(
                onsets[rng.integers(len(onsets))] + vowels[rng.integers(len(vowels))]
                for _ in range(syllables)
            )
            + codas[rng.integers(len(codas))]
        )
        if word not in STOP_WORDS:
            words.add(word)
    return sorted(words)


class Corpus:
    """The shape of the data: topics, clusters, words, and who writes about what."""

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.rng = rng
        self.common = unit(rng.standard_normal(DIMENSIONS))
        topic_centres = unit(rng.standard_normal((TOPICS, DIMENSIONS)))
        self.cluster_topic = np.repeat(np.arange(TOPICS), CLUSTERS_PER_TOPIC)
        self.cluster_centres = unit(
            topic_centres[self.cluster_topic]
            + CLUSTER_SPREAD * unit(rng.standard_normal((TOPICS * CLUSTERS_PER_TOPIC, DIMENSIONS)))
        )
        # Sentence embeddings spread their variance over a few dozen main directions.
        spectrum = np.arange(1, DIMENSIONS + 1) ** -0.35
        self.noise_scale = NOISE * spectrum / np.sqrt((spectrum**2).sum())
        # Within a topic, some clusters are much more common than others.
        zipf = 1 / np.arange(1, CLUSTERS_PER_TOPIC + 1) ** 0.8
        self.cluster_weights = zipf / zipf.sum()
        self.cluster_order = np.array([rng.permutation(CLUSTERS_PER_TOPIC) for _ in range(TOPICS)])

        words = pseudo_words(rng, GENERAL_WORDS + TOPICS * TOPIC_WORDS)
        words = [words[i] for i in rng.permutation(len(words))]
        self.vocabulary = np.array(STOP_WORDS + words, dtype=object)
        self.stop_ids = np.arange(len(STOP_WORDS))
        self.general_ids = len(STOP_WORDS) + np.arange(GENERAL_WORDS)
        general_zipf = 1 / np.arange(1, GENERAL_WORDS + 1) ** 1.0
        self.general_p = general_zipf / general_zipf.sum()
        self.topic_ids = (
            len(STOP_WORDS) + GENERAL_WORDS + np.arange(TOPICS * TOPIC_WORDS)
        ).reshape(TOPICS, TOPIC_WORDS)
        self.cluster_ids = np.stack(
            [
                rng.choice(self.topic_ids[t], CLUSTER_WORDS, replace=False)
                for t in self.cluster_topic
            ]
        )

    def user_topics(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """A user's topics and how often they write about each (the first the most)."""
        topics = self.rng.choice(TOPICS, count, replace=False)
        weights = 1 / np.arange(1, count + 1) ** 0.5
        return topics, weights / weights.sum()

    def clusters(self, topics: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
        """`n` clusters for a user with these topics (or, 2-d, one row of topics per item)."""
        choice = self.rng.choice(topics.shape[-1], n, p=weights)
        topic = topics[np.arange(n), choice] if topics.ndim == 2 else topics[choice]
        rank = self.rng.choice(CLUSTERS_PER_TOPIC, n, p=self.cluster_weights)
        return topic * CLUSTERS_PER_TOPIC + self.cluster_order[topic, rank]

    def vectors(self, clusters: np.ndarray) -> np.ndarray:
        noise = self.rng.standard_normal((len(clusters), DIMENSIONS)) * self.noise_scale
        return unit(self.cluster_centres[clusters] + noise + COMMON * self.common).astype(
            np.float32
        )

    def texts(self, clusters: np.ndarray, *, low: int, high: int, stop: float) -> list[str]:
        """Word soup: stop words, the cluster's words, its topic's words, general words."""
        n, width = len(clusters), high
        rng = self.rng
        pick = rng.random((n, width))
        topics = self.cluster_topic[clusters]
        ids = np.select(
            [pick < stop, pick < stop + 0.17, pick < stop + 0.32],
            [
                self.stop_ids[rng.integers(0, len(self.stop_ids), (n, width))],
                self.cluster_ids[clusters[:, None], rng.integers(0, CLUSTER_WORDS, (n, width))],
                self.topic_ids[topics[:, None], rng.integers(0, TOPIC_WORDS, (n, width))],
            ],
            self.general_ids[rng.choice(GENERAL_WORDS, (n, width), p=self.general_p)],
        )
        lengths = rng.integers(low, high + 1, n)
        words = self.vocabulary[ids]
        return [" ".join(row[:length]) for row, length in zip(words.tolist(), lengths, strict=True)]

    def query_text(self, cluster: int) -> str:
        """What someone types to find a note of this cluster again: one or two words, from a
        word of the cluster (tens of the user's notes at full size) to a common word
        (thousands), or two of them (both must match: a handful)."""
        rng = self.rng
        own = self.cluster_ids[cluster]
        shape = rng.random()
        ids: list[Any] | np.ndarray  # of vocabulary indices
        if shape < 0.3:
            ids = [rng.choice(own)]
        elif shape < 0.55:
            ids = [self.general_ids[rng.integers(50, 2000)]]
        elif shape < 0.8:
            ids = [rng.choice(own), self.general_ids[rng.integers(20, 500)]]
        else:
            ids = rng.choice(own, 2, replace=False)
        return " ".join(self.vocabulary[i] for i in ids)


# --- Postgres ----------------------------------------------------------------------------

# Set when the server starts: a production server's cache, not the compiled-in 128 MB (a
# sixth of this 24 GB machine; the usual advice is a quarter of RAM).
SERVER_SETTINGS = {"shared_buffers": "4GB"}
BENCH_SYSTEM_SETTINGS = {
    # Bulk load and build in a throwaway cluster: fewer checkpoints, room for the HNSW graph.
    "max_wal_size": "16GB",
    "checkpoint_timeout": "30min",
    "maintenance_work_mem": "2GB",
    "max_parallel_maintenance_workers": "1",  # leader + 1 = the machine's 2 cores
}

INDEXES_SQL = """
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
WHERE (t.relname IN ('memories_memory', 'enrichment_embedding')
       OR t.relname ~ '^enrichment_embedding_p[0-9]+$')
  AND NOT i.indisprimary
  AND NOT EXISTS (SELECT FROM pg_constraint c
                  WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)
  AND NOT EXISTS (SELECT FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
ORDER BY 1
"""


def pg_connect(**kwargs) -> psycopg.Connection:
    return psycopg.connect(os.environ["DATABASE_URL"], **kwargs)


def tune_postgres() -> dict:
    with pg_connect(autocommit=True) as conn:
        for name, value in BENCH_SYSTEM_SETTINGS.items():
            conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        conn.execute("SELECT pg_reload_conf()")
        time.sleep(0.5)
        shown = {
            name: first_value(conn.execute(f"SHOW {name}").fetchone())
            for name in [*BENCH_SYSTEM_SETTINGS, "shared_buffers", "jit", "work_mem"]
        }
        shown["server_version"] = first_value(conn.execute("SHOW server_version").fetchone())
        shown["pgvector"] = first_value(
            conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
        )
    return shown


def drop_indexes() -> list[tuple[str, str]]:
    """Drop the secondary indexes of the two tables (the bench database only); return their
    definitions, as the migrations made them, to build again after the load."""
    with pg_connect(autocommit=True) as conn:
        indexes = conn.execute(INDEXES_SQL).fetchall()
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {name}")
    return indexes


def build_indexes(indexes: list[tuple[str, str]]) -> dict:
    timings: dict[str, float] = {}
    with pg_connect(autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '2GB'")
        for name, definition in indexes:
            # A partitioned index is listed ON ONLY the parent; built plainly it recurses.
            started = time.perf_counter()
            conn.execute(definition.replace(" ON ONLY ", " ON "))
            timings[name] = time.perf_counter() - started
            print(f"  {name}: {timings[name]:.1f} s", flush=True)
    kinds = {"hnsw": 0.0, "gin": 0.0, "btree": 0.0}
    for name, definition in indexes:
        kind = next((k for k in ("hnsw", "gin") if f"USING {k}" in definition), "btree")
        kinds[kind] += timings[name]
    return {
        "total_seconds": sum(timings.values()),
        "hnsw_seconds": kinds["hnsw"],
        "hnsw_largest_partition_seconds": max(
            (t for n, t in timings.items() if "hnsw" in n), default=0.0
        ),
        "gin_seconds": kinds["gin"],
        "btree_seconds": kinds["btree"],
        "per_index_seconds": timings,
    }


def binary_embedding_rows(
    user_ids: np.ndarray, memory_ids: np.ndarray, vectors: np.ndarray, created: np.ndarray
) -> bytes:
    """COPY BINARY rows of enrichment_embedding, built in one numpy record array."""
    model = MODEL.encode()
    record = np.dtype(
        [
            ("fields", ">i2"),
            ("user_len", ">i4"),
            ("user", ">i8"),
            ("memory_len", ">i4"),
            ("memory", "V16"),
            ("model_len", ">i4"),
            ("model", f"S{len(model)}"),
            ("dims_len", ">i4"),
            ("dims", ">i2"),
            ("vector_len", ">i4"),
            ("vector_dims", ">i2"),
            ("vector_unused", ">i2"),
            ("vector", ">f4", (DIMENSIONS,)),
            ("created_len", ">i4"),
            ("created", ">i8"),
        ]
    )
    rows = np.zeros(len(user_ids), dtype=record)
    rows["fields"] = 6
    rows["user_len"], rows["user"] = 8, user_ids
    rows["memory_len"], rows["memory"] = 16, memory_ids.view("V16").ravel()
    rows["model_len"], rows["model"] = len(model), model
    rows["dims_len"], rows["dims"] = 2, DIMENSIONS
    rows["vector_len"], rows["vector_dims"] = 4 + 4 * DIMENSIONS, DIMENSIONS
    rows["vector"] = vectors
    rows["created_len"] = 8
    rows["created"] = (created - PG_EPOCH).astype(np.int64)
    return rows.tobytes()


MEMORY_COLUMNS = (
    "id, user_id, kind, title, content, url, tags, category, summary, version,"
    " enrichment_status, enrichment_attempts, enrichment_error, content_hash,"
    " created_at, updated_at"
)
BINARY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
BINARY_TRAILER = b"\xff\xff"
MODEL = "all-MiniLM-L6-v2"  # the local provider's; checked against active_spec() in main


@dataclass
class Population:
    heavy_id: int
    heavy_token: str
    heavy_topics: tuple[np.ndarray, np.ndarray]
    light_ids: np.ndarray
    light_topics: np.ndarray  # (users, LIGHT_TOPICS), each row in its user's order of weight
    light_weights: np.ndarray


def make_users(corpus: Corpus, light_users: int) -> Population:
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    from accounts.models import User
    from accounts.services import token_create
    from billing.models import Plan

    call_command("plan", "bench")  # every limit unlimited: the benchmark measures speed
    plan = Plan.objects.get(name="bench")
    heavy = User.objects.create_user("heavy@example.com", "bench-password", plan=plan)
    unusable = make_password(None)  # hashing a password per user would take minutes
    light = User.objects.bulk_create(
        User(email=f"light{n}@example.com", password=unusable, plan=plan)
        for n in range(light_users)
    )
    return Population(
        heavy_id=heavy.pk,
        heavy_token=token_create(user=heavy, name="bench").secret,
        heavy_topics=corpus.user_topics(HEAVY_TOPICS),
        light_ids=np.array([u.pk for u in light], dtype=np.int64),
        light_topics=np.stack([corpus.user_topics(LIGHT_TOPICS)[0] for _ in light]),
        light_weights=corpus.user_topics(LIGHT_TOPICS)[1],
    )


def load(corpus: Corpus, people: Population, *, memories: int, heavy: int, chunk: int) -> dict:
    """COPY the memories (text) and their embeddings (binary) on two connections at once,
    in time order, users interleaved as they would be in real life."""
    rng = corpus.rng
    owner = np.concatenate(
        [np.full(heavy, -1), np.arange(memories - heavy) % len(people.light_ids)]
    )
    rng.shuffle(owner)
    span_us = 3 * 365 * 86400 * 10**6
    start = np.datetime64("now", "us") - np.timedelta64(span_us, "us")
    offsets = np.linspace(0, span_us, memories).astype(np.int64).astype("timedelta64[us]")
    created_all = start + offsets
    started = time.perf_counter()
    generating = 0.0
    with (
        pg_connect() as text_conn,
        pg_connect() as binary_conn,
        text_conn.cursor() as text_cur,
        binary_conn.cursor() as binary_cur,
    ):
        for conn in (text_conn, binary_conn):
            # The rows are consistent by construction: skip the per-row foreign-key triggers.
            conn.execute("SET session_replication_role = replica")
        with (
            text_cur.copy(
                f"COPY memories_memory ({MEMORY_COLUMNS}) FROM STDIN",
                writer=QueuedLibpqWriter(text_cur),
            ) as text_copy,
            binary_cur.copy(
                "COPY enrichment_embedding"
                " (user_id, memory_id, model, dimensions, embedding, created_at)"
                " FROM STDIN WITH (FORMAT BINARY)",
                writer=QueuedLibpqWriter(binary_cur),
            ) as binary_copy,
        ):
            binary_copy.write(BINARY_SIGNATURE)
            for offset in range(0, memories, chunk):
                t0 = time.perf_counter()
                owners = owner[offset : offset + chunk]
                n = len(owners)
                clusters = np.empty(n, dtype=np.int64)
                is_heavy = owners < 0
                clusters[is_heavy] = corpus.clusters(*people.heavy_topics, int(is_heavy.sum()))
                light = owners[~is_heavy]
                clusters[~is_heavy] = corpus.clusters(
                    people.light_topics[light], people.light_weights, len(light)
                )
                user_ids = np.where(is_heavy, people.heavy_id, people.light_ids[owners])
                raw_ids = rng.integers(0, 256, (n, 16), dtype=np.uint8)
                raw_ids[:, 6] = (raw_ids[:, 6] & 0x0F) | 0x40  # a version-4 UUID
                raw_ids[:, 8] = (raw_ids[:, 8] & 0x3F) | 0x80
                created = created_all[offset : offset + n]
                stamps = np.datetime_as_string(created, unit="us")
                titles = corpus.texts(clusters, low=2, high=6, stop=0.1)
                contents = corpus.texts(clusters, low=12, high=60, stop=0.33)
                kinds = rng.choice(KINDS, n, p=KIND_WEIGHTS)
                tag_counts = rng.integers(0, 3, n)
                topic_tags = corpus.vocabulary[corpus.topic_ids[corpus.cluster_topic[clusters], :2]]
                lines = []
                for i in range(n):
                    content = contents[i]
                    tags = ",".join(topic_tags[i, : tag_counts[i]])
                    digest = hashlib.sha256(content.encode()).hexdigest()
                    lines.append(
                        f"{raw_ids[i].tobytes().hex()}\t{user_ids[i]}\t{kinds[i]}\t{titles[i]}\t"
                        f"{content}\t\t{{{tags}}}\t\t\t1\tenriched\t1\t\t{digest}\t"
                        f"{stamps[i]}+00\t{stamps[i]}+00\n"
                    )
                payload = binary_embedding_rows(
                    user_ids, raw_ids, corpus.vectors(clusters), created
                )
                generating += time.perf_counter() - t0
                text_copy.write("".join(lines))
                binary_copy.write(payload)
                done = offset + n
                if done % (chunk * 5) == 0 or done == memories:
                    rate = done / (time.perf_counter() - started)
                    print(f"  loaded {done:,} ({rate:,.0f} rows/s)", flush=True)
            binary_copy.write(BINARY_TRAILER)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "generating_seconds": generating,
        "rows_per_second": memories / seconds,
    }


def vacuum_analyze() -> float:
    started = time.perf_counter()
    with pg_connect(autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) memories_memory")
        conn.execute("VACUUM (ANALYZE) enrichment_embedding")
        conn.execute("CHECKPOINT")
    return time.perf_counter() - started


def sizes(heavy_id: int) -> dict:
    with pg_connect() as conn:
        heavy_partition = first_value(
            conn.execute(
                "SELECT tableoid::regclass::text FROM enrichment_embedding"
                " WHERE user_id = %s LIMIT 1",
                [heavy_id],
            ).fetchone()
        )
        partitions: dict[str, int] = dict(
            conn.execute(
                "SELECT tableoid::regclass::text, count(*) FROM enrichment_embedding GROUP BY 1"
            ).fetchall()
        )

        def mb(sql: str) -> float:
            return round(float(first_value(conn.execute(sql).fetchone())) / 2**20, 1)

        return {
            "heavy_partition": heavy_partition,
            "heavy_partition_rows": partitions[heavy_partition],
            "partition_rows_min_max": [min(partitions.values()), max(partitions.values())],
            "memories_table_mb": mb("SELECT pg_table_size('memories_memory')"),
            "embeddings_table_mb": mb(
                "SELECT sum(pg_table_size(inhrelid)) FROM pg_inherits"
                " WHERE inhparent = 'enrichment_embedding'::regclass"
            ),
            "hnsw_indexes_mb": mb(
                "SELECT sum(pg_relation_size(indexrelid)) FROM pg_index"
                " JOIN pg_class ON pg_class.oid = indexrelid WHERE relname LIKE '%%hnsw%%'"
            ),
            "gin_search_vector_mb": mb("SELECT pg_relation_size('memory_search_vector')"),
        }


# --- Queries -----------------------------------------------------------------------------


@dataclass
class Query:
    text: str
    vector: np.ndarray

    @property
    def literal(self) -> str:
        from memories.embeddings import vector_literal

        return vector_literal(self.vector)


def make_queries(corpus: Corpus, topics: tuple[np.ndarray, np.ndarray], count: int) -> list[Query]:
    """Queries drawn like the user's own memories: a cluster they write about, a vector near
    its centre, and words of that cluster. Texts are distinct (they key the Redis cache)."""
    queries: dict[str, Query] = {}
    while len(queries) < count:
        cluster = int(corpus.clusters(*topics, 1)[0])
        text = corpus.query_text(cluster)
        if text not in queries:
            queries[text] = Query(text, corpus.vectors(np.array([cluster]))[0])
    return list(queries.values())


RAW_SQL = f"""
    SELECT memory_id FROM enrichment_embedding
    WHERE user_id = %s AND dimensions = {DIMENSIONS}
    ORDER BY embedding::vector({DIMENSIONS}) <=> %s::vector({DIMENSIONS})
    LIMIT %s
"""  # noqa: S608 - an int constant only


def index_options(cursor, ef_search: int) -> None:
    """The app's HNSW options, for the raw query too: without the iterative scan an index scan
    of a partition shared with other users returns fewer than k of this user's rows."""
    cursor.execute(
        "SELECT set_config('hnsw.ef_search', %s, false),"
        " set_config('hnsw.iterative_scan', 'relaxed_order', false)",
        [str(ef_search)],
    )


def raw_nearest(cursor, user_id: int, query: Query, limit: int = 10) -> list[str]:
    """The floor: the bare pgvector top-k over the user's rows (no join, no other filter),
    run with the app's index options (index_options)."""
    cursor.execute(RAW_SQL, [user_id, query.literal, limit])
    return [str(row[0]) for row in cursor.fetchall()]


def exact_nearest(user_id: int, query: Query, limit: int = 10) -> list[str]:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_indexscan = off")
        return raw_nearest(cursor, user_id, query, limit)


def app_nearest(user_id: int, query: Query, limit: int = 10) -> list[str]:
    from memories.embeddings import nearest_memories

    hits = nearest_memories(user_id=user_id, model=MODEL, vector=query.vector.tolist(), limit=limit)
    return [hit.memory_id for hit in hits]


def recall(found: list[list[str]], truth: list[list[str]]) -> float:
    return statistics.fmean(
        len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True) if t
    )


def percentile(samples: list[float], p: float) -> float:
    return float(np.percentile(samples, p))


def measure_db(user_id: int, queries: list[Query], *, passes: int) -> dict:
    """Client-side time of the app's nearest_memories (transaction, settings, join) and of the
    raw query on the same connection, after a warm-up pass. Each pass runs every query one
    way, then every query the other way, the order swapped from pass to pass: run back to
    back on the same vector, the second would find the first's pages in shared buffers."""
    from django.conf import settings
    from django.db import connection

    with connection.cursor() as cursor:
        index_options(cursor, settings.SEARCH_HNSW_EF_SEARCH)

    def raw(query: Query) -> None:
        with connection.cursor() as cursor:
            raw_nearest(cursor, user_id, query)

    def app(query: Query) -> None:
        app_nearest(user_id, query)

    per_pass = []
    for number in range(passes + 1):
        samples: dict[str, list[float]] = {"raw": [], "app": []}
        order = [("raw", raw), ("app", app)] if number % 2 else [("app", app), ("raw", raw)]
        for name, run in order:
            for query in queries:
                started = time.perf_counter()
                run(query)
                samples[name].append((time.perf_counter() - started) * 1000)
        if number:
            per_pass.append(
                {
                    f"{name}_p{p}_ms": percentile(samples[name], p)
                    for name in ("raw", "app")
                    for p in (50, 95)
                }
            )
    result: dict[str, Any] = {
        key: statistics.median(p[key] for p in per_pass) for key in per_pass[0]
    }
    result["app_to_raw_p50"] = result["app_p50_ms"] / result["raw_p50_ms"]
    result["app_to_raw_p95"] = result["app_p95_ms"] / result["raw_p95_ms"]
    result["passes"] = per_pass
    return result


def server_times(user_id: int, queries: list[Query]) -> dict:
    """Planning + execution time inside Postgres (EXPLAIN ANALYZE) of the app's exact SQL
    and of the raw query, on warm pages, and one plan of each for the record."""
    from django.conf import settings
    from django.db import connection, transaction

    from memories.embeddings import nearest_memories_sql

    def explain(sql: str, params) -> dict:
        with transaction.atomic(), connection.cursor() as cursor:
            index_options(cursor, settings.SEARCH_HNSW_EF_SEARCH)
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
            return cursor.fetchone()[0][0]

    app_ms: list[float] = []
    raw_ms: list[float] = []
    plans: dict[str, dict] = {}
    for number, query in enumerate(queries):
        app_nearest(user_id, query)  # warms the pages both plans read
        sql, params = nearest_memories_sql(
            user_id=user_id, model=MODEL, vector=query.vector.tolist(), limit=10
        )
        runs = [("app", sql, params), ("raw", RAW_SQL, [user_id, query.literal, 10])]
        for name, statement, values in runs if number % 2 else runs[::-1]:
            plan = explain(statement, values)
            (app_ms if name == "app" else raw_ms).append(
                plan["Planning Time"] + plan["Execution Time"]
            )
            plans.setdefault(name, plan)
    return {
        "app_p50_ms": percentile(app_ms, 50),
        "app_p95_ms": percentile(app_ms, 95),
        "raw_p50_ms": percentile(raw_ms, 50),
        "raw_p95_ms": percentile(raw_ms, 95),
        "app_to_raw_p50": percentile(app_ms, 50) / percentile(raw_ms, 50),
        "plans": plans,
    }


def measure_recall(user_id: int, queries: list[Query], ef_values: list[int]) -> dict:
    from django.conf import settings
    from django.db import connection
    from django.test import override_settings

    started = time.perf_counter()
    truth = [exact_nearest(user_id, q) for q in queries]
    exact_seconds = time.perf_counter() - started
    result: dict = {"exact_scan_ms_mean": exact_seconds * 1000 / len(queries), "by_ef_search": {}}
    for ef in ef_values:
        with override_settings(SEARCH_HNSW_EF_SEARCH=ef):
            found = [app_nearest(user_id, q) for q in queries]  # warm
            started = time.perf_counter()
            found = [app_nearest(user_id, q) for q in queries]
            seconds = time.perf_counter() - started
        with connection.cursor() as cursor:
            index_options(cursor, ef)
            raw_found = [raw_nearest(cursor, user_id, q) for q in queries]
        result["by_ef_search"][ef] = {
            "app_recall_at_10": recall(found, truth),
            "raw_recall_at_10": recall(raw_found, truth),
            "app_ms_mean": seconds * 1000 / len(queries),
        }
    result["app_recall_at_10"] = result["by_ef_search"][settings.SEARCH_HNSW_EF_SEARCH][
        "app_recall_at_10"
    ]
    return result


def keyword_selectivity(user_id: int, queries: list[Query]) -> dict:
    with pg_connect() as conn:
        mine, everyone = [], []
        for query in queries:
            tsquery = "websearch_to_tsquery('english', %s)"
            mine.append(
                first_value(
                    conn.execute(
                        f"SELECT count(*) FROM memories_memory WHERE user_id = %s"  # noqa: S608
                        f" AND search_vector @@ {tsquery}",
                        [user_id, query.text],
                    ).fetchone()
                )
            )
            everyone.append(
                first_value(
                    conn.execute(
                        f"SELECT count(*) FROM memories_memory WHERE search_vector @@ {tsquery}",  # noqa: S608
                        [query.text],
                    ).fetchone()
                )
            )
    return {
        "user_matches_p50": percentile(mine, 50),
        "user_matches_p95": percentile(mine, 95),
        "user_no_match_share": sum(1 for m in mine if m == 0) / len(mine),
        "all_users_matches_p50": percentile(everyone, 50),
        "all_users_matches_p95": percentile(everyone, 95),
    }


def misspell(text: str, rng: np.random.Generator) -> str:
    """Each word of 5+ letters with two neighbouring inner letters swapped or one dropped."""
    words = []
    for word in text.split():
        if len(word) >= 5:
            i = int(rng.integers(1, len(word) - 2))
            if rng.random() < 0.5:
                word = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
            else:
                word = word[:i] + word[i + 1 :]
        words.append(word)
    return " ".join(words)


def measure_typos(user_id: int, queries: list[Query], seed: int) -> dict:
    """The typo dictionaries built from every memory (what migration memories/0003 and the
    nightly rebuild do), then keyword search for misspelt queries: time, and how often the
    best answer to the query as meant is among the answers to the misspelt one."""
    from accounts.models import User
    from memories.lexicon import lexicon_rebuild
    from search.selectors import memory_search_keyword

    started = time.perf_counter()
    stems = lexicon_rebuild()
    rebuild_seconds = time.perf_counter() - started
    user = User.objects.get(pk=user_id)
    rng = np.random.default_rng(seed)
    pairs = [(q.text, misspell(q.text, rng)) for q in queries]
    pairs = [(meant, typed) for meant, typed in pairs if meant != typed]
    times, found, kept = [], 0, 0
    for meant, typed in pairs:
        best = memory_search_keyword(user=user, query=meant, limit=1)
        memory_search_keyword(user=user, query=typed)  # warm
        started = time.perf_counter()
        hits = memory_search_keyword(user=user, query=typed)
        times.append((time.perf_counter() - started) * 1000)
        found += bool(hits)
        if best and best[0].memory.pk in {hit.memory.pk for hit in hits}:
            kept += 1
    meant_found = sum(1 for meant, _ in pairs if memory_search_keyword(user=user, query=meant))
    return {
        "dictionary_rebuild_seconds": rebuild_seconds,
        "dictionary_stems": stems,
        "misspelt_queries": len(pairs),
        "search_p50_ms": percentile(times, 50),
        "search_p95_ms": percentile(times, 95),
        "answered_share": found / len(pairs),
        "best_answer_kept_share": kept / max(1, meant_found),
    }


# --- HTTP --------------------------------------------------------------------------------


def seed_query_cache(user_id: int, queries: list[Query]) -> None:
    """The query embeddings the API will look up for `user_id`, as query_embedding caches
    them (per user)."""
    from django_redis import get_redis_connection

    from ai.query import _cache_key

    redis = get_redis_connection("default")
    for query in queries:
        redis.set(
            _cache_key(user_id, MODEL, DIMENSIONS, query.text),
            query.vector.astype(np.float32).tobytes(),
        )


def search_path(query: Query, mode: str) -> str:
    return "/api/v1/search?" + urllib.parse.urlencode({"q": query.text, "mode": mode})


def check_api(base: str, token: str, queries: list[Query], mode: str) -> dict:
    """Every query once (also the warm-up): answered in the asked mode, never degraded."""
    import requests

    empty = 0
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        for query in queries:
            response = session.get(base + search_path(query, mode), timeout=30)
            response.raise_for_status()
            body = response.json()
            if body["mode_used"] != mode or body["degraded"]:
                sys.exit(
                    f"{mode} {query.text!r}: answered {body['mode_used']}, {body['degraded']=}"
                )
            empty += not body["results"]
    return {"queries": len(queries), "empty_answers": empty}


def in_process(token: str, queries: list[Query], mode: str) -> dict:
    """The same requests through Django's test client (no HTTP, no gunicorn, one at a time),
    with the time spent in the database's statements: where a request's time goes."""
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")
    in_db = [0.0]

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            in_db[0] += time.perf_counter() - started

    for query in queries:  # warm-up
        client.get(search_path(query, mode))
    total_ms, db_ms = [], []
    import search.selectors

    original = search.selectors.nearest_memories

    def nearest_timed(**kwargs):  # its query runs on psycopg directly, not through Django
        started = time.perf_counter()
        try:
            return original(**kwargs)
        finally:
            in_db[0] += time.perf_counter() - started

    with (
        connection.execute_wrapper(timed),
        mock.patch.object(search.selectors, "nearest_memories", nearest_timed),
    ):
        for _ in range(2):
            for query in queries:
                in_db[0] = 0.0
                started = time.perf_counter()
                client.get(search_path(query, mode))
                total_ms.append((time.perf_counter() - started) * 1000)
                db_ms.append(in_db[0] * 1000)
    return {
        "request_p50_ms": percentile(total_ms, 50),
        "request_p95_ms": percentile(total_ms, 95),
        "statements_p50_ms": percentile(db_ms, 50),
        "statements_p95_ms": percentile(db_ms, 95),
    }


def wrk(base: str, *, token: str, paths_file: Path, connections: int, seconds: int) -> dict:
    env = {"BENCH_TOKEN": token, "BENCH_PATHS_FILE": str(paths_file)}
    return run_wrk(base, script="search.lua", connections=connections, seconds=seconds, env=env)


def measure_api(
    base: str,
    token: str,
    queries: list[Query],
    *,
    connections: list[int],
    rounds: int,
    seconds: int,
) -> dict:
    modes = ["semantic", "keyword", "hybrid"]
    checks = {mode: check_api(base, token, queries, mode) for mode in modes}
    runs: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for mode in modes:
            files[mode] = Path(tmp) / f"{mode}.txt"
            files[mode].write_text("\n".join(search_path(q, mode) for q in queries) + "\n")
        for mode in modes:  # warm every worker's connections and imports
            wrk(base, token=token, paths_file=files[mode], connections=4, seconds=2)
        for _ in range(rounds):
            for conns in connections:
                for mode in modes:
                    result = wrk(
                        base,
                        token=token,
                        paths_file=files[mode],
                        connections=conns,
                        seconds=seconds,
                    )
                    if result["non_2xx"] or result["socket_errors"]:
                        sys.exit(f"{mode} at {conns}: errors in run: {result}")
                    runs.setdefault(f"{mode}_{conns}", []).append(result)
    summary = {}
    for name, results in runs.items():
        summary[name] = {
            "p50_ms": statistics.median(r["p50_us"] for r in results) / 1000,
            "p95_ms": statistics.median(r["p95_us"] for r in results) / 1000,
            "p99_ms": statistics.median(r["p99_us"] for r in results) / 1000,
            "rps": statistics.median(r["rps"] for r in results),
        }
    return {"summary": summary, "checks": checks, "runs": runs}


# --- Main --------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="CI size: 60,000 memories")
    parser.add_argument("--memories", type=int)
    parser.add_argument("--heavy", type=int, help="memories of the one heavy user")
    parser.add_argument("--light-size", type=int, help="memories per other user")
    parser.add_argument("--queries", type=int, help="queries for recall, DB time and the API")
    parser.add_argument("--rounds", type=int, help="wrk rounds (and DB timing passes)")
    parser.add_argument("--duration", type=int, help="seconds per wrk run")
    parser.add_argument("--connections", default="1,4", help="wrk connections, comma-separated")
    parser.add_argument("--chunk", type=int, default=50_000, help="rows generated per COPY write")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    size = QUICK if args.quick else FULL
    memories = args.memories or size["memories"]
    heavy = args.heavy or size["heavy"]
    light_size = args.light_size or size["light_size"]
    query_count = args.queries or size["queries"]
    rounds = args.rounds or (1 if args.quick else 3)
    seconds = args.duration or (3 if args.quick else 10)
    connections = [int(c) for c in args.connections.split(",")]
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk (make bench does this)")
    if not 0 < heavy < memories:
        sys.exit("--heavy must be between 0 and --memories")
    light_users = -(-(memories - heavy) // light_size)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    report: dict = {
        "memories": memories,
        "heavy_user_memories": heavy,
        "light_users": light_users,
        "light_user_memories": light_size,
        "queries": query_count,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    # The embeddings' model must be the active one, in this process and in gunicorn.
    with bench_services(extra_env={"AI_PROVIDER": "local"}, postgres_settings=SERVER_SETTINGS) as (
        workdir,
        env,
    ):
        import django

        django.setup()
        from django.conf import settings

        from memories.embeddings import active_spec

        spec = active_spec()
        if (spec.model, spec.dimensions) != (MODEL, DIMENSIONS):
            sys.exit(f"the active model is {spec.model}/{spec.dimensions}, not {MODEL}")
        report["postgres"] = tune_postgres()
        report["app_settings"] = {
            "SEARCH_HNSW_EF_SEARCH": settings.SEARCH_HNSW_EF_SEARCH,
            "iterative_scan": "relaxed_order",
        }
        print(f"postgres: {report['postgres']}", flush=True)

        corpus = Corpus(args.seed)
        people = make_users(corpus, light_users)
        indexes = drop_indexes()
        print(f"loading {memories:,} memories ({light_users:,} users + one with {heavy:,})")
        report["load"] = load(corpus, people, memories=memories, heavy=heavy, chunk=args.chunk)
        print(f"building {len(indexes)} indexes", flush=True)
        report["build"] = build_indexes(indexes)
        report["vacuum_analyze_seconds"] = vacuum_analyze()
        report["sizes"] = sizes(people.heavy_id)
        print(json.dumps({k: report[k] for k in ("load", "sizes")}, indent=2), flush=True)

        queries = make_queries(corpus, people.heavy_topics, query_count)
        ef = settings.SEARCH_HNSW_EF_SEARCH
        print("recall against an exact scan", flush=True)
        report["recall"] = measure_recall(people.heavy_id, queries, sorted({40, ef, 200}))
        print("DB time: app vs raw", flush=True)
        report["db"] = measure_db(people.heavy_id, queries, passes=max(rounds, 2))
        report["db_server"] = server_times(people.heavy_id, queries)
        light_queries = make_queries(corpus, (people.light_topics[0], people.light_weights), 20)
        light_id = int(people.light_ids[0])
        report["light_user"] = {
            "recall": measure_recall(light_id, light_queries, [ef]),
            "db": measure_db(light_id, light_queries, passes=2),
            "db_server": server_times(light_id, light_queries),
        }
        report["keyword_selectivity"] = keyword_selectivity(people.heavy_id, queries)
        print("typo dictionary and misspelt queries", flush=True)
        report["typos"] = measure_typos(people.heavy_id, queries, args.seed)
        print(json.dumps(report["typos"], indent=2), flush=True)
        print("API", flush=True)
        seed_query_cache(people.heavy_id, queries)
        report["in_process"] = {
            mode: in_process(people.heavy_token, queries, mode)
            for mode in ("semantic", "keyword", "hybrid")
        }
        # Started after the load: the first requests are slow on a machine still busy with it.
        with web_server(workdir, env, workers=4, ready_within=120) as base:
            report["api"] = measure_api(
                base,
                people.heavy_token,
                queries,
                connections=connections,
                rounds=rounds,
                seconds=seconds,
            )

    api = report["api"]["summary"]
    report["targets_met"] = {
        "recall_at_10_at_least_0.95": report["recall"]["app_recall_at_10"] >= 0.95,
        "semantic_db_within_1.5x_raw": report["db"]["app_to_raw_p50"] <= 1.5,
        **{
            f"semantic_p95_{c}_clients_at_most_25ms": api[f"semantic_{c}"]["p95_ms"] <= 25
            for c in connections
        },
        **{
            f"keyword_p95_{c}_clients_at_most_30ms": api[f"keyword_{c}"]["p95_ms"] <= 30
            for c in connections
        },
    }
    printable = {k: v for k, v in report.items() if k not in ("db_server",)}
    printable["api"] = api
    print(json.dumps(printable, indent=2, default=str))
    save_results("search-quick.json" if args.quick else "search.json", report)
    print_targets(report["targets_met"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
