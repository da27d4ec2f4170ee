from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from itertools import islice
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import signed_in_user
from billing.limits import (
    SEARCHES_PER_MINUTE,
    QuotaExceeded,
    RateLimited,
    quota_problem,
    rate_problem,
)
from billing.services import rate_limit_hit
from core.idempotency import IdempotencyMixin
from core.problems import Problem, ProblemSerializer, id_or_404
from memories.api.serializers import (
    ChangesParamsSerializer,
    ChangesSerializer,
    ConflictSerializer,
    ExportSerializer,
    MemoryCreateSerializer,
    MemoryListParamsSerializer,
    MemorySaveSerializer,
    MemorySerializer,
    MemoryUpdateSerializer,
    SearchParamsSerializer,
    SearchResultSerializer,
    changes_cursor_encode,
    memory_representation,
)
from memories.models import Memory
from memories.selectors import (
    MemoryFilters,
    memory_changes,
    memory_get,
    memory_list,
    memory_queryset,
    memory_tags,
)
from memories.services import (
    DuplicateContent,
    DuplicateRace,
    VersionConflict,
    memory_create,
    memory_delete,
    memory_restore,
    memory_update,
)
from reminders.api.problems import time_in_the_past, too_many_reminders
from reminders.api.serializers import ReminderSerializer
from reminders.selectors import reminders_for_export
from reminders.services import (
    ReminderInPast,
    TooManyReminders,
    detect_reminder_later,
    reminder_create,
)
from search.selectors import memory_search

if TYPE_CHECKING:
    from accounts.models import User

_IF_MATCH = re.compile(r'^\s*(?:"(\d{1,9})"|(\d{1,9}))\s*$')

_problem = OpenApiResponse(ProblemSerializer)
_if_match_param = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    pattern=r'^("[0-9]{1,9}"|[0-9]{1,9})$',
    description='The version the edit is based on: `"3"` (an ETag) or `3`.',
)


_idempotency_key_param = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    # Printable ASCII; no space at either end, which HTTP would strip from the header.
    pattern=r"^[!-~]([ -~]{0,253}[!-~])?$",
    description="1 to 255 printable ASCII characters, made by the client once per intended "
    "change. A retry with the same key and body replays the first answer "
    "(`Idempotent-Replayed: true`) for 24 hours.",
)


def _expected_version(request: Request) -> int:
    header = request.headers.get("If-Match")
    if header is None:
        raise Problem(
            status_code=428,
            code="precondition_required",
            detail='Send If-Match: "<version>" with the version you edited.',
        )
    match = _IF_MATCH.match(header)
    if not match:
        raise Problem(
            status_code=400,
            code="invalid_if_match",
            detail='If-Match must be a version number, such as "3".',
        )
    return int(match.group(1) or match.group(2))


def _memory_response(memory: Memory, *, status_code: int = 200) -> Response:
    response = Response(memory_representation(memory), status=status_code)
    response["ETag"] = memory.etag
    return response


