"""The console's spreadsheet exports (django-import-export) with the same human headers as the report exports:
"Company", "Amount ($)" rather than `amount_cents`, money as numbers in dollars, and every text cell guarded
against formula injection (`reports.exports.neutralise`). Export only: nothing comes back in through these.
"""
from __future__ import annotations

from decimal import Decimal

from django.utils import timezone
from import_export import fields, resources, widgets

from hotlead.billing.models import LedgerEntry, Payment
from hotlead.leads.models import Lead
from hotlead.levels.models import CompetitionLevel
from reports.exports import money_header, neutralise


class CentsWidget(widgets.Widget):
    """Integer cents rendered as a number of currency units (12345 → 123.45); blank stays blank."""

    def render(self, value, obj=None, **kwargs):
        if value is None or value == "":
            return ""
        return (Decimal(int(value)) / 100).quantize(Decimal("0.01"))


class LocalDateTimeWidget(widgets.Widget):
    """A real date-time in the site's time zone, to the second (xlsx: a date cell; csv: 2026-03-01 09:30:00)."""

    def render(self, value, obj=None, **kwargs):
        if value is None or value == "":
            return ""
        if timezone.is_aware(value):
            value = timezone.localtime(value, timezone.get_default_timezone())
        return value.replace(tzinfo=None, microsecond=0)


class HumanExportResource(resources.ModelResource):
    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        return neutralise(value) if isinstance(value, str) else value


def _f(attribute: str, header: str, widget=None) -> fields.Field:
    return fields.Field(attribute=attribute, column_name=header, widget=widget) if widget else \
        fields.Field(attribute=attribute, column_name=header)


def _money(attribute: str, label: str) -> fields.Field:
    return fields.Field(attribute=attribute, column_name=money_header(label), widget=CentsWidget())


class LeadHumanResource(HumanExportResource):
    submitted = _f("created_at", "Submitted", LocalDateTimeWidget())
    status = _f("status", "Status")
    lead_id = _f("public_id", "Lead ID")
    name = _f("name", "Name")
    email = _f("email", "E-mail")
    phone = _f("phone", "Phone")
    postal_code = _f("postal_code", "Postal code")
    category = _f("category__name", "Category")
    description = _f("description", "Description")
    budget = _money("budget_cents", "Budget")
    timeline = _f("timeline", "Timeline")
    source = _f("source", "Source")
    utm_source = _f("utm_source", "UTM source")
    utm_medium = _f("utm_medium", "UTM medium")
    utm_campaign = _f("utm_campaign", "UTM campaign")
    buyers = _f("buyers_count", "Buyers")
    duplicate = _f("possible_duplicate", "Possible duplicate")
    duplicate_of = _f("duplicate_of__public_id", "Duplicate of")
    verified = _f("verified_at", "Verified", LocalDateTimeWidget())
    confirmed = _f("confirmed_at", "Confirmed", LocalDateTimeWidget())
    reviewed = _f("reviewed_at", "Reviewed", LocalDateTimeWidget())
    reject_reason = _f("reject_reason", "Reject reason")
    approved = _f("approved_at", "Approved", LocalDateTimeWidget())
    distributed = _f("distributed_at", "Distributed", LocalDateTimeWidget())

    class Meta:
        model = Lead
        fields = ("submitted", "status", "lead_id", "name", "email", "phone", "postal_code", "category",
                  "description", "budget", "timeline", "source", "utm_source", "utm_medium", "utm_campaign", "buyers",
                  "duplicate", "duplicate_of", "verified", "confirmed", "reviewed", "reject_reason", "approved",
                  "distributed")
        export_order = fields


class LedgerHumanResource(HumanExportResource):
    entry = _f("id", "Entry #")
    date = _f("created_at", "Date", LocalDateTimeWidget())
    company = _f("account__provider__company_name", "Company")
    provider = _f("account_id", "Provider #")
    kind = _f("kind", "Kind")
    amount = _money("amount_cents", "Amount")
    balance_after = _money("balance_after_cents", "Balance after")
    memo = _f("memo", "Memo")
    reference = _f("reference", "Reference")
    key = _f("idempotency_key", "Idempotency key")
    related = _f("related_type", "Related to")
    related_id = _f("related_id", "Related #")
    refund_of = _f("refund_of_id", "Refund of entry #")
    actor = _f("actor__email", "By")

    class Meta:
        model = LedgerEntry
        fields = ("entry", "date", "company", "provider", "kind", "amount", "balance_after", "memo", "reference",
                  "key", "related", "related_id", "refund_of", "actor")
        export_order = fields


class PaymentHumanResource(HumanExportResource):
    payment = _f("id", "Deposit #")
    date = _f("created_at", "Date", LocalDateTimeWidget())
    provider = _f("provider_id", "Provider #")
    company = _f("provider__company_name", "Company")
    amount = _money("amount_cents", "Amount")
    method = _f("method", "Method")
    status = _f("status", "Status")
    reference = _f("reference", "Reference")
    external_id = _f("external_id", "Payment provider id")
    entry = _f("ledger_entry_id", "Ledger entry #")
    recorded_by = _f("recorded_by__email", "Recorded by")
    completed = _f("completed_at", "Completed", LocalDateTimeWidget())

    class Meta:
        model = Payment
        fields = ("payment", "date", "provider", "company", "amount", "method", "status", "reference", "external_id",
                  "entry", "recorded_by", "completed")
        export_order = fields


class LevelHumanResource(HumanExportResource):
    level = _f("id", "Level #")
    rank = _f("rank", "Rank")
    name = _f("name", "Name")
    slug = _f("slug", "Slug")
    price = _money("price_cents", "Price")
    max_buyers = _f("max_recipients", "Maximum buyers")
    active = _f("active", "Active")
    archived = _f("archived_at", "Archived", LocalDateTimeWidget())
    created = _f("created_at", "Created", LocalDateTimeWidget())
    updated = _f("updated_at", "Updated", LocalDateTimeWidget())

    class Meta:
        model = CompetitionLevel
        fields = ("level", "rank", "name", "slug", "price", "max_buyers", "active", "archived", "created", "updated")
        export_order = fields
