from __future__ import annotations

import uuid

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import signed_in_user
from core.idempotency import IdempotencyMixin
from core.pagination import NewestFirstCursorPagination, counted_first_page
from core.problems import Problem, ProblemSerializer, id_or_404
from memories.models import Memory
from memories.selectors import memory_get
from reminders.api.problems import time_in_the_past, too_many_reminders
from reminders.api.serializers import (
    InboxParamsSerializer,
    InboxSerializer,
    ReminderCreateSerializer,
    ReminderListParamsSerializer,
    ReminderSerializer,
    ReminderUpdateSerializer,
    SnoozeSerializer,
    inbox_item,
)
from reminders.models import Reminder
from reminders.selectors import reminder_list, reminders_inbox, reminders_of_memory
from reminders.services import (
    ReminderEnded,
    ReminderInPast,
    TooManyReminders,
    reminder_create,
    reminder_delete,
    reminder_dismiss,
    reminder_done,
    reminder_snooze,
    reminder_update,
)

_problem = OpenApiResponse(ProblemSerializer)


class SoonestFirstCursorPagination(NewestFirstCursorPagination):
    ordering = ("remind_at", "id")


class MemoryRemindersView(IdempotencyMixin, APIView):
    @extend_schema(
        operation_id="memory_reminders_list",
        responses={200: ReminderSerializer(many=True), 404: _problem},
    )
    def get(self, request: Request, memory_id: str) -> Response:
        """The memory's reminders that have not ended (scheduled, snoozed, due), soonest first."""
        user = signed_in_user(request)
        try:
            memory = memory_get(user=user, memory_id=id_or_404(memory_id))
        except Memory.DoesNotExist as exc:
            raise Http404 from exc
        reminders = reminders_of_memory(user=user, memory_id=memory.pk)
        return Response(ReminderSerializer(reminders, many=True).data)

    @extend_schema(
        operation_id="memory_reminders_create",
        request=ReminderCreateSerializer,
        responses={
            201: ReminderSerializer,
            400: _problem,
            404: _problem,
            409: OpenApiResponse(ProblemSerializer, "too_many_reminders"),
        },
    )
    def post(self, request: Request, memory_id: str) -> Response:
        """Remind the user of this memory at `remind_at` (and then by `recurrence`)."""
        serializer = ReminderCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            reminder = reminder_create(
                user=signed_in_user(request),
                memory_id=id_or_404(memory_id),
                remind_at=data["remind_at"],
                recurrence=data.get("recurrence"),
            )
        except Memory.DoesNotExist as exc:
            raise Http404 from exc
        except ReminderInPast as exc:
            raise time_in_the_past("remind_at", exc) from exc
        except ValueError as exc:  # the RRULE
            raise ValidationError({"recurrence": [str(exc)]}) from exc
        except TooManyReminders as exc:
            raise too_many_reminders() from exc
        return Response(ReminderSerializer(reminder).data, status=status.HTTP_201_CREATED)


class ReminderListView(APIView):
    pagination_class = SoonestFirstCursorPagination

    @extend_schema(
        operation_id="reminders_list",
        parameters=[ReminderListParamsSerializer],
        responses={200: ReminderSerializer(many=True), 400: _problem},
    )
    def get(self, request: Request) -> Response:
        """The user's reminders, soonest first: scheduled and snoozed ones unless `state`
        names another."""
        params = ReminderListParamsSerializer(
            data={name: value for name, value in request.query_params.items() if value}
        )
        params.is_valid(raise_exception=True)
        state = params.validated_data.get("state")
        states = [state] if state else list(Reminder.PENDING_STATES)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            reminder_list(user=signed_in_user(request), states=states), request, view=self
        )
        return paginator.get_paginated_response(ReminderSerializer(page, many=True).data)