@extend_schema_view(
    list=extend_schema(
        operation_id="memories_list",
        parameters=[MemoryListParamsSerializer],
        responses={200: MemorySerializer(many=True), 400: _problem},
    ),
    create=extend_schema(
        operation_id="memories_create",
        request=MemoryCreateSerializer,
        parameters=[_idempotency_key_param],
        responses={
            201: MemorySaveSerializer,
            200: OpenApiResponse(
                MemorySaveSerializer,
                "Same content saved before: that memory, with `duplicate: true`",
            ),
            400: _problem,
            402: OpenApiResponse(ProblemSerializer, "quota_exceeded: limit, used, resets_at"),
            409: OpenApiResponse(ProblemSerializer, "idempotency_key_in_use"),
            413: _problem,
            422: OpenApiResponse(ProblemSerializer, "idempotency_key_reused"),
        },
    ),
    retrieve=extend_schema(
        operation_id="memories_retrieve", responses={200: MemorySerializer, 404: _problem}
    ),
    partial_update=extend_schema(
        operation_id="memories_update",
        request=MemoryUpdateSerializer,
        parameters=[_if_match_param, _idempotency_key_param],
        responses={
            200: MemorySerializer,
            400: _problem,
            404: _problem,
            409: OpenApiResponse(ProblemSerializer, "duplicate_content or idempotency_key_in_use"),
            412: OpenApiResponse(ConflictSerializer, "Stale version; `current` is the server copy"),
            413: _problem,
            428: _problem,
        },
    ),
    destroy=extend_schema(
        operation_id="memories_delete",
        parameters=[_idempotency_key_param],
        responses={204: None, 404: _problem},
    ),
    changes=extend_schema(
        operation_id="memories_changes",
        summary="What changed since a cursor, for clients that keep a copy",
        parameters=[ChangesParamsSerializer],
        responses={
            200: ChangesSerializer,
            400: _problem,
            410: OpenApiResponse(ProblemSerializer, "cursor_expired: start over without `since`"),
        },
    ),
    restore=extend_schema(
        operation_id="memories_restore",
        summary="Undo a delete made in the last 30 days",
        request=None,
        parameters=[_idempotency_key_param],
        responses={
            200: MemorySerializer,
            402: OpenApiResponse(ProblemSerializer, "quota_exceeded: no memory slot left"),
            404: _problem,
            409: OpenApiResponse(ProblemSerializer, "duplicate_content or idempotency_key_in_use"),
        },
    ),
)
class MemoryViewSet(IdempotencyMixin, viewsets.GenericViewSet):
    serializer_class = MemorySerializer
    lookup_value_regex = "[^/]+"

    def get_queryset(self) -> QuerySet[Memory]:
        return memory_queryset(user=signed_in_user(self.request))

    def _memory_id(self) -> uuid.UUID:
        return id_or_404(self.kwargs["pk"])

    def list(self, request: Request) -> Response:
        # An empty parameter (`?kind=`) means no filter, as it always has.
        params = MemoryListParamsSerializer(
            data={name: value for name, value in request.query_params.items() if value}
        )
        params.is_valid(raise_exception=True)
        filters = MemoryFilters(**params.validated_data)
        queryset = memory_list(user=signed_in_user(request), filters=filters)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(MemorySerializer(page, many=True).data)

    def create(self, request: Request) -> Response:
        serializer = MemoryCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        remind_at = fields.pop("remind_at", None)
        user = signed_in_user(request)
        try:
            if remind_at is None:
                result = memory_create(user=user, **fields)
            else:  # the memory and its reminder, or neither
                with transaction.atomic():
                    result = memory_create(user=user, **fields)
                    reminder_create(user=user, memory_id=result.memory.pk, remind_at=remind_at)
        except ReminderInPast as exc:
            raise time_in_the_past("remind_at", exc) from exc
        except TooManyReminders as exc:
            raise too_many_reminders() from exc
        except QuotaExceeded as exceeded:
            raise quota_problem(exceeded) from exceeded
        except DuplicateRace as race:
            raise Problem(
                status_code=409,
                code="save_conflict",
                headers={"Retry-After": "1"},
                detail="This content was being saved and deleted at the same time; retry.",
            ) from race
        if result.created:
            detect_reminder_later(result.memory)
        body = {**memory_representation(result.memory), "duplicate": not result.created}
        response = Response(body, status=201 if result.created else 200)
        response["ETag"] = result.memory.etag
        return response

    def retrieve(self, request: Request, pk: str) -> Response:
        try:
            memory = memory_get(user=signed_in_user(request), memory_id=self._memory_id())
        except Memory.DoesNotExist as exc:
            raise Http404 from exc
        return _memory_response(memory)

    @staticmethod
    def _duplicate_problem(duplicate: DuplicateContent) -> Problem:
        return Problem(
            status_code=409,
            code="duplicate_content",
            detail="Another memory already has this content.",
            duplicate_of=str(duplicate.existing.pk),
        )

    def partial_update(self, request: Request, pk: str) -> Response:
        memory_id = self._memory_id()
        expected_version = _expected_version(request)
        serializer = MemoryUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            memory = memory_update(
                user=signed_in_user(request),
                memory_id=memory_id,
                expected_version=expected_version,
                changes=serializer.validated_data,
            )
        except Memory.DoesNotExist as exc:
            raise Http404 from exc
        except DuplicateContent as duplicate:
            raise self._duplicate_problem(duplicate) from duplicate
        except VersionConflict as conflict:
            raise Problem(
                status_code=412,
                code="version_conflict",
                title="Version conflict",
                detail=f"You edited version {expected_version}; the server has version "
                f"{conflict.current.version}. Compare with `current` and send again.",
                current=MemorySerializer(conflict.current).data,
            ) from conflict
        if "content" in serializer.validated_data:
            detect_reminder_later(memory, edited=True)
        return _memory_response(memory)

    def destroy(self, request: Request, pk: str) -> Response:
        try:
            memory_delete(user=signed_in_user(request), memory_id=self._memory_id())
        except Memory.DoesNotExist as exc:
            raise Http404 from exc
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=False, url_path="changes")
    def changes(self, request: Request) -> Response:
        """The user's memories written since `since`, live and deleted (docs/api.md,
        "Changes feed")."""
        now = timezone.now()  # before the query reads: the settle window counts from it
        params = ChangesParamsSerializer(
            data={name: value for name, value in request.query_params.items() if value}
        )
        params.is_valid(raise_exception=True)
        page = memory_changes(
            user=signed_in_user(request),
            since=params.validated_data.get("since"),
            limit=params.validated_data["limit"],
            now=now,
        )
        return Response(
            {
                "changes": [memory_representation(memory) for memory in page.changes],
                "deleted": [str(memory_id) for memory_id in page.deleted],
                "cursor": changes_cursor_encode(page.cursor),
                "more": page.more,
            }
        )

    @action(detail=True, methods=["post"])
    def restore(self, request: Request, pk: str) -> Response:
        try:
            memory = memory_restore(user=signed_in_user(request), memory_id=self._memory_id())
        except Memory.DoesNotExist as exc:
            raise Http404 from exc
        except QuotaExceeded as exceeded:
            raise quota_problem(exceeded) from exceeded
        except DuplicateContent as duplicate:
            raise self._duplicate_problem(duplicate) from duplicate
        return _memory_response(memory)


