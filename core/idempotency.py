"""Idempotency-Key for unsafe API requests (IETF httpapi draft, Stripe's behaviour).

A request with a key runs in one database transaction that
1. takes a transaction-scoped advisory lock on (user, key) with `pg_try_advisory_xact_lock`:
   if another request holds it, that one is still running, and this one answers 409;
2. looks up a stored answer: same fingerprint (method, path, canonical JSON body) → replay it
   with `Idempotent-Replayed: true`; another fingerprint → 422;
3. runs the view, and stores its answer with one `INSERT … ON CONFLICT` in the same
   transaction as the view's own writes (sent with the COMMIT, when the request's
   transaction is its own: one network round trip for both).
So the key is stored if and only if the work committed: a request that fails with a 5xx, or
whose process dies, leaves nothing behind and a retry runs for real; no lock outlives its
transaction. Answers that say nothing final about the payload are not stored either: 401,
403, 402 (quota), 409 and 429. Keys are scoped to the user and replayed for
IDEMPOTENCY_TTL_HOURS; an hourly beat job deletes expired ones, in batches.

Storage is bounded (docs/api.md, "Idempotency"): an answer over IDEMPOTENCY_MAX_ANSWER_BYTES
is stored as a small JSON marker (replayed with the first status and headers), and a user
stores at most IDEMPOTENCY_MAX_KEYS_PER_USER keys: past it, a request with a new key answers
429 `idempotency_keys_exhausted` before it runs. The count (IdempotencyKeyCount) is raised by
the statement that stores a key, under its row lock, so parallel requests cannot store past
the cap; one that passed the check while others filled the last places runs, and its answer
is not stored.
"""

from __future__ import annotations

import hashlib
import json
from contextlib import nullcontext
from datetime import timedelta
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.http import HttpResponse
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from core.db import default_connection, execute_prepared
from core.problems import Problem, problem_response

HEADER = "Idempotency-Key"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REPLAYED_HEADERS = ("Content-Type", "ETag", "Location", "Content-Disposition")
_UNPINNED_STATUSES = frozenset({401, 402, 403, 409, 429})
# A user at the key cap waits for keys to expire, which the hourly purge then deletes.
_KEYS_EXHAUSTED_RETRY_AFTER_SECONDS = 3600


