from __future__ import annotations

import re
import uuid

from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.problems import Problem, ProblemSerializer
from memories.api.serializers import (
    ConflictSerializer,
    ExportSerializer,
    MemoryCreateSerializer,
    MemorySerializer,
    MemoryUpdateSerializer,
)
from memories.models import Memory
from memories.selectors import memory_get, memory_list, memory_queryset, memory_tags
from memories.services import VersionConflict, memory_create, memory_delete, memory_update

_IF_MATCH = re.compile(r'^\s*(?:"(\d{1,9})"|(\d{1,9}))\s*$')

_problem = OpenApiResponse(ProblemSerializer)
_if_match_param = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description='The version the edit is based on: `"3"` (an ETag) or `3`.',
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
    response = Response(MemorySerializer(memory).data, status=status_code)
    response["ETag"] = memory.etag
    return response


@extend_schema_view(
    list=extend_schema(
        operation_id="memories_list",
        parameters=[
            OpenApiParameter("kind", OpenApiTypes.STR, enum=Memory.Kind.values),
            OpenApiParameter("tag", OpenApiTypes.STR),
            OpenApiParameter("limit", OpenApiTypes.INT, description="page size, 1 to 200"),
        ],
        responses={200: MemorySerializer(many=True), 400: _problem},
    ),
    create=extend_schema(
        operation_id="memories_create",
        request=MemoryCreateSerializer,
        responses={201: MemorySerializer, 400: _problem, 413: _problem},
    ),
    retrieve=extend_schema(
        operation_id="memories_retrieve", responses={200: MemorySerializer, 404: _problem}
    ),
    partial_update=extend_schema(
        operation_id="memories_update",
        request=MemoryUpdateSerializer,
        parameters=[_if_match_param],
        responses={
            200: MemorySerializer,
            400: _problem,
            404: _problem,
            412: OpenApiResponse(ConflictSerializer, "Stale version; `current` is the server copy"),
            413: _problem,
            428: _problem,
        },
    ),
    destroy=extend_schema(operation_id="memories_delete", responses={204: None, 404: _problem}),
)
class MemoryViewSet(viewsets.GenericViewSet):
    serializer_class = MemorySerializer
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return memory_queryset(user=self.request.user)

    def _memory_id(self) -> uuid.UUID:
        try:
            return uuid.UUID(self.kwargs["pk"])
        except ValueError as exc:
            raise Http404 from exc  # not a memory id: nothing to find

    def list(self, request: Request) -> Response:
        kind = request.query_params.get("kind") or None
        if kind and kind not in Memory.Kind.values:
            raise ValidationError({"kind": [f"Must be one of {', '.join(Memory.Kind.values)}."]})
        queryset = memory_list(user=request.user, kind=kind, tag=request.query_params.get("tag"))
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(MemorySerializer(page, many=True).data)

    def create(self, request: Request) -> Response:
        serializer = MemoryCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        memory = memory_create(user=request.user, **serializer.validated_data)
        return _memory_response(memory, status_code=status.HTTP_201_CREATED)

    def retrieve(self, request: Request, pk: str) -> Response:
        try:
            memory = memory_get(user=request.user, memory_id=self._memory_id())
        except Memory.DoesNotExist as exc:
            raise Http404 from exc
        return _memory_response(memory)

    def partial_update(self, request: Request, pk: str) -> Response:
        memory_id = self._memory_id()
        expected_version = _expected_version(request)
        serializer = MemoryUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            memory = memory_update(
                user=request.user,
                memory_id=memory_id,
                expected_version=expected_version,
                changes=serializer.validated_data,
            )
        except Memory.DoesNotExist as exc:
            raise Http404 from exc
        except VersionConflict as conflict:
            raise Problem(
                status_code=412,
                code="version_conflict",
                title="Version conflict",
                detail=f"You edited version {expected_version}; the server has version "
                f"{conflict.current.version}. Compare with `current` and send again.",
                current=MemorySerializer(conflict.current).data,
            ) from conflict
        return _memory_response(memory)

    def destroy(self, request: Request, pk: str) -> Response:
        try:
            memory_delete(user=request.user, memory_id=self._memory_id())
        except Memory.DoesNotExist as exc:
            raise Http404 from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExportView(APIView):
    @extend_schema(operation_id="export", responses={200: ExportSerializer})
    def get(self, request: Request) -> Response:
        """All of the user's memories and tags, oldest first."""
        memories = memory_queryset(user=request.user).order_by("created_at", "id")
        body = {
            "exported_at": timezone.now(),
            "user": {"id": request.user.pk, "email": request.user.email},
            "memories": MemorySerializer(memories.iterator(chunk_size=500), many=True).data,
            "tags": memory_tags(user=request.user),
        }
        response = Response(body)
        response["Content-Disposition"] = 'attachment; filename="memory-connector-export.json"'
        return response
