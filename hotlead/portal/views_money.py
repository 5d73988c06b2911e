"""Portal pages of money: billing history, and subscriptions (list with their status explained, create,
edit, pause, resume, cancel). Thin: the billing selectors and the subscription services decide."""
from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from hotlead.billing.enums import EntryKind
from hotlead.billing.selectors import account_for_provider, ledger_history
from hotlead.core.exceptions import ApplicationError, Conflict, NotFound, ValidationFailed
from hotlead.distribution.models import Assignment
from hotlead.distribution.selectors.inbox import MAX_DB_ID
from hotlead.leads.models import Category
from hotlead.levels.enums import SubscriptionStatus
from hotlead.levels.selectors import (
    levels_list,
    subscription_for_provider,
    subscription_status_reason,
    subscriptions_for_provider,
)
from hotlead.levels.services.subscriptions import (
    subscription_cancel,
    subscription_create,
    subscription_pause,
    subscription_resume,
    subscription_update,
)
from hotlead.portal.decorators import portal_login_required
from hotlead.portal.forms_money import (
    OP_LABELS,
    TIMELINE_LABELS,
    WEEKDAYS,
    SubscriptionFiltersForm,
    SubscriptionForm,
    cents_to_dollars,
    subscription_errors_apply,
)
from hotlead.portal.prg import post_only
from hotlead.portal.templatetags.portal_tags import money

BILLING_PAGE = 50


# ---- billing ---------------------------------------------------------------------------------------------

@portal_login_required
@require_GET
def billing(request):
    provider = request.provider
    kind = request.GET.get("kind") if request.GET.get("kind") in EntryKind.values else None
    cursor, cursor_error = request.GET.get("cursor") or None, False
    try:
        entries, next_cursor = ledger_history(provider_id=provider.pk, cursor=cursor, limit=BILLING_PAGE, kind=kind)
    except ValidationFailed:
        cursor, cursor_error = None, True
        entries, next_cursor = ledger_history(provider_id=provider.pk, limit=BILLING_PAGE, kind=kind)
    # The lead behind each charge or refund, in one query for the page.
    charge_ids = {e.refund_of_id or e.pk for e in entries if e.kind in (EntryKind.CHARGE, EntryKind.REFUND)}
    leads = {
        charge_id: {"assignment_id": pk, "category": category, "postal_code": postal_code}
        for charge_id, pk, category, postal_code in Assignment.objects.filter(
            provider_id=provider.pk, charge_entry_id__in=charge_ids,
        ).values_list("charge_entry_id", "pk", "category__name", "lead__postal_code")
    }
    rows = [{"entry": e, "lead": leads.get(e.refund_of_id or e.pk)} for e in entries]
    account = account_for_provider(provider_id=provider.pk)
    balance = account.balance_cents if account else 0
    filters = {"kind": kind} if kind else {}
    return render(request, "portal/billing.html", {
        "rows": rows,
        "balance_cents": balance,
        "low_balance": balance < provider.low_balance_threshold_cents,
        "threshold_cents": provider.low_balance_threshold_cents,
        "currency": account.currency if account else settings.HOTLEAD["CURRENCY"],
        "kinds": EntryKind.choices,
        "kind": kind or "",
        "cursor_error": cursor_error,
        "is_first_page": not cursor,
        "first_page_query": urlencode(filters),
        "next_page_query": urlencode({**filters, "cursor": next_cursor}) if next_cursor else "",
        "tz": provider.timezone,
    })


# ---- subscriptions ---------------------------------------------------------------------------------------

def _describe_filter(flt: dict, category_names: dict[str, str]) -> str:
    """One stored filter in the buyer's words ("Budget at least $1,000", "Timeline: ASAP or Flexible")."""
    field, op, value = flt["field"], flt["op"], flt["value"]
    values = value if isinstance(value, list) else [value]
    if field == "budget_cents":
        values = [money(v) for v in values]
    elif field == "category":
        values = [category_names.get(v, v) for v in values]
    elif field == "timeline":
        values = [TIMELINE_LABELS.get(v, v) for v in values]
    label = {"budget_cents": "Budget", "category": "Service", "timeline": "Timeline", "postal_code": "ZIP code",
             "source": "Source"}.get(field, field)
    if op == "between":
        return f"{label} between {values[0]} and {values[1]}"
    if op in ("in", "eq") and field in ("category", "timeline"):
        return f"{label}: {' or '.join(str(v) for v in values)}"
    if op == "prefix":
        return f"{label} starts with {' or '.join(str(v) for v in values)}"
    return f"{label} {OP_LABELS.get(op, op)} {', '.join(str(v) for v in values)}"


def _describe_schedule(schedule: dict | None) -> str:
    if not schedule:
        return "Any time"
    days = ", ".join(name for value, name in WEEKDAYS if int(value) in schedule["days"])
    return f"{days}, {schedule['start']}–{schedule['end']}"


@portal_login_required
@require_GET
def subscriptions(request):
    show_cancelled = request.GET.get("show") == "cancelled"
    category_names = dict(Category.objects.values_list("slug", "name"))
    rows, _ = subscriptions_for_provider(
        provider_id=request.provider.pk, status=SubscriptionStatus.CANCELLED if show_cancelled else None, limit=200)
    return render(request, "portal/subscriptions.html", {
        "show_cancelled": show_cancelled,
        "rows": [{
            "subscription": sub,
            "reason": subscription_status_reason(sub),
            "filters": [_describe_filter(f, category_names) for f in sub.filters or []],
            "schedule": _describe_schedule(sub.schedule),
        } for sub in rows],
    })


