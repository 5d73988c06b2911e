"""The console sidebar, grouped by job to be done (Review, Marketplace, Money, Operations, Reports)."""
from __future__ import annotations

from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string

# (group title, [(item title, material icon, url name)])
SIDEBAR_GROUPS: list[tuple[str, list[tuple[str, str, str]]]] = [
    ("Review", [
        ("Dashboard", "dashboard", "admin:index"),
        ("Review queue", "fact_check", "admin:leads_lead_review_queue"),
        ("Leads", "inbox", "admin:leads_lead_changelist"),
        ("Bad-lead reports", "report", "admin:refunds_badleadreport_changelist"),
    ]),
    ("Marketplace", [
        ("Providers", "engineering", "admin:providers_provider_changelist"),
        ("Service areas", "map", "admin:providers_servicearea_changelist"),
        ("Categories", "category", "admin:leads_category_changelist"),
        ("Competition levels", "leaderboard", "admin:levels_competitionlevel_changelist"),
        ("Subscriptions", "subscriptions", "admin:levels_subscription_changelist"),
        ("Assignments", "assignment_turned_in", "admin:distribution_assignment_changelist"),
        ("Distribution runs", "route", "admin:distribution_distributionrun_changelist"),
        ("Auto-approval rules", "rule", "admin:refunds_autoapprovalrule_changelist"),
        ("Lead sources", "hub", "admin:sources_leadsource_changelist"),
    ]),
    ("Money", [
        ("Accounts", "account_balance_wallet", "admin:billing_account_changelist"),
        ("Ledger", "receipt_long", "admin:billing_ledgerentry_changelist"),
        ("Deposits", "savings", "admin:billing_deposit_changelist"),  # every deposit in the ledger, however recorded
        ("Payments", "payments", "admin:billing_payment_changelist"),
    ]),
    ("Operations", [
        ("Failed jobs", "error", "admin:ops_deadletter_changelist"),
        ("Queued jobs", "schedule", "admin:django_q_ormq_changelist"),
        ("Job results", "task_alt", "admin:django_q_success_changelist"),
        ("Failed job runs", "running_with_errors", "admin:django_q_failure_changelist"),
        ("Schedules", "event_repeat", "admin:django_q_schedule_changelist"),
        ("Job workers", "monitor_heart", "admin:ops_workerheartbeat_changelist"),
        ("E-mail events", "mail", "admin:notifications_emailevent_changelist"),
        ("Webhook deliveries", "webhook", "admin:webhooks_webhookdelivery_changelist"),
        ("Webhook endpoints", "settings_ethernet", "admin:webhooks_webhookendpoint_changelist"),
        ("Audit log", "policy", "admin:core_auditlog_changelist"),
        ("Rate limits", "speed", "admin:core_ratelimitoverride_changelist"),
        ("Staff users", "badge", "admin:accounts_user_changelist"),
        ("Staff groups", "groups", "admin:auth_group_changelist"),
        ("TOTP devices", "key", "admin:otp_totp_totpdevice_changelist"),
        ("Backup codes", "password", "admin:otp_static_staticdevice_changelist"),
    ]),
    ("Reports", [
        ("Reports", "monitoring", "admin:reports_index"),
        ("What-if simulator", "science", "admin:simulator_simulationrun_changelist"),
        ("KPIs", "query_stats", "admin:reports_kpis"),
        ("Funnel", "filter_alt", "admin:reports_funnel"),
        ("Revenue", "paid", "admin:reports_revenue"),
        ("Starving subscriptions", "hourglass_empty", "admin:reports_starvation"),
        ("Flagged providers", "flag", "admin:reports_flags"),
        ("My exports", "download", "admin:reports_exportjob_changelist"),
    ]),
]


# A count shown beside a link while there is work waiting: url name → dotted path of a callable() -> int
BADGES: dict[str, str] = {
    # the leads waiting for review: the badge sits on (and opens) the review queue, not the list of every lead
    "admin:leads_lead_review_queue": "admin_ext.dashboard.leads_awaiting_review_count",
    "admin:refunds_badleadreport_changelist": "admin_ext.dashboard.bad_lead_reports_pending_count",
    "admin:ops_deadletter_changelist": "admin_ext.dashboard.dead_letters_open_count",
}


def _badge(url_name: str) -> str | None:
    """The count as text, or None when nothing waits (unfold would draw an empty badge for "")."""
    if url_name not in BADGES:
        return None
    count = import_string(BADGES[url_name])()
    return str(count) if count else None


def _model_admins() -> dict[str, object]:
    return {
        f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist": model_admin
        for model, model_admin in admin.site._registry.items()
    }


def sidebar(request) -> list[dict]:
    """Only links whose admin page exists and the user may view are shown."""
    model_admins = _model_admins()
    groups = []
    for title, items in SIDEBAR_GROUPS:
        entries = []
        for item_title, icon, url_name in items:
            try:
                link = reverse(url_name)
            except NoReverseMatch:
                continue
            model_admin = model_admins.get(url_name)
            if model_admin is not None and not model_admin.has_view_or_change_permission(request):
                continue
            entry = {"title": item_title, "icon": icon, "link": link}
            if badge := _badge(url_name):
                entry["badge"] = badge  # not a dotted path: unfold shows the text as it is
            entries.append(entry)
        if entries:
            groups.append({"title": title, "separator": True, "collapsible": False, "items": entries})
    return groups
