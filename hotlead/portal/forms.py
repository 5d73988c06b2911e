"""Portal forms. They only collect input: the services validate it and their field errors are shown here."""
from __future__ import annotations

import re

from django import forms

from hotlead.core.exceptions import ApplicationError, ValidationFailed
from hotlead.providers.enums import AssignmentNotify


def form_errors_apply(form: forms.Form, exc: ApplicationError, *, field_map: dict[str, str] | None = None) -> None:
    """Show a service's error on the form: field errors next to their field, the rest on top."""
    field_map = field_map or {}
    if isinstance(exc, ValidationFailed):
        for item in (exc.details or {}).get("fields", []):
            name = item.get("field", "")
            base = field_map.get(name, field_map.get(name.split(".")[0], name.split(".")[0]))
            form.add_error(base if base in form.fields else None, item.get("message", "Invalid value."))
        if (exc.details or {}).get("fields"):
            return
    form.add_error(None, exc.message)


class RegistrationForm(forms.Form):
    company_name = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"autocomplete": "organization"}))
    contact_name = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(label="E-mail", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    phone = forms.CharField(max_length=32, help_text="With country code, e.g. +1 415 555 0100.",
                            widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}))
    password = forms.CharField(min_length=1, help_text="At least 12 characters; not a common password.",
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password_confirm = forms.CharField(label="Repeat the password",
                                       widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_confirm"):
            self.add_error("password_confirm", "The two passwords do not match.")
        return data


class EmailForm(forms.Form):
    email = forms.EmailField(label="E-mail", max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}))


class NewPasswordForm(forms.Form):
    password = forms.CharField(label="New password", help_text="At least 12 characters; not a common password.",
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password_confirm = forms.CharField(label="Repeat the new password",
                                       widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_confirm"):
            self.add_error("password_confirm", "The two passwords do not match.")
        return data


class PasswordChangeForm(NewPasswordForm):
    old_password = forms.CharField(label="Current password",
                                   widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    field_order = ["old_password", "password", "password_confirm"]


class ProfileForm(forms.Form):
    company_name = forms.CharField(max_length=200)
    contact_name = forms.CharField(max_length=200)
    phone = forms.CharField(max_length=32, widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}))
    timezone = forms.CharField(max_length=64, help_text="An IANA time zone, e.g. America/Los_Angeles.")
    categories = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple,
                                           label="Categories you serve")
    webhook_url = forms.CharField(required=False, max_length=200, label="Webhook URL (optional)",
                                  help_text="Leads are also POSTed here as signed JSON. Must be https://.",
                                  widget=forms.TextInput(attrs={"type": "url"}))

    def __init__(self, *args, category_choices: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["categories"].choices = category_choices


class ServiceAreasForm(forms.Form):
    postal_codes = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Exact postal codes, one per line or separated by commas, e.g. 94110, 94103.",
    )
    prefixes = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4}), label="Prefixes",
        help_text="One per line or separated by commas. Every postal code starting with these: 941 covers 94100-94199.",
    )

    @staticmethod
    def split(value: str) -> list[str]:
        """One entry per line or comma; spaces inside an entry are part of it (K1A 0B1 is one code)."""
        return [v.strip() for v in re.split(r"[,;\n]", value or "") if v.strip()]


class PreferencesForm(forms.Form):
    assignment_email = forms.ChoiceField(
        choices=AssignmentNotify.choices, widget=forms.RadioSelect, label="E-mail for each new lead",
        help_text="Billing and account e-mails are always sent.",
    )
    low_balance_threshold = forms.DecimalField(
        min_value=0, max_value=1_000_000, decimal_places=2, label="Low-balance alert below (USD)",
        help_text="We e-mail you when your balance drops below this amount.",
    )


class TotpConfirmForm(forms.Form):
    otp = forms.RegexField(regex=r"^\d{6}$", label="Code from your app", max_length=6,
                           error_messages={"invalid": "Enter the 6-digit code."},
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}))
