"""Money in the console: accounts with their ledger (read-only), deposits and adjustments (each reviewed and
confirmed, then audit-logged), the ledger and the deposits lists. Money moves only through
`hotlead.billing.services`.
"""
from __future__ import annotations

import uuid
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from import_export.admin import ExportMixin
from unfold.admin import TabularInline
from unfold.contrib.import_export.forms import ExportForm
from unfold.decorators import action, display
from unfold.widgets import UnfoldAdminDecimalFieldWidget, UnfoldAdminSelectWidget, UnfoldAdminTextInputWidget

from admin_ext.base import ModelAdmin, choice_badge
from admin_ext.links import admin_link
from admin_ext.mixins import ReadOnlyAdminMixin
from hotlead.billing.enums import EntryKind, PaymentMethod, PaymentStatus
from hotlead.billing.models import Account, Deposit, LedgerEntry, Payment
from hotlead.billing.services.payments import MAX_MOVEMENT_CENTS, balance_adjust, payment_record
from hotlead.core.exceptions import ApplicationError
from hotlead.core.money import money_format
from hotlead.core.services import audit_record
from reports.resources import LedgerHumanResource as LedgerEntryResource
from reports.resources import PaymentHumanResource as PaymentResource

MONEY_TEMPLATE = "admin/billing/money_action.html"
_MAX_AMOUNT = Decimal(MAX_MOVEMENT_CENTS) / 100


class AuditedExportMixin(ExportMixin):
    """Spreadsheet export (no import), audit-logged with the number of rows."""

    export_form_class = ExportForm

    def get_export_data(self, file_format, request, queryset, **kwargs):
        data = super().get_export_data(file_format, request, queryset, **kwargs)
        opts = self.model._meta
        audit_record(action=f"{opts.model_name}.export", actor=request.user, object_type=opts.label_lower,
                     changes={"rows": queryset.count(), "format": type(file_format).__name__})
        return data


class DepositForm(forms.Form):
    amount = forms.DecimalField(label="Amount", min_value=Decimal("0.01"), max_value=_MAX_AMOUNT, decimal_places=2,
                                widget=UnfoldAdminDecimalFieldWidget, help_text="In the account's currency: 250.00")
    method = forms.ChoiceField(choices=[(m.value, m.label) for m in PaymentMethod if m != PaymentMethod.CARD],
                               widget=UnfoldAdminSelectWidget)
    reference = forms.CharField(max_length=200, required=False, widget=UnfoldAdminTextInputWidget,
                                help_text="The bank transfer or cheque reference")
    token = forms.CharField(widget=forms.HiddenInput)


class AdjustmentForm(forms.Form):
    amount = forms.DecimalField(label="Amount (+ credit, − debit)", max_value=_MAX_AMOUNT, min_value=-_MAX_AMOUNT,
                                decimal_places=2, widget=UnfoldAdminDecimalFieldWidget)
    reason = forms.CharField(max_length=500, widget=UnfoldAdminTextInputWidget,
                             help_text="Required; stored on the ledger entry and in the audit log")
    token = forms.CharField(widget=forms.HiddenInput)

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError("An adjustment cannot be zero.")
        return amount

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("A reason is required.")
        return reason


class LedgerInline(TabularInline):
    model = LedgerEntry
    fk_name = "account"
    verbose_name_plural = "Ledger (newest first, read-only)"
    fields = ("created_at", "kind", "amount", "balance_after", "memo", "reference", "actor", "related")
    readonly_fields = fields
    ordering = ("-created_at", "-id")
    per_page = 25
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @display(description="Amount")
    def amount(self, obj):
        return money_format(obj.amount_cents, signed=True)

    @display(description="Balance after")
    def balance_after(self, obj):
        return money_format(obj.balance_after_cents)

    @display(description="Related")
    def related(self, obj):
        return f"{obj.related_type} #{obj.related_id}" if obj.related_type else "—"