def key_is_valid(key: str) -> bool:
    """1 to 255 printable ASCII characters (API.md)."""
    return 1 <= len(key) <= 255 and all(0x20 <= ord(char) <= 0x7E for char in key)


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    """sha256 of the request; a JSON body is canonicalized, so key order and spacing may
    differ between a request and its retry."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError, RecursionError):
        canonical = body  # not JSON (or too deep for it): the view's parser answers 400
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), canonical):
        digest.update(part)
        digest.update(b"\x00")
    return digest.hexdigest()


def idempotency_lock_id(user_id: int, key: str) -> int:
    """The advisory lock id of (user, key): a signed 64-bit number, as Postgres wants."""
    digest = hashlib.blake2b(f"idempotency:{user_id}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class Pending:
    """A keyed request that may run: what to store once it has answered."""

    def __init__(self, *, user_id: int, key: str, fingerprint: str, method: str, path: str):
        self.user_id, self.key, self.fingerprint = user_id, key, fingerprint
        self.method, self.path = method, path


def idempotency_begin(
    *, user_id: int, key: str, method: str, path: str, body: bytes
) -> Pending | HttpResponse:
    """Decide a keyed request: let it run (Pending), or answer it now (replay, 409, 422).

    Must run inside the request's transaction: the advisory lock it takes is held until that
    transaction ends.
    """
    if not key_is_valid(key):
        raise Problem(
            status_code=400,
            code="invalid_idempotency_key",
            detail=f"{HEADER} must be 1 to 255 printable ASCII characters.",
        )
    fingerprint = request_fingerprint(method, path, body)
    locked, stored, keys_stored = _lock_and_read(user_id=user_id, key=key)
    if not locked:
        return problem_response(
            status_code=409,
            code="idempotency_key_in_use",
            detail="The first request with this key is still running; retry shortly.",
            headers={"Retry-After": "1"},
        )
    if stored is None:
        limit = settings.IDEMPOTENCY_MAX_KEYS_PER_USER
        if keys_stored >= limit:
            return problem_response(
                status_code=429,
                code="idempotency_keys_exhausted",
                detail=f"You have {keys_stored} stored {HEADER}s; the limit is {limit}. Retry "
                "when older keys have expired, or send the request without a key.",
                headers={"Retry-After": str(_KEYS_EXHAUSTED_RETRY_AFTER_SECONDS)},
                limit=limit,
            )
        return Pending(
            user_id=user_id, key=key, fingerprint=fingerprint, method=method, path=path[:2048]
        )
    stored_fingerprint, stored_method, stored_path, status, stored_body, headers = stored
    if stored_fingerprint != fingerprint:
        return problem_response(
            status_code=422,
            code="idempotency_key_reused",
            detail=f"This {HEADER} was used for another request "
            f"({stored_method} {stored_path} with another body).",
        )
    return _replay(status=status, body=bytes(stored_body), headers=headers)


def _lock_and_read(*, user_id: int, key: str) -> tuple[bool, tuple | None, int]:
    """Try the key's advisory lock, then read its stored answer and how many keys the user
    has stored, in one call of the `idempotency_claim` function (migration core/0004): its
    reads run after the lock, with a new snapshot, so they see what the lock's previous
    holder committed (one statement's snapshot would predate the lock). Only read if locked;
    an expired answer is deleted there and reads as None.
    """
    row = execute_prepared(
        "SELECT * FROM idempotency_claim(%s, %s, %s, %s)",
        [idempotency_lock_id(user_id, key), user_id, key, timezone.now()],
    ).fetchone()
    # idempotency_claim returns exactly one row: fetchone() is never None here.
    locked, stored, keys_stored = row[0], row[1:7], row[7]  # type: ignore[index]
    return locked, (stored if stored[0] is not None else None), keys_stored or 0


def _replay(*, status: int, body: bytes, headers: dict[str, str] | str) -> HttpResponse:
    response = HttpResponse(body, status=status)
    for name, value in (json.loads(headers) if isinstance(headers, str) else headers).items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


# One statement: take a place under the user's cap (the upsert's WHERE; concurrent stores
# of the user wait on the count's row lock and then see the count it committed), and store
# the answer only if a place was taken. No row of this key exists: the advisory lock
# serializes its requests, and idempotency_claim found none live and deleted an expired one.
_STORE_SQL = """
WITH place AS (
    INSERT INTO core_idempotencykeycount AS c (user_id, stored) VALUES (%(user)s, 1)
    ON CONFLICT (user_id) DO UPDATE SET stored = c.stored + 1 WHERE c.stored < %(limit)s
    RETURNING 1
)
INSERT INTO core_idempotencykey
    (user_id, key, fingerprint, method, path, response_status, response_body, response_headers,
     created_at, expires_at)
SELECT %(user)s, %(key)s, %(fingerprint)s, %(method)s, %(path)s, %(status)s, %(body)s,
       %(headers)s::jsonb, %(now)s, %(expires)s
FROM place
"""


def idempotency_finish(*, pending: Pending, response: HttpResponse, commit: bool = False) -> None:
    """Store the answer, in the request's transaction, unless it must not pin the key.

    An answer over IDEMPOTENCY_MAX_ANSWER_BYTES is stored as a marker (_answer_marker). At
    the user's key cap (reached by parallel requests since idempotency_begin checked it),
    nothing is stored and the request's own work commits as usual.

    `commit`: the caller owns the transaction (the outermost atomic block, not marked for
    rollback) and nothing else runs in it after this: the store and the COMMIT go in one
    pipeline, one round trip instead of two. Django's own commit at the end of the atomic
    block then finds the connection idle, which psycopg treats as nothing to do, and
    on_commit callbacks run after it as usual. If the COMMIT fails, the error is raised
    here: the request answers 500 and nothing, the answer included, is stored.
    """
    if response.status_code >= 500 or response.status_code in _UNPINNED_STATUSES:
        return
    if connection.needs_rollback:
        return  # the request's writes will be rolled back: so would the answer
    now = timezone.now()
    headers = {name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)}
    body = response.content
    if len(body) > settings.IDEMPOTENCY_MAX_ANSWER_BYTES:
        body = _answer_marker(response)
        headers["Content-Type"] = "application/json"
    params = {
        "user": pending.user_id,
        "key": pending.key,
        "fingerprint": pending.fingerprint,
        "method": pending.method,
        "path": pending.path,
        "status": response.status_code,
        "body": body,
        "headers": json.dumps(headers),
        "now": now,
        "expires": now + timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS),
        "limit": settings.IDEMPOTENCY_MAX_KEYS_PER_USER,
    }
    db = default_connection()
    with db.wrap_database_errors, db.connection.pipeline() if commit else nullcontext():
        execute_prepared(_STORE_SQL, params)
        if commit:
            psycopg.Cursor(db.connection).execute("COMMIT")


def _answer_marker(response: HttpResponse) -> bytes:
    """What is stored instead of an answer too large to keep: its status, and the id of what
    it created or changed (a JSON object's `id`) so that the client can GET it."""
    status = response.status_code
    outcome = "succeeded" if 200 <= status < 300 else f"was answered with status {status}"
    marker: dict[str, Any] = {
        "code": "answer_not_kept",
        "status": status,
        "detail": f"The first request with this key {outcome}; its answer was larger than "
        f"{settings.IDEMPOTENCY_MAX_ANSWER_BYTES} bytes and was not kept.",
    }
    try:
        answer = json.loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        answer = None
    if isinstance(answer, dict) and isinstance(answer.get("id"), str | int):
        marker["id"] = answer["id"]
    return json.dumps(marker).encode()


# One bounded batch: the expired rows' ids first (LIMIT), then their delete, and the users'
# counts lowered by what was deleted of theirs, in one statement.
_PURGE_BATCH_SQL = """
WITH gone AS (
    DELETE FROM core_idempotencykey
    WHERE id IN (
        SELECT id FROM core_idempotencykey WHERE expires_at <= %(now)s LIMIT %(batch)s
    )
    RETURNING user_id
), per_user AS (
    SELECT user_id, count(*) AS deleted FROM gone GROUP BY user_id
), lowered AS (
    UPDATE core_idempotencykeycount AS c
    SET stored = greatest(c.stored - per_user.deleted, 0)
    FROM per_user WHERE c.user_id = per_user.user_id
)
SELECT count(*) FROM gone
"""


def idempotency_keys_purge(*, now: Any = None, batch_size: int | None = None) -> int:
    """Delete expired keys, `batch_size` (IDEMPOTENCY_PURGE_BATCH_SIZE) at a time, each batch
    its own short transaction, until none is left; returns how many. Run hourly by beat.
    A single DELETE of a day's backlog would hold its locks and bloat WAL for as long."""
    now = now or timezone.now()
    batch_size = batch_size or settings.IDEMPOTENCY_PURGE_BATCH_SIZE
    total = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_PURGE_BATCH_SQL, {"now": now, "batch": batch_size})
            deleted = cursor.fetchone()[0]
        total += deleted
        if deleted < batch_size:
            return total


def _commits_at_block_exit() -> bool:
    """True when the only atomic block open is the mixin's, and it will COMMIT at its exit:
    not nested in a caller's transaction (or a test's), autocommit not turned off by hand
    (commit_on_exit). A block marked for rollback stores nothing (idempotency_finish)."""
    return len(connection.atomic_blocks) == 1 and connection.commit_on_exit


class _Answered(Exception):
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


class IdempotencyMixin:
    """For API views with unsafe methods: honours Idempotency-Key for authenticated users.

    The key is checked after authentication, permissions and throttles (DRF's `initial`), so
    a 401 or a 429 never touches it. Anonymous requests (signup, token) ignore the header.
    """

    _idempotency: Pending | None = None

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method in UNSAFE_METHODS and HEADER in request.headers:
            # One transaction: the advisory lock, the view's writes and the stored answer.
            with transaction.atomic():
                return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        self._idempotency = None
        key = request.headers.get(HEADER)
        if key is None or request.method not in UNSAFE_METHODS:
            return
        if not getattr(request.user, "is_authenticated", False):
            return
        outcome = idempotency_begin(
            # An int: the is_authenticated check above (through getattr, which mypy does not
            # follow) returned for AnonymousUser, whose pk is None.
            user_id=request.user.pk,  # type: ignore[arg-type]
            key=key,
            method=request.method,
            path=request.get_full_path(),
            body=request.body,
        )
        if isinstance(outcome, Pending):
            self._idempotency = outcome
        else:
            raise _Answered(outcome)

    # The signatures of APIView's, as djangorestframework-stubs types them (Response); DRF
    # itself passes any HttpResponseBase from handle_exception to finalize_response, and
    # finalize_response asserts no more than that.
    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, _Answered):
            # An HttpResponse (a replay, 409, 422...): the stubs' Response is narrower than
            # what DRF's dispatch takes from handle_exception.
            return exc.response  # type: ignore[return-value]
        return super().handle_exception(exc)  # type: ignore[misc]

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        pending, self._idempotency = self._idempotency, None
        if pending is not None:
            if isinstance(response, Response):
                response.render()
            idempotency_finish(pending=pending, response=response, commit=_commits_at_block_exit())
        return response