class ExportView(APIView):
    throttle_scope = "export"  # per user, EXPORT_THROTTLE_RATE (core.throttles)

    @extend_schema(operation_id="export", responses={200: ExportSerializer})
    def get(self, request: Request) -> StreamingHttpResponse:
        """All of the user's memories, their reminders and tags, oldest first, streamed
        (docs/api.md)."""
        user = signed_in_user(request)
        memories = memory_queryset(user=user).order_by("created_at", "id")
        # The first chunk before the response starts: a database down or a statement timeout
        # here answers a problem (503 query_timeout) instead of a 200 cut short.
        first = list(memories[:EXPORT_CHUNK_SIZE])
        response = StreamingHttpResponse(
            _export_chunks(user, memories, first), content_type="application/json"
        )
        response["Content-Disposition"] = 'attachment; filename="memory-connector-export.json"'
        return response


# Memories per fetch of the export's server-side cursor, and per chunk written to the client.
EXPORT_CHUNK_SIZE = 500


def _export_chunks(user: User, memories: QuerySet[Memory], first: list[Memory]) -> Iterator[bytes]:
    """The export document, `{"exported_at", "user", "memories", "tags"}`, rendered as DRF
    renders a Response, a chunk of memories at a time: memory never holds all of them.

    `first` is the first chunk of `memories`; the rest is read after it through a server-side
    cursor, in a transaction: outside one, Django's cursor is WITH HOLD, which PostgreSQL runs
    to the end (and stores) at the implicit commit, before the first row comes back. The
    transaction opens only once the client reads this far, and ends with the generator.
    """
    render = JSONRenderer().render
    head = render(
        {
            "exported_at": timezone.now(),
            "user": {"id": user.pk, "email": user.email, "time_zone": user.time_zone},
        }
    )
    yield (
        head[:-1]
        + b',"memories":['
        + b",".join(render(memory_representation(memory)) for memory in first)
    )
    if len(first) == EXPORT_CHUNK_SIZE:
        last = first[-1]
        rest = memories.filter(
            Q(created_at__gt=last.created_at) | Q(created_at=last.created_at, id__gt=last.id)
        )
        with transaction.atomic():
            rows = rest.iterator(chunk_size=EXPORT_CHUNK_SIZE)
            while chunk := list(islice(rows, EXPORT_CHUNK_SIZE)):
                yield b"," + b",".join(render(memory_representation(memory)) for memory in chunk)
    yield b'],"reminders":['
    with transaction.atomic():
        reminder_rows = reminders_for_export(user=user).iterator(chunk_size=EXPORT_CHUNK_SIZE)
        separator = b""
        while reminders := list(islice(reminder_rows, EXPORT_CHUNK_SIZE)):
            yield separator + b",".join(render(ReminderSerializer(r).data) for r in reminders)
            separator = b","
    yield b'],"tags":' + render(memory_tags(user=user)) + b"}"


class SearchView(APIView):
    @extend_schema(
        operation_id="search",
        parameters=[SearchParamsSerializer],
        responses={
            200: SearchResultSerializer,
            400: _problem,
            429: OpenApiResponse(ProblemSerializer, "rate_limited; see Retry-After"),
        },
    )
    def get(self, request: Request) -> Response:
        """Search the user's memories. Counts toward the plan's `searches_per_minute`."""
        params = SearchParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        user = signed_in_user(request)
        try:
            rate_limit_hit(
                user_id=user.pk,
                limit_name=SEARCHES_PER_MINUTE.name,
                limit=user.plan.searches_per_minute,
            )
        except RateLimited as limited:
            raise rate_problem(limited) from limited
        options = params.validated_data
        answer = memory_search(
            user=user,
            query=options["q"],
            mode=options["mode"],
            limit=options["limit"],
            filters=MemoryFilters(
                kind=options.get("kind"),
                tag=options.get("tag"),
                since=options.get("since"),
                until=options.get("until"),
            ),
        )
        body = {
            "mode_used": answer.mode_used,
            "degraded": answer.degraded,
            "results": answer.results,
        }
        return Response(SearchResultSerializer(body).data)
