"""Django admin for plans, the AI ledger, and the AI cost console.

The console (/admin/billing/ailedgerentry/console/) is the operators' view of AI spend and
its guardrails: spend from the ledger's materialized views, the budgets, the AI breaker with
its force buttons, the enrichment backlog and the broker queue. Admin is the layer that
looks across apps; the figures come from billing.selectors and enrichment.selectors.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from redis.exceptions import RedisError

from billing.ai_budget import ai_spend_views_refresh
from billing.models import AiLedgerEntry, Plan
from billing.selectors import (
    DayAiSpend,
    ai_budget_status,
    ai_spend_by_day,
    ai_spend_of_user,
    ai_spend_top_users,
    ai_spend_totals,
)
from enrichment.breaker import Forced, ai_breaker
from enrichment.selectors import ai_breaker_status, enrichment_counts, enrichment_queue_depth

logger = logging.getLogger(__name__)

CHART_DAYS = 30
TOP_USERS = 10

# What the console's breaker buttons post, and what they do to the AI breaker.
BREAKER_FORCE_CHOICES: dict[str, Forced | None] = {
    "open": Forced.OPEN,
    "closed": Forced.CLOSED,
    "auto": None,
}
_FORCE_MESSAGES = {
    "open": "forced open. No AI call is made until it is closed or set back to automatic.",
    "closed": "forced closed. Failures no longer open it until it is set back to automatic.",
    "auto": "automatic. Failures open it and a probe closes it again.",
}


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("name", "display_name", *Plan.LIMIT_FIELDS)
    search_fields = ("name", "display_name")
    readonly_fields = ("created_at", "updated_at")


@dataclass(frozen=True)
class ChartBar:
    x: int
    y: float
    width: int
    height: float
    label_x: int
    day: dt.date
    amount: str
    day_label: str  # day of the month
    month_label: str  # on the first bar and on the 1st of a month


@dataclass(frozen=True)
class SpendChart:
    width: int
    height: int
    plot_top: int
    plot_bottom: int
    plot_left: int
    max_label: str
    bars: list[ChartBar]


def usd(value: Decimal) -> str:
    """Money as the console shows it: six decimals, as one call often costs a fraction of a
    cent."""
    return f"${value:,.6f}"


def spend_chart(days: list[DayAiSpend]) -> SpendChart:
    """An SVG bar chart of spend per day, laid out here so the template only draws it."""
    plot_left, plot_top, plot_height, slot = 80, 10, 180, 26
    plot_bottom = plot_top + plot_height
    top = max((spend.cost_usd for spend in days), default=Decimal(0))
    bars = []
    for index, spend in enumerate(days):
        # Pixels, not money: float is fine from here on.
        height = float(spend.cost_usd / top) * plot_height if top > 0 else 0.0
        x = plot_left + index * slot
        bars.append(
            ChartBar(
                x=x + 3,
                y=round(plot_bottom - height, 1),
                width=slot - 6,
                height=round(height, 1),
                label_x=x + slot // 2,
                day=spend.day,
                amount=usd(spend.cost_usd),
                day_label=str(spend.day.day),
                month_label=f"{spend.day:%b}" if index == 0 or spend.day.day == 1 else "",
            )
        )
    return SpendChart(
        width=plot_left + len(days) * slot + 10,
        height=plot_bottom + 34,
        plot_top=plot_top,
        plot_bottom=plot_bottom,
        plot_left=plot_left,
        max_label=usd(top),
        bars=bars,
    )


@admin.register(AiLedgerEntry)
class AiLedgerEntryAdmin(admin.ModelAdmin):
    """The AI ledger, read-only: rows are written by the AI guard alone."""

    list_display = (
        "created_at",
        "user",
        "provider",
        "model",
        "operation",
        "items",
        "input_tokens",
        "cost_usd",
        "request_id",
    )
    list_filter = ("provider", "model", "operation", "created_at")
    search_fields = ("user__email",)
    search_help_text = "A user's email, or the request id of one provider call."
    list_select_related = ("user",)
    ordering = ("-created_at", "-id")
    show_full_result_count = False  # the ledger grows by a row per user per call

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_search_results(self, request, queryset, search_term):
        # A request id is matched exactly, on its index; anything else is an email.
        try:
            request_id = uuid.UUID(search_term.strip())
        except ValueError:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(request_id=request_id), False

    def get_urls(self):
        # Before the model's own URLs, whose "<object id>/" would take "console/".
        return [
            path(
                "console/",
                self.admin_site.admin_view(self.console_view),
                name="billing_ai_cost_console",
            ),
            path(
                "console/breaker/",
                self.admin_site.admin_view(self.breaker_force_view),
                name="billing_ai_breaker_force",
            ),
            path(
                "console/refresh/",
                self.admin_site.admin_view(self.spend_refresh_view),
                name="billing_ai_spend_refresh",
            ),
            *super().get_urls(),
        ]

    def _check_console_permission(self, request) -> None:
        # admin_view lets in active staff only; of those, the ones who may see the ledger.
        if not self.has_view_permission(request):
            raise PermissionDenied

    def console_view(self, request):
        self._check_console_permission(request)
        today = timezone.now().astimezone(dt.UTC).date()
        totals = ai_spend_totals(today=today)
        lookup_email = request.GET.get("user", "").strip()
        lookup = None
        if lookup_email:
            user = (
                get_user_model()
                .objects.select_related("plan")
                .filter(email__iexact=lookup_email)
                .first()
            )
            if user is None:
                messages.warning(request, f"No user with the email {lookup_email}.")
            else:
                lookup = ai_spend_of_user(user=user, today=today)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "AI cost console",
            "today": today,
            "totals": totals,
            "budgets": ai_budget_status(totals=totals),
            "top_users": ai_spend_top_users(today=today, limit=TOP_USERS),
            "lookup_email": lookup_email,
            "lookup": lookup,
            "chart": spend_chart(ai_spend_by_day(today=today, days=CHART_DAYS)),
            "chart_days": CHART_DAYS,
            "breaker": ai_breaker_status(),
            "counts": enrichment_counts(),
            "queue_depth": enrichment_queue_depth(),
        }
        return TemplateResponse(request, "admin/billing/cost_console.html", context)

    def breaker_force_view(self, request):
        """Force the AI breaker open (a kill switch, seen by every process at its next
        call) or closed, or hand it back to the failure count."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        self._check_console_permission(request)
        choice = request.POST.get("force", "")
        if choice not in BREAKER_FORCE_CHOICES:
            return HttpResponseBadRequest("force must be open, closed or auto")
        try:
            ai_breaker.force(BREAKER_FORCE_CHOICES[choice])
        except RedisError:
            logger.exception("AI breaker not forced %s: Redis unavailable", choice)
            messages.error(request, "Redis did not answer: the breaker is unchanged.")
        else:
            logger.warning("AI breaker forced %s by %s", choice, request.user.get_username())
            messages.success(request, f"AI breaker: {_FORCE_MESSAGES[choice]}")
        return redirect("admin:billing_ai_cost_console")

    def spend_refresh_view(self, request):
        """Refresh the spend views now rather than at beat's next minute."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        self._check_console_permission(request)
        ai_spend_views_refresh()
        messages.success(request, "Spend figures refreshed from the ledger.")
        return redirect("admin:billing_ai_cost_console")