@admin.register(Account)
class AccountAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ("provider_link", "balance", "threshold", "low_balance_alerted_at", "updated_at")
    search_fields = ("provider__company_name", "provider__user__email", "=provider__id")
    list_select_related = ("provider",)
    ordering = ("provider__company_name",)
    inlines = [LedgerInline]
    fields = ("provider_link", "balance", "currency", "threshold", "low_balance_alerted_at", "updated_at")
    readonly_fields = fields
    actions_row = ["deposit_row", "adjust_row"]
    actions_detail = ["deposit_detail", "adjust_detail"]

    def has_move_money_permission(self, request, obj=None):
        return bool(request.user.is_active and request.user.is_staff)

    @display(description="Provider", ordering="provider__company_name")
    def provider_link(self, obj):
        return admin_link("admin:providers_provider_change", obj.provider_id, label=obj.provider)

    @display(description="Balance", ordering="balance_cents")
    def balance(self, obj):
        return money_format(obj.balance_cents, obj.currency)

    @display(description="Low-balance alert below")
    def threshold(self, obj):
        return money_format(obj.provider.low_balance_threshold_cents, obj.currency)

    # --- deposit and adjustment: form → review → confirm ---

    def _account(self, object_id) -> Account:
        try:
            pk = int(object_id)
        except (TypeError, ValueError):
            raise Http404 from None
        account = Account.objects.select_related("provider").filter(pk=pk).first()
        if account is None:
            raise Http404("No such account.")
        return account

    def _money_view(self, request, object_id, *, kind: str, back_url: str):
        account = self._account(object_id)
        form_class = DepositForm if kind == "deposit" else AdjustmentForm
        posted = request.method == "POST"
        form = form_class(request.POST) if posted else form_class(initial={"token": uuid.uuid4().hex})
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "account": account, "form": form,
            "balance": money_format(account.balance_cents, account.currency), "back_url": back_url, "error": "",
            "title": f"Record a deposit for {account.provider}" if kind == "deposit"
            else f"Adjust the balance of {account.provider}",
        }
        if request.method == "POST" and form.is_valid():
            cents = int(form.cleaned_data["amount"] * 100)
            if request.POST.get("confirm") == "yes":
                try:
                    if kind == "deposit":
                        payment = payment_record(
                            provider_id=account.pk, amount_cents=cents, method=form.cleaned_data["method"],
                            reference=form.cleaned_data["reference"], actor=request.user,
                            idempotency_key=f"console:{form.cleaned_data['token']}")
                        message = f"Deposit of {money_format(cents)} recorded (payment #{payment.pk})."
                    else:
                        entry = balance_adjust(
                            provider_id=account.pk, amount_cents=cents, reason=form.cleaned_data["reason"],
                            actor=request.user, key=f"adjust:console:{form.cleaned_data['token']}")
                        message = f"Balance adjusted by {money_format(cents, signed=True)} (ledger entry #{entry.pk})."
                except ApplicationError as exc:
                    context["error"] = exc.message
                else:
                    self.message_user(request, message, messages.SUCCESS)
                    return HttpResponseRedirect(back_url)
            else:
                context.update(
                    confirming=True,
                    summary=self._summary(kind, account, cents, form.cleaned_data),
                    balance_after=money_format(account.balance_cents + cents, account.currency),
                    confirm_label="Yes, record the deposit" if kind == "deposit" else "Yes, adjust the balance",
                )
                if account.balance_cents + cents < 0:
                    context.update(confirming=False,
                                   error=f"The balance is {money_format(account.balance_cents)}: "
                                         "it cannot go below zero.")
        return TemplateResponse(request, MONEY_TEMPLATE, context)

    @staticmethod
    def _summary(kind: str, account: Account, cents: int, data: dict) -> str:
        if kind == "deposit":
            method = dict(PaymentMethod.choices)[data["method"]].lower()
            reference = f" (reference {data['reference']})" if data.get("reference") else ""
            return f"Deposit {money_format(cents)} by {method}{reference} into the account of {account.provider}."
        return f"Adjust the balance of {account.provider} by {money_format(cents, signed=True)}: “{data['reason']}”."

    def _detail_url(self, object_id) -> str:
        return reverse("admin:billing_account_change", args=[object_id])

    @action(description="Record a deposit", icon="savings", permissions=["move_money"], url_path="deposit-row")
    def deposit_row(self, request, object_id):
        return self._money_view(request, object_id, kind="deposit",
                                back_url=reverse("admin:billing_account_changelist"))

    @action(description="Adjust", icon="tune", permissions=["move_money"], url_path="adjust-row")
    def adjust_row(self, request, object_id):
        return self._money_view(request, object_id, kind="adjust",
                                back_url=reverse("admin:billing_account_changelist"))

    @action(description="Record a deposit", icon="savings", permissions=["move_money"], url_path="deposit")
    def deposit_detail(self, request, object_id):
        return self._money_view(request, object_id, kind="deposit", back_url=self._detail_url(object_id))

    @action(description="Adjust the balance", icon="tune", permissions=["move_money"], url_path="adjust")
    def adjust_detail(self, request, object_id):
        return self._money_view(request, object_id, kind="adjust", back_url=self._detail_url(object_id))


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdminMixin, AuditedExportMixin, ModelAdmin):
    """The ledger, read-only: the database refuses changes anyway."""

    list_display = ("id", "created_at", "provider_link", "kind_badge", "amount", "balance_after", "memo", "reference",
                    "actor")
    list_filter = ("kind",)
    search_fields = ("=id", "idempotency_key", "reference", "memo", "account__provider__company_name")
    list_select_related = ("account__provider", "actor")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    readonly_fields = [f.name for f in LedgerEntry._meta.fields]
    resource_classes = [LedgerEntryResource]

    @display(description="Provider")
    def provider_link(self, obj):
        return admin_link("admin:billing_account_change", obj.account_id, label=obj.account.provider)

    @display(description="Kind", label={EntryKind.DEPOSIT: "success", EntryKind.CHARGE: "info",
                                        EntryKind.REFUND: "warning", EntryKind.ADJUSTMENT: "danger"})
    def kind_badge(self, obj):
        return choice_badge(obj, "kind")

    @display(description="Amount", ordering="amount_cents")
    def amount(self, obj):
        return money_format(obj.amount_cents, signed=True)

    @display(description="Balance after")
    def balance_after(self, obj):
        return money_format(obj.balance_after_cents)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, AuditedExportMixin, ModelAdmin):
    """Deposits, read-only (record one from the provider's account page)."""

    list_display = ("id", "created_at", "provider_link", "amount", "method", "status_badge", "reference",
                    "external_id", "recorded_by", "completed_at")
    list_filter = ("status", "method")
    search_fields = ("=id", "external_id", "reference", "provider__company_name")
    list_select_related = ("provider", "recorded_by")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    readonly_fields = [f.name for f in Payment._meta.fields]
    resource_classes = [PaymentResource]

    @display(description="Provider")
    def provider_link(self, obj):
        return admin_link("admin:billing_account_change", obj.provider_id, label=obj.provider)

    @display(description="Amount", ordering="amount_cents")
    def amount(self, obj):
        return money_format(obj.amount_cents)

    @display(description="Status", label={PaymentStatus.PENDING: "warning", PaymentStatus.COMPLETED: "success",
                                          PaymentStatus.FAILED: "danger"})
    def status_badge(self, obj):
        return choice_badge(obj, "status")


