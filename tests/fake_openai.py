"""A local HTTP server that speaks the parts of OpenAI's and Slack's APIs the app uses.

It stands in for the vendors, which cannot be reached from tests, and can be told to fail
(5xx), throttle (429 with Retry-After, or `insufficient_quota`), stall, or answer slowly.
Embeddings are deterministic: a unit vector from the text's hash, so the same text always
gets the same vector. Listens on 127.0.0.1 only; stop() ends it.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
from bpe_openai import get_encoding

# OpenAI's limits for the text-embedding-3 models: tokens per input, tokens summed over one
# request (https://platform.openai.com/docs/api-reference/embeddings/create).
MAX_INPUT_TOKENS = 8191
MAX_REQUEST_TOKENS = 300_000


def count_tokens(text: str) -> int:
    """cl100k_base tokens of `text`, as OpenAI counts them for text-embedding-3-*. A text too
    long for the tokenizer's own limit counts its UTF-8 bytes: byte-level BPE never has more
    tokens than bytes, so this can only over-count."""
    size = len(text.encode())
    if size > 190_000:
        return size
    return len(get_encoding("cl100k_base").encode_ordinary(text))


def fake_vector(text: str, dimensions: int) -> list[float]:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
    vector = np.random.default_rng(seed).standard_normal(dimensions)
    return (vector / np.linalg.norm(vector)).round(6).tolist()


class FakeVendor:
    def __init__(self) -> None:
        self.mode = "ok"  # ok | error | bad_request | bad_key | throttle | quota | stall
        self.retry_after = 1
        self.latency = 0.0
        self.stall_seconds = 5.0
        # Enforced like OpenAI does, with its error bodies (None: not enforced).
        self.max_input_tokens: int | None = MAX_INPUT_TOKENS
        self.max_request_tokens: int | None = MAX_REQUEST_TOKENS
        # A request holding an input that contains one of these answers 400 (a bad item).
        self.reject_inputs: set[str] = set()
        self.refused_calls = 0  # 400s for an input or request over the limits, or rejected
        self.lock = threading.Lock()
        self.embedding_calls = 0  # every request that reached the embeddings endpoint
        # Cleared by a test to hold every embeddings answer until it sets it again (at most
        # 30 s): a call is then still in flight while others are made.
        self.answering = threading.Event()
        self.answering.set()
        self.ok_calls = 0
        self.embedded_texts: list[str] = []
        self.served: list[tuple[str, int]] = []  # (model, dimensions) of each good answer
        self.embedded_with: list[tuple[str, str, int]] = []  # (text, model, dimensions)
        self.slack_messages: list[str] = []
        self.slack_posts = 0  # every request that reached chat.postMessage
        # The next this many posts fail: "error" (HTTP 500) or "invalid_auth" (Slack's 200 with
        # ok: false, a permanent refusal).
        self.slack_failures = 0
        self.slack_failure = "error"
        vendor = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if self.path.rstrip("/").endswith("chat.postMessage"):
                    failure = vendor._slack(raw, self.headers.get("Content-Type", ""))
                    if failure == "error":
                        self._send(500, {"ok": False, "error": "internal_error"})
                    elif failure:
                        self._send(200, {"ok": False, "error": failure})
                    else:
                        self._send(200, {"ok": True, "channel": "C1", "ts": "1.0"})
                    return
                if not self.path.rstrip("/").endswith("/embeddings"):
                    self._send(404, {"error": {"message": "not found"}})
                    return
                vendor._embeddings(self, json.loads(raw))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # Polled often: shutdown() waits for the loop's next poll, once per test that used it.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _slack(self, raw: bytes, content_type: str) -> str:
        """Record a post; returns the failure to answer with ("" for none)."""
        if "json" in content_type:
            text = json.loads(raw).get("text", "")
        else:
            from urllib.parse import parse_qs

            text = parse_qs(raw.decode()).get("text", [""])[0]
        with self.lock:
            self.slack_posts += 1
            if self.slack_failures > 0:
                self.slack_failures -= 1
                return self.slack_failure
            self.slack_messages.append(text)
            return ""

    def _embeddings(self, handler, body: dict) -> None:
        with self.lock:
            self.embedding_calls += 1
            mode = self.mode
        self.answering.wait(timeout=30)
        if mode == "stall":
            time.sleep(self.stall_seconds)
        if self.latency:
            time.sleep(self.latency)
        if mode == "error":
            handler._send(500, {"error": {"message": "upstream failure", "type": "server_error"}})
            return
        if mode == "bad_request":
            handler._send(
                400, {"error": {"message": "invalid input", "type": "invalid_request_error"}}
            )
            return
        if mode == "bad_key":  # a wrong OPENAI_API_KEY: OpenAI's 401
            handler._send(
                401,
                {
                    "error": {
                        "message": "Incorrect API key provided: sk-test.",
                        "type": "invalid_request_error",
                        "code": "invalid_api_key",
                    }
                },
            )
            return
        if mode == "throttle":
            handler._send(
                429,
                {
                    "error": {
                        "message": "slow down",
                        "type": "requests",
                        "code": "rate_limit_exceeded",
                    }
                },
                {"Retry-After": str(self.retry_after)},
            )
            return
        if mode == "quota":
            handler._send(
                429,
                {
                    "error": {
                        "message": "You exceeded your current quota",
                        "type": "insufficient_quota",
                        "code": "insufficient_quota",
                    }
                },
            )
            return
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        dimensions = int(body.get("dimensions") or 1536)
        counts = [count_tokens(text) for text in texts]
        if refusal := self._refusal(texts, counts):
            with self.lock:
                self.refused_calls += 1
            handler._send(400, {"error": {**refusal, "type": "invalid_request_error"}})
            return
        tokens = sum(counts)
        with self.lock:
            self.ok_calls += 1
            self.embedded_texts.extend(texts)
            self.served.append((body["model"], dimensions))
            self.embedded_with.extend((text, body["model"], dimensions) for text in texts)
        handler._send(
            200,
            {
                "object": "list",
                "model": body["model"],
                "data": [
                    {"object": "embedding", "index": i, "embedding": fake_vector(t, dimensions)}
                    for i, t in enumerate(texts)
                ],
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )

    def _refusal(self, texts: list[str], counts: list[int]) -> dict | None:
        """OpenAI's 400 error for a request it refuses for its inputs, or None."""
        for text, count in zip(texts, counts, strict=True):
            if self.max_input_tokens is not None and count > self.max_input_tokens:
                return {
                    "message": (
                        f"This model's maximum context length is {self.max_input_tokens + 1} "
                        f"tokens, however you requested {count} tokens ({count} in your "
                        "prompt; 0 for the completion). Please reduce your prompt; or "
                        "completion length."
                    ),
                    "param": None,
                    "code": None,
                }
            if any(marker in text for marker in self.reject_inputs):
                return {"message": "invalid input", "param": "input", "code": None}
        total = sum(counts)
        if self.max_request_tokens is not None and total > self.max_request_tokens:
            return {
                "message": (
                    f"Requested {total} tokens, max {self.max_request_tokens} tokens per request"
                ),
                "param": None,
                "code": "max_tokens_per_request",
            }
        return None
