"""The console sidebar, grouped by job to be done (Review, Marketplace, Money, Operations, Reports)."""
from __future__ import annotations

from django.urls import NoReverseMatch, reverse

# (group title, [(item title, material icon, url name)])
SIDEBAR_GROUPS: list[tuple[str, list[tuple[str, str, str]]]] = [
    ("Review", [
        ("Dashboard", "dashboard", "admin:index"),
        ("Leads", "inbox", "admin:leads_lead_changelist"),
        ("Bad-lead reports", "report", "admin:refunds_badleadreport_changelist"),
    ]),
    ("Marketplace", [
        ("Providers", "engineering", "admin:providers_provider_changelist"),
        ("Categories", "category", "admin:leads_category_changelist"),
        ("Competition levels", "leaderboard", "admin:levels_competitionlevel_changelist"),
        ("Subscriptions", "subscriptions", "admin:levels_subscription_changelist"),
        ("Assignments", "assignment_turned_in", "admin:distribution_assignment_changelist"),
        ("Distribution runs", "route", "admin:distribution_distributionrun_changelist"),
        ("Auto-approval rules", "rule", "admin:refunds_autoapprovalrule_changelist"),
    ]),
    ("Money", [
        ("Accounts", "account_balance_wallet", "admin:billing_account_changelist"),
        ("Ledger", "receipt_long", "admin:billing_ledgerentry_changelist"),
        ("Deposits", "payments", "admin:billing_payment_changelist"),
    ]),
    ("Operations", [
        ("Failed jobs", "error", "admin:ops_deadletter_changelist"),
        ("Queued jobs", "schedule", "admin:django_q_ormq_changelist"),
        ("Job results", "task_alt", "admin:django_q_success_changelist"),
        ("Failed job runs", "running_with_errors", "admin:django_q_failure_changelist"),
        ("Schedules", "event_repeat", "admin:django_q_schedule_changelist"),
        ("E-mail events", "mail", "admin:notifications_emailevent_changelist"),
        ("Audit log", "policy", "admin:core_auditlog_changelist"),
        ("Staff users", "badge", "admin:accounts_user_changelist"),
        ("TOTP devices", "key", "admin:otp_totp_totpdevice_changelist"),
    ]),
    ("Reports", [
        ("Reports", "monitoring", "admin:reports_index"),
    ]),
]


# A count shown beside a link: url name → dotted path of a callback(request) -> int | str
BADGES: dict[str, str] = {
    "admin:leads_lead_changelist": "admin_ext.navigation.badge_pending_leads",
    "admin:refunds_badleadreport_changelist": "admin_ext.navigation.badge_pending_bad_leads",
    "admin:ops_deadletter_changelist": "admin_ext.navigation.badge_open_dead_letters",
}


def _badge(count: int) -> str:
    return str(count) if count else ""


def badge_pending_leads(request) -> str:
    from admin_ext.dashboard import leads_awaiting_review_count

    return _badge(leads_awaiting_review_count())


def badge_pending_bad_leads(request) -> str:
    from admin_ext.dashboard import bad_lead_reports_pending_count

    return _badge(bad_lead_reports_pending_count())


def badge_open_dead_letters(request) -> str:
    from admin_ext.dashboard import dead_letters_open_count

    return _badge(dead_letters_open_count())


def sidebar(request) -> list[dict]:
    """Only links whose admin page exists (and the user may view) are shown."""
    groups = []
    for title, items in SIDEBAR_GROUPS:
        entries = []
        for item_title, icon, url_name in items:
            try:
                link = reverse(url_name)
            except NoReverseMatch:
                continue
            entry = {"title": item_title, "icon": icon, "link": link}
            if url_name in BADGES:
                entry["badge"] = BADGES[url_name]
            entries.append(entry)
        if entries:
            groups.append({"title": title, "separator": True, "collapsible": False, "items": entries})
    return groups
