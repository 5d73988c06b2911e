"""Portal forms of subscriptions: a level, caps, a monthly budget, a delivery schedule and filter rows.

The forms only turn what a person types ("$1,500", "94110, 94112", a time picker's "08:30") into the
service's input shape; the subscription services validate it (SPEC §4.4) and their errors are shown
next to the field or filter row they name.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django import forms

from hotlead.core.exceptions import ApplicationError, ValidationFailed
from hotlead.levels.enums import FilterField, FilterOp

WEEKDAYS = [(str(i), name) for i, name in enumerate(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))]
FIELD_LABELS = {
    FilterField.CATEGORY: "Service (category slug)",
    FilterField.POSTAL_CODE: "Postal code",
    FilterField.BUDGET_CENTS: "Budget ($)",
    FilterField.TIMELINE: "Timeline (asap, within_month, flexible)",
    FilterField.SOURCE: "Source",
}
OP_LABELS = {
    FilterOp.EQ: "is",
    FilterOp.NE: "is not",
    FilterOp.IN: "is one of",
    FilterOp.NOT_IN: "is none of",
    FilterOp.GTE: "is at least",
    FilterOp.LTE: "is at most",
    FilterOp.BETWEEN: "is between",
    FilterOp.PREFIX: "starts with",
}
_LIST_OPS = {FilterOp.IN, FilterOp.NOT_IN}
_HHMM = re.compile(r"^\d{2}:\d{2}")
_FILTER_ERROR = re.compile(r"^filters\.(\d+)(?:\.value)?$")


# The largest amount a person could mean here (and far inside the database's integer columns).
MAX_DOLLARS = Decimal(10_000_000)


def dollars_to_cents(text: str) -> int:
    try:
        amount = Decimal(text.replace("$", "").replace(",", "").strip())
    except InvalidOperation:
        raise forms.ValidationError(f"“{text}” is not an amount in dollars.")
    if not amount.is_finite():  # "NaN", "Infinity": Decimal parses them, but they compare by raising
        raise forms.ValidationError(f"“{text}” is not an amount in dollars.")
    if amount > MAX_DOLLARS:
        raise forms.ValidationError(f"“{text}” is more than ${MAX_DOLLARS:,}.")
    if amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise forms.ValidationError(f"“{text}” is not an amount in dollars and cents.")
    return int(amount * 100)


def cents_to_dollars(cents: int) -> str:
    return f"{cents // 100}" if cents % 100 == 0 else f"{cents // 100}.{cents % 100:02d}"


class FilterRowForm(forms.Form):
    field = forms.ChoiceField(required=False, label="Field",
                              choices=[("", "— no filter —"), *FIELD_LABELS.items()])
    op = forms.ChoiceField(required=False, label="Condition", choices=list(OP_LABELS.items()))
    value = forms.CharField(required=False, max_length=2000, label="Value",
                            help_text="Several values: separate with commas. Between: “low, high”. "
                                      "Budgets in dollars, without thousands separators.")

    def clean(self):
        data = super().clean()
        field, op, text = data.get("field"), data.get("op"), (data.get("value") or "").strip()
        if not field:
            if text:
                self.add_error("field", "Choose what this filter looks at, or clear its value.")
            data["filter"] = None
            return data
        if not text:
            self.add_error("value", "Enter a value for this filter.")
            return data
        parts = [part.strip() for part in text.split(",") if part.strip()]
        try:
            if field == FilterField.BUDGET_CENTS:
                parts = [dollars_to_cents(part) for part in parts]
            if op in _LIST_OPS:
                value = parts
            elif op == FilterOp.BETWEEN:
                if len(parts) != 2:
                    raise forms.ValidationError("Enter two values separated by a comma: low, high.")
                value = parts
            else:
                if len(parts) != 1:
                    raise forms.ValidationError("Enter one value (use “is one of” for several).")
                value = parts[0]
        except forms.ValidationError as exc:
            self.add_error("value", exc)
            return data
        data["filter"] = {"field": field, "op": op, "value": value}
        return data

    @classmethod
    def initial_for(cls, flt: dict) -> dict:
        """A stored filter back into the row's text."""
        values = flt["value"] if isinstance(flt["value"], list) else [flt["value"]]
        if flt["field"] == FilterField.BUDGET_CENTS:
            values = [cents_to_dollars(v) for v in values]
        return {"field": flt["field"], "op": flt["op"], "value": ", ".join(str(v) for v in values)}


FilterRowFormSet = forms.formset_factory(FilterRowForm, extra=0, max_num=20, validate_max=True)


class SubscriptionForm(forms.Form):
    level = forms.ChoiceField(label="Competition level")
    daily_cap = forms.IntegerField(required=False, min_value=1, label="Daily lead cap")
    weekly_cap = forms.IntegerField(required=False, min_value=1, label="Weekly lead cap")
    monthly_cap = forms.IntegerField(required=False, min_value=1, label="Monthly lead cap")
    monthly_budget = forms.CharField(required=False, max_length=20, label="Monthly budget ($)",
                                     help_text="The most you want to spend at this level in a calendar month.")
    days = forms.MultipleChoiceField(required=False, choices=WEEKDAYS, widget=forms.CheckboxSelectMultiple,
                                     label="Delivery days")
    start = forms.CharField(required=False, label="From", widget=forms.TimeInput(attrs={"type": "time"}))
    end = forms.CharField(required=False, label="Until", widget=forms.TimeInput(attrs={"type": "time"}))

    def __init__(self, *args, levels: list[tuple[str, str]], level_locked: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["level"].choices = levels
        if level_locked:
            self.fields["level"].disabled = True
            self.fields["level"].help_text = "To change the level, cancel this subscription and subscribe again."

    def clean_monthly_budget(self):
        text = (self.cleaned_data.get("monthly_budget") or "").strip()
        return dollars_to_cents(text) if text else None

    def clean(self):
        data = super().clean()
        days, start, end = data.get("days") or [], (data.get("start") or "").strip(), (data.get("end") or "").strip()
        if not days and not start and not end:
            data["schedule"] = None
        else:
            data["schedule"] = {"days": [int(d) for d in days], "start": start[:5] if _HHMM.match(start) else start,
                                "end": end[:5] if _HHMM.match(end) else end}
        return data

    def service_values(self) -> dict:
        data = self.cleaned_data
        return {"daily_cap": data.get("daily_cap"), "weekly_cap": data.get("weekly_cap"),
                "monthly_cap": data.get("monthly_cap"), "monthly_budget_cents": data.get("monthly_budget"),
                "schedule": data.get("schedule")}


_SERVICE_TO_FORM = {"monthly_budget_cents": "monthly_budget", "schedule.days": "days", "schedule.start": "start",
                    "schedule.end": "end", "schedule": "days"}


def subscription_errors_apply(form: SubscriptionForm, rows: list[FilterRowForm], exc: ApplicationError) -> None:
    """Show a subscription service's errors on the field or filter row they name; the rest on top."""
    fields = (exc.details or {}).get("fields", []) if isinstance(exc, ValidationFailed) else []
    if not fields:
        form.add_error(None, exc.message)
        return
    for item in fields:
        name, message = item.get("field", ""), item.get("message", "Invalid value.")
        if match := _FILTER_ERROR.match(name):
            index = int(match.group(1))
            if index < len(rows):
                rows[index].add_error("value" if name.endswith(".value") else "field", message)
                continue
        target = _SERVICE_TO_FORM.get(name, name)
        form.add_error(target if target in form.fields else None, message)