class InboxView(APIView):
    @extend_schema(
        operation_id="reminders_inbox",
        parameters=[InboxParamsSerializer],
        responses={200: InboxSerializer, 400: _problem},
    )
    def get(self, request: Request) -> Response:
        """Due reminders, oldest first, each with its memory; `count` is all of them."""
        params = InboxParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        due = reminders_inbox(user=signed_in_user(request))
        return Response(counted_first_page(due, params.validated_data["limit"], inbox_item))


class ReminderDetailView(IdempotencyMixin, APIView):
    @extend_schema(
        operation_id="reminders_update",
        request=ReminderUpdateSerializer,
        responses={200: ReminderSerializer, 400: _problem, 404: _problem},
    )
    def patch(self, request: Request, reminder_id: str) -> Response:
        """Move the reminder (it is scheduled again) or change its recurrence."""
        serializer = ReminderUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            reminder = reminder_update(
                user=signed_in_user(request),
                reminder_id=id_or_404(reminder_id),
                changes=serializer.validated_data,
            )
        except Reminder.DoesNotExist as exc:
            raise Http404 from exc
        except ReminderInPast as exc:
            raise time_in_the_past("remind_at", exc) from exc
        except ValueError as exc:
            raise ValidationError({"recurrence": [str(exc)]}) from exc
        return Response(ReminderSerializer(reminder).data)

    @extend_schema(operation_id="reminders_delete", responses={204: None, 404: _problem})
    def delete(self, request: Request, reminder_id: str) -> Response:
        try:
            reminder_delete(user=signed_in_user(request), reminder_id=id_or_404(reminder_id))
        except Reminder.DoesNotExist as exc:
            raise Http404 from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class _ReminderActionView(IdempotencyMixin, APIView):
    def act(self, request: Request, reminder_id: uuid.UUID) -> Reminder:
        raise NotImplementedError

    def post(self, request: Request, reminder_id: str) -> Response:
        try:
            reminder = self.act(request, id_or_404(reminder_id))
        except Reminder.DoesNotExist as exc:
            raise Http404 from exc
        return Response(ReminderSerializer(reminder).data)


class ReminderDoneView(_ReminderActionView):
    @extend_schema(
        operation_id="reminders_done",
        request=None,
        responses={200: ReminderSerializer, 404: _problem},
    )
    def post(self, request: Request, reminder_id: str) -> Response:
        """Done; a recurring reminder is scheduled for its next occurrence."""
        return super().post(request, reminder_id)

    def act(self, request: Request, reminder_id: uuid.UUID) -> Reminder:
        return reminder_done(user=signed_in_user(request), reminder_id=reminder_id)


class ReminderDismissView(_ReminderActionView):
    @extend_schema(
        operation_id="reminders_dismiss",
        request=None,
        responses={200: ReminderSerializer, 404: _problem},
    )
    def post(self, request: Request, reminder_id: str) -> Response:
        """Dismissed: it (and its series) will not come back."""
        return super().post(request, reminder_id)

    def act(self, request: Request, reminder_id: uuid.UUID) -> Reminder:
        return reminder_dismiss(user=signed_in_user(request), reminder_id=reminder_id)


class ReminderSnoozeView(_ReminderActionView):
    @extend_schema(
        operation_id="reminders_snooze",
        request=SnoozeSerializer,
        responses={
            200: ReminderSerializer,
            400: _problem,
            404: _problem,
            409: OpenApiResponse(ProblemSerializer, "reminder_ended"),
        },
    )
    def post(self, request: Request, reminder_id: str) -> Response:
        """Out of the inbox until `until`, then due again."""
        return super().post(request, reminder_id)

    def act(self, request: Request, reminder_id: uuid.UUID) -> Reminder:
        serializer = SnoozeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            return reminder_snooze(
                user=signed_in_user(request),
                reminder_id=reminder_id,
                until=serializer.validated_data["until"],
            )
        except ReminderInPast as exc:
            raise time_in_the_past("until", exc) from exc
        except ReminderEnded as exc:
            raise Problem(
                status_code=409,
                code="reminder_ended",
                detail="This reminder is done or dismissed; add a new one instead.",
            ) from exc
