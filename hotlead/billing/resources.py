"""Spreadsheet export of the ledger and deposits (django-import-export). Export only: money never comes in
through a spreadsheet, it moves through the ledger's services."""
from __future__ import annotations

from import_export import fields, resources

from hotlead.billing.models import LedgerEntry, Payment


class LedgerEntryResource(resources.ModelResource):
    provider_id = fields.Field(attribute="account_id", column_name="provider_id")
    provider = fields.Field(attribute="account__provider__company_name", column_name="provider")
    actor = fields.Field(attribute="actor__email", column_name="actor")

    class Meta:
        model = LedgerEntry
        fields = ("id", "created_at", "provider_id", "provider", "kind", "amount_cents", "balance_after_cents",
                  "memo", "reference", "idempotency_key", "related_type", "related_id", "refund_of", "actor")
        export_order = fields


class PaymentResource(resources.ModelResource):
    provider = fields.Field(attribute="provider__company_name", column_name="provider")
    recorded_by = fields.Field(attribute="recorded_by__email", column_name="recorded_by")

    class Meta:
        model = Payment
        fields = ("id", "created_at", "provider_id", "provider", "amount_cents", "method", "status", "reference",
                  "external_id", "ledger_entry", "recorded_by", "completed_at")
        export_order = fields