@admin.register(Deposit)
class DepositAdmin(ReadOnlyAdminMixin, ModelAdmin):
    """Every deposit in the ledger, however it was recorded (console, API, card webhook, import): the list staff
    open to find a deposit. The payment record, when there is one, adds its method, reference and who recorded it."""

    list_display = ("created_at", "provider_link", "amount", "how", "reference_text", "recorded_by")
    search_fields = ("=id", "reference", "memo", "idempotency_key", "account__provider__company_name")
    list_select_related = ("account__provider", "actor", "payment__recorded_by")
    ordering = ("-created_at", "-id")
    readonly_fields = [f.name for f in LedgerEntry._meta.fields]

    @display(description="Provider", ordering="account__provider__company_name")
    def provider_link(self, obj):
        return admin_link("admin:providers_provider_change", obj.account_id, label=obj.account.provider)

    @display(description="Amount", ordering="amount_cents")
    def amount(self, obj):
        return money_format(obj.amount_cents)

    @display(description="How")
    def how(self, obj):
        payment = getattr(obj, "payment", None)
        if payment is not None:
            return payment.get_method_display()
        return "Posted to the ledger" + (f" ({obj.memo})" if obj.memo else "")

    @display(description="Reference")
    def reference_text(self, obj):
        payment = getattr(obj, "payment", None)
        return (payment.reference if payment is not None and payment.reference else obj.reference) or "—"

    @display(description="Recorded by")
    def recorded_by(self, obj):
        payment = getattr(obj, "payment", None)
        user = (payment.recorded_by if payment is not None else None) or obj.actor
        return user.email if user else "system"
