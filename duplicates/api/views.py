"""The near-duplicates API (API.md "Near-duplicates"): the list, merge, undo, keep both, and
the memories related to one."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import signed_in_user
from billing.limits import QuotaExceeded, quota_problem
from core.idempotency import IdempotencyMixin
from core.pagination import counted_first_page
from core.problems import Problem, ProblemSerializer, id_or_404
from duplicates.api.serializers import (
    MergeSerializer,
    PairListParamsSerializer,
    PairListSerializer,
    PairSerializer,
    RelatedSerializer,
    pair_representation,
)
from duplicates.models import Pair
from duplicates.selectors import pair_get, pairs_open, related_of
from duplicates.services import (
    PairDecided,
    PairGone,
    UndoExpired,
    merge_undo,
    merge_undo_deadline,
    pair_dismiss,
    pair_merge,
)
from memories.api.serializers import memory_representation
from memories.models import Memory
from memories.selectors import memory_get
from memories.services import DuplicateContent

_problem = OpenApiResponse(ProblemSerializer)


def _decided(exc: PairDecided) -> Problem:
    return Problem(
        status_code=409,
        code="pair_decided",
        detail=f"This pair was {exc} already.",
        state=str(exc),
    )


class PairListView(APIView):
    @extend_schema(
        operation_id="near_duplicates_list",
        parameters=[PairListParamsSerializer],
        responses={200: PairListSerializer, 400: _problem},
    )
    def get(self, request: Request) -> Response:
        """Open near-duplicate candidates, most alike first; `memory` is the older of each
        pair. Empty for a user outside the `near_duplicates` flag."""
        params = PairListParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        pairs = pairs_open(user=signed_in_user(request))
        limit = params.validated_data["limit"]
        return Response(counted_first_page(pairs, limit, pair_representation))


class PairMergeView(IdempotencyMixin, APIView):
    @extend_schema(
        operation_id="near_duplicates_merge",
        request=None,
        responses={
            200: MergeSerializer,
            404: _problem,
            409: OpenApiResponse(ProblemSerializer, "pair_decided, memory_gone"),
        },
    )
    def post(self, request: Request, pair_id: str) -> Response:
        """Merge: keep the older memory, add the newer one's tags and reminders to it, and
        delete the newer with `duplicate_of` set. Undo within 30 days."""
        user = signed_in_user(request)
        try:
            merge = pair_merge(user=user, pair_id=id_or_404(pair_id))
        except Pair.DoesNotExist as exc:
            raise Http404 from exc
        except PairDecided as exc:
            raise _decided(exc) from exc
        except PairGone as exc:
            raise Problem(
                status_code=409,
                code="memory_gone",
                detail="One of these memories was deleted or merged meanwhile.",
            ) from exc
        pair = pair_get(user=user, pair_id=merge.pair_id)
        return Response(
            {"pair": pair_representation(pair), "undo_until": merge_undo_deadline(merge)}
        )


class PairUndoView(IdempotencyMixin, APIView):
    @extend_schema(
        operation_id="near_duplicates_undo",
        request=None,
        responses={
            200: PairSerializer,
            402: _problem,
            404: _problem,
            409: OpenApiResponse(ProblemSerializer, "undo_expired, duplicate_content"),
        },
    )
    def post(self, request: Request, pair_id: str) -> Response:
        """Undo the pair's merge: both memories as they were, the pair open again."""
        user = signed_in_user(request)
        try:
            merge_undo(user=user, pair_id=id_or_404(pair_id))
        except Pair.DoesNotExist as exc:
            raise Http404 from exc
        except UndoExpired as exc:
            raise Problem(
                status_code=409,
                code="undo_expired",
                detail="This pair has no merge to undo: none was made, it is older than 30 days, "
                "or the merged memory was restored meanwhile.",
            ) from exc
        except QuotaExceeded as exceeded:
            raise quota_problem(exceeded) from exceeded
        except DuplicateContent as exc:
            raise Problem(
                status_code=409,
                code="duplicate_content",
                detail="Another memory has the merged memory's content now.",
            ) from exc
        return Response(pair_representation(pair_get(user=user, pair_id=id_or_404(pair_id))))


class PairDismissView(IdempotencyMixin, APIView):
    @extend_schema(
        operation_id="near_duplicates_dismiss",
        request=None,
        responses={200: PairSerializer, 404: _problem, 409: _problem},
    )
    def post(self, request: Request, pair_id: str) -> Response:
        """Keep both: the pair is never suggested again, even after edits."""
        user = signed_in_user(request)
        try:
            pair_dismiss(user=user, pair_id=id_or_404(pair_id))
        except Pair.DoesNotExist as exc:
            raise Http404 from exc
        except PairDecided as exc:
            raise _decided(exc) from exc
        return Response(pair_representation(pair_get(user=user, pair_id=id_or_404(pair_id))))


class RelatedView(APIView):
    @extend_schema(
        operation_id="memory_related",
        responses={200: RelatedSerializer(many=True), 404: _problem},
    )
    def get(self, request: Request, memory_id: str) -> Response:
        """Memories alike to this one (near-duplicates and related ones), most alike first;
        empty outside the `near_duplicates` flag."""
        user = signed_in_user(request)
        try:
            memory = memory_get(user=user, memory_id=id_or_404(memory_id))
        except Memory.DoesNotExist as exc:
            raise Http404 from exc
        related = []
        for pair, other_id in related_of(user=user, memory_id=memory.pk):
            other = pair.first if pair.first_id == other_id else pair.second
            related.append(
                {
                    "memory": memory_representation(other),
                    "similarity": round(pair.similarity, 4),
                    "near_duplicate": pair.band == Pair.Band.DUPLICATE
                    and pair.state == Pair.State.OPEN,
                }
            )
        return Response(related)
