"""Idempotency-Key for unsafe API requests (IETF httpapi draft, Stripe's behaviour).

- A key belongs to one user and one request: method, path and body (JSON canonicalized).
- The first request claims the key with one `INSERT … ON CONFLICT DO NOTHING`: there is no
  select-then-insert window, and a race never surfaces as an IntegrityError.
- A replay within IDEMPOTENCY_TTL_HOURS answers the stored status, body and headers with
  `Idempotent-Replayed: true`. Another payload under the same key is 422; a key whose first
  request still runs is 409. A claim older than IDEMPOTENCY_LOCK_SECONDS (its process died)
  may be taken over.
- Answers that say nothing final about the payload do not pin the key: 5xx, 401, 403, 402
  (quota), 409 and 429 release it, so a later retry runs for real.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from core.models import IdempotencyKey
from core.problems import Problem, problem_response

HEADER = "Idempotency-Key"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REPLAYED_HEADERS = ("Content-Type", "ETag", "Location", "Content-Disposition")
_UNPINNED_STATUSES = frozenset({401, 402, 403, 409, 429})


def key_is_valid(key: str) -> bool:
    return 1 <= len(key) <= 255 and all(0x20 <= ord(char) <= 0x7E for char in key)


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    """sha256 of the request; a JSON body is canonicalized, so key order and spacing differ
    freely between a request and its retry."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), canonical):
        digest.update(part)
        digest.update(b"\x00")
    return digest.hexdigest()


@dataclass
class Claim:
    key_id: int


_CLAIM_SQL = """
INSERT INTO core_idempotencykey
    (user_id, key, fingerprint, method, path, locked_at, response_headers, created_at, expires_at)
VALUES (%(user)s, %(key)s, %(fingerprint)s, %(method)s, %(path)s, %(now)s, '{}', %(now)s,
        %(expires)s)
ON CONFLICT (user_id, key) DO UPDATE
    SET fingerprint = EXCLUDED.fingerprint, method = EXCLUDED.method, path = EXCLUDED.path,
        locked_at = EXCLUDED.locked_at, response_status = NULL, response_body = NULL,
        response_headers = '{}', created_at = EXCLUDED.created_at,
        expires_at = EXCLUDED.expires_at
    WHERE core_idempotencykey.expires_at <= %(now)s
       OR (core_idempotencykey.response_status IS NULL
           AND core_idempotencykey.locked_at <= %(stale)s
           AND core_idempotencykey.fingerprint = EXCLUDED.fingerprint)
RETURNING id
"""


def idempotency_claim(
    *, user_id: int, key: str, method: str, path: str, body: bytes
) -> Claim | HttpResponse:
    """Claim `key` for this request, or answer it: a replay, 409 or 422.

    One statement claims a new key, an expired one, or one whose holder stopped answering
    (same payload, lock older than IDEMPOTENCY_LOCK_SECONDS); otherwise it changes nothing
    and the existing row decides the answer.
    """
    if not key_is_valid(key):
        raise Problem(
            status_code=400,
            code="invalid_idempotency_key",
            detail=f"{HEADER} must be 1 to 255 printable ASCII characters.",
        )
    now = timezone.now()
    fingerprint = request_fingerprint(method, path, body)
    params = {
        "user": user_id,
        "key": key,
        "fingerprint": fingerprint,
        "method": method,
        "path": path[:2048],
        "now": now,
        "expires": now + timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS),
        "stale": now - timedelta(seconds=settings.IDEMPOTENCY_LOCK_SECONDS),
    }
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, params)
        row = cursor.fetchone()
    if row:
        return Claim(key_id=row[0])

    existing = IdempotencyKey.objects.filter(user_id=user_id, key=key).first()
    if existing is None:  # released between our insert and this read: the caller may retry
        return problem_response(
            status_code=409,
            code="idempotency_key_in_use",
            detail="A request with this key just finished; retry it.",
        )
    if existing.fingerprint != fingerprint:
        return problem_response(
            status_code=422,
            code="idempotency_key_reused",
            detail=f"This {HEADER} was used for another request "
            f"({existing.method} {existing.path} with another body).",
        )
    if existing.response_status is None:
        return problem_response(
            status_code=409,
            code="idempotency_key_in_use",
            detail="The first request with this key is still running; retry shortly.",
            headers={"Retry-After": "1"},
        )
    return _replay(existing)


def _replay(stored: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(bytes(stored.response_body or b""), status=stored.response_status)
    for name, value in stored.response_headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


def idempotency_complete(*, claim: Claim, response: HttpResponse) -> None:
    """Store the answer of the claimed request, or release the key if the answer must not pin
    it (5xx, auth, quota, conflicts, rate limits)."""
    if response.status_code >= 500 or response.status_code in _UNPINNED_STATUSES:
        idempotency_release(claim=claim)
        return
    headers = {name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)}
    IdempotencyKey.objects.filter(pk=claim.key_id).update(
        response_status=response.status_code,
        response_body=response.content,
        response_headers=headers,
    )


def idempotency_release(*, claim: Claim) -> None:
    IdempotencyKey.objects.filter(pk=claim.key_id, response_status__isnull=True).delete()


def idempotency_keys_purge(*, now: Any = None) -> int:
    """Delete expired keys; returns how many. Run hourly by beat."""
    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted


class _Answered(Exception):
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


class IdempotencyMixin:
    """For API views with unsafe methods: honours Idempotency-Key for authenticated users.

    Runs after authentication, permissions and throttles (DRF's `initial`), so a 401 or a 429
    never claims a key. Anonymous requests (signup, token) ignore the header.
    """

    _idempotency_claim: Claim | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        self._idempotency_claim = None
        key = request.headers.get(HEADER)
        if key is None or request.method not in UNSAFE_METHODS:
            return
        user = request.user
        if not getattr(user, "is_authenticated", False):
            return
        outcome = idempotency_claim(
            user_id=user.pk,
            key=key,
            method=request.method,
            path=request.get_full_path(),
            body=request.body,
        )
        if isinstance(outcome, Claim):
            self._idempotency_claim = outcome
        else:
            raise _Answered(outcome)

    def handle_exception(self, exc: Exception) -> HttpResponse:
        if isinstance(exc, _Answered):
            return exc.response
        return super().handle_exception(exc)  # type: ignore[misc]

    def raise_uncaught_exception(self, exc: Exception) -> None:
        # The request failed with a 500: free the key so that a retry runs again.
        claim, self._idempotency_claim = self._idempotency_claim, None
        if claim is not None:
            idempotency_release(claim=claim)
        super().raise_uncaught_exception(exc)  # type: ignore[misc]

    def finalize_response(
        self, request: Request, response: HttpResponse, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        claim, self._idempotency_claim = self._idempotency_claim, None
        if claim is not None:
            if isinstance(response, Response):
                response.render()
            idempotency_complete(claim=claim, response=response)
        return response
