"""The AI cost console (/admin/billing/ailedgerentry/console/): the operators' view of AI spend
and its guardrails. Spend from the ledger's materialized views, the budgets, the AI breaker
with its force buttons, the enrichment backlog and the broker queue.

It looks across apps (billing, the AI gateway, memories, the broker), so it lives here, in
the pipeline's admin, the layer above all of them; config/urls.py mounts `console_urls` in the
admin namespace, beside the ledger it started from.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.contrib.admin.sites import AdminSite
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone
from redis.exceptions import RedisError

from accounts.selectors import user_find_by_email
from ai.breaker import Forced, ai_breaker
from ai.selectors import ai_breaker_status
from billing.ai_budget import ai_spend_views_refresh
from billing.models import AiLedgerEntry
from billing.selectors import (
    DayAiSpend,
    ai_budget_status,
    ai_spend_by_day,
    ai_spend_of_user,
    ai_spend_top_users,
    ai_spend_totals,
)
from core.broker import broker_queue_depth
from memories.enrichment import enrichment_counts

logger = logging.getLogger(__name__)

CHART_DAYS = 30
TOP_USERS = 10

# What the console's breaker buttons post, and what they do to the AI breaker.
BREAKER_FORCE_CHOICES: dict[str, Forced | None] = {
    "open": Forced.OPEN,
    "closed": Forced.CLOSED,
    "auto": None,
}
# Forcing the breaker stops every user's AI calls: a permission of its own, beyond viewing
# the ledger (enrichment.models.AiControls).
FORCE_BREAKER_PERMISSION = "enrichment.force_ai_breaker"
_FORCE_MESSAGES = {
    "open": "forced open. No AI call is made until it is closed or set back to automatic.",
    "closed": "forced closed. Failures no longer open it until it is set back to automatic.",
    "auto": "automatic. Failures open it and a probe closes it again.",
}


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


def console_urls(site: AdminSite) -> list[URLPattern]:
    """The console's URLs, for the admin namespace (config/urls.py)."""
    console = CostConsole(site)
    return [
        path(
            "billing/ailedgerentry/console/",
            site.admin_view(console.console_view),
            name="ai_cost_console",
        ),
        path(
            "billing/ailedgerentry/console/breaker/",
            site.admin_view(console.breaker_force_view),
            name="ai_breaker_force",
        ),
        path(
            "billing/ailedgerentry/console/refresh/",
            site.admin_view(console.spend_refresh_view),
            name="ai_spend_refresh",
        ),
    ]


class CostConsole:
    """The console's views; staff who may view the AI ledger may use them."""

    def __init__(self, site: AdminSite) -> None:
        self.admin_site = site
        self.opts = AiLedgerEntry._meta

    def _check_console_permission(self, request) -> None:
        # admin_view lets in active staff only; of those, the ones the ledger's admin lets see it.
        if not self.admin_site.get_model_admin(AiLedgerEntry).has_view_permission(request):
            raise PermissionDenied

    def console_view(self, request):
        self._check_console_permission(request)
        today = timezone.now().astimezone(dt.UTC).date()
        totals = ai_spend_totals(today=today)
        lookup_email = request.GET.get("user", "").strip()
        lookup = None
        if lookup_email:
            user = user_find_by_email(email=lookup_email)
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
            "can_force_breaker": request.user.has_perm(FORCE_BREAKER_PERMISSION),
            "counts": enrichment_counts(),
            "queue_depth": broker_queue_depth(),
        }
        return TemplateResponse(request, "admin/billing/cost_console.html", context)

    def breaker_force_view(self, request):
        """Force the AI breaker open (a kill switch, seen by every process at its next
        call) or closed, or hand it back to the failure count."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        self._check_console_permission(request)
        if not request.user.has_perm(FORCE_BREAKER_PERMISSION):
            raise PermissionDenied
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
        return redirect("admin:ai_cost_console")

    def spend_refresh_view(self, request):
        """Refresh the spend views now rather than at beat's next minute."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        self._check_console_permission(request)
        ai_spend_views_refresh()
        messages.success(request, "Spend figures refreshed from the ledger.")
        return redirect("admin:ai_cost_console")