def _level_choices() -> list[tuple[str, str]]:
    def sharing(level) -> str:
        return "exclusive" if level.max_recipients == 1 else f"shared by up to {level.max_recipients} providers"

    return [(level.slug, f"{level.name} — {money(level.price_cents)} a lead, {sharing(level)}")
            for level in levels_list().filter(active=True)]


def _category_choices(stored: list[dict] | None = None) -> list[tuple[str, str]]:
    """Active services, plus any a stored filter still names (so saving again never drops it silently)."""
    choices = dict(Category.objects.filter(active=True).order_by("name").values_list("slug", "name"))
    named = {v for f in stored or [] if f.get("field") == "category"
             for v in (f["value"] if isinstance(f["value"], list) else [f["value"]])}
    for slug, name in Category.objects.filter(slug__in=named - set(choices)).values_list("slug", "name"):
        choices[slug] = f"{name} (no longer offered)"
    return list(choices.items())


def _filters_form(request, stored: list[dict] | None = None) -> SubscriptionFiltersForm:
    initial, other = SubscriptionFiltersForm.initial_for(stored or [])
    form = SubscriptionFiltersForm(request.POST if request.method == "POST" else None, initial=initial,
                                   category_choices=_category_choices(stored), prefix="filters")
    form.other_filters = other
    return form


def _form_page(request, *, form, filters_form, subscription=None, status: int = 200):
    category_names = dict(Category.objects.values_list("slug", "name"))
    return render(request, "portal/subscription_form.html", {
        "form": form, "filters_form": filters_form, "subscription": subscription,
        "other_filters": [_describe_filter(f, category_names) for f in filters_form.other_filters],
    }, status=status)


def _own_subscription(request, subscription_id: int):
    if not 0 < subscription_id <= MAX_DB_ID:
        raise Http404("No such subscription.")
    try:
        return subscription_for_provider(provider_id=request.provider.pk, subscription_id=subscription_id)
    except NotFound:
        raise Http404("No such subscription.") from None


@portal_login_required
@require_http_methods(["GET", "POST"])
def subscription_new(request):
    form = SubscriptionForm(request.POST or None, levels=_level_choices())
    filters_form = _filters_form(request)
    if request.method == "POST":
        if form.is_valid() and filters_form.is_valid():
            try:
                subscription = subscription_create(provider=request.provider, level=form.cleaned_data["level"],
                                                   filters=filters_form.filters(),
                                                   **form.service_values())
            except ApplicationError as exc:
                subscription_errors_apply(form, filters_form, exc)
            else:
                messages.success(request, f"Subscribed at {subscription.level.name}. "
                                          f"{subscription_status_reason(subscription)}")
                return redirect("portal:subscriptions")
        return _form_page(request, form=form, filters_form=filters_form, status=422)
    return _form_page(request, form=form, filters_form=filters_form)


@portal_login_required
@require_http_methods(["GET", "POST"])
def subscription_edit(request, subscription_id: int):
    subscription = _own_subscription(request, subscription_id)
    if subscription.status == SubscriptionStatus.CANCELLED:
        messages.error(request, "This subscription is cancelled; subscribe again to receive leads at this level.")
        return redirect("portal:subscriptions")
    initial = {
        "level": subscription.level.slug, "daily_cap": subscription.daily_cap,
        "weekly_cap": subscription.weekly_cap, "monthly_cap": subscription.monthly_cap,
        "monthly_budget": cents_to_dollars(subscription.monthly_budget_cents)
        if subscription.monthly_budget_cents else "",
        "days": [str(d) for d in (subscription.schedule or {}).get("days", [])],
        "start": (subscription.schedule or {}).get("start", ""), "end": (subscription.schedule or {}).get("end", ""),
    }
    levels = [(subscription.level.slug, subscription.level.name)]
    form = SubscriptionForm(request.POST or None, initial=initial, levels=levels, level_locked=True)
    filters_form = _filters_form(request, subscription.filters)
    if request.method == "POST":
        if form.is_valid() and filters_form.is_valid():
            filters = filters_form.filters(keep=filters_form.other_filters)
            try:
                subscription_update(subscription_id=subscription.pk, provider=request.provider,
                                    changes={"filters": filters, **form.service_values()})
            except Conflict as exc:
                messages.error(request, exc.message)
                return redirect("portal:subscriptions")
            except ApplicationError as exc:
                subscription_errors_apply(form, filters_form, exc)
            else:
                messages.success(request, f"Your {subscription.level.name} subscription is saved.")
                return redirect("portal:subscriptions")
        return _form_page(request, form=form, filters_form=filters_form, subscription=subscription, status=422)
    return _form_page(request, form=form, filters_form=filters_form, subscription=subscription)


def _status_action(request, subscription_id: int, service, done: str):
    subscription = _own_subscription(request, subscription_id)
    try:
        subscription = service(subscription_id=subscription.pk, provider=request.provider)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{subscription.level.name}: {done} {subscription_status_reason(subscription)}")
    return redirect("portal:subscriptions")


@portal_login_required
@post_only("portal:subscriptions", same_args=False)
def subscription_pause_view(request, subscription_id: int):
    return _status_action(request, subscription_id, subscription_pause, "paused.")


@portal_login_required
@post_only("portal:subscriptions", same_args=False)
def subscription_resume_view(request, subscription_id: int):
    return _status_action(request, subscription_id, subscription_resume, "resumed.")


@portal_login_required
@require_http_methods(["GET", "POST"])
def subscription_cancel_view(request, subscription_id: int):
    """GET asks for confirmation; POST cancels."""
    if request.method == "POST":
        return _status_action(request, subscription_id, subscription_cancel, "cancelled.")
    subscription = _own_subscription(request, subscription_id)
    if subscription.status == SubscriptionStatus.CANCELLED:
        return redirect("portal:subscriptions")
    return render(request, "portal/subscription_cancel.html", {"subscription": subscription})
