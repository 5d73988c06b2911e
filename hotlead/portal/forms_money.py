"""Portal forms of subscriptions: a level, caps, a monthly budget, a delivery schedule and the filters.

The forms only turn what a person ticks or types ("$1,500", "941, 946", a time picker's "08:30") into the
service's input shape; the subscription services validate it (SPEC §4.4) and their errors are shown
next to the control they concern, in plain words.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django import forms

from hotlead.core.exceptions import ApplicationError, ValidationFailed
from hotlead.leads.enums import Timeline
from hotlead.levels.enums import FilterField, FilterOp

WEEKDAYS = [(str(i), name) for i, name in enumerate(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))]
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


TIMELINE_LABELS = {
    Timeline.ASAP: "ASAP (as soon as possible)",
    Timeline.WITHIN_MONTH: "Within a month",
    Timeline.FLEXIBLE: "Flexible",
}
# The name a buyer reads for each control, used in every error message about it.
CONTROL_LABELS = {
    "categories": "Services",
    "timelines": "When the homeowner wants the work done",
    "budget_min": "Minimum budget",
    "budget_max": "Maximum budget",
    "postal_prefixes": "ZIP code prefixes",
}


def _split_list(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,;\n]", text or "") if part.strip()]


class SubscriptionFiltersForm(forms.Form):
    """The filters of a subscription in the buyer's words; stored as SPEC §4.4 filters underneath.

    services → category in [...]; timelines → timeline in [...]; minimum/maximum budget in dollars →
    budget_cents gte / lte / between; ZIP prefixes → postal_code prefix [...]. A stored filter these
    controls cannot show (set through the API, e.g. a source) is kept as it is and listed on the page.
    """

    categories = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label=CONTROL_LABELS["categories"],
        help_text="Tick the services you want from this subscription; none ticked means every service you offer.")
    timelines = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label=CONTROL_LABELS["timelines"],
        choices=list(TIMELINE_LABELS.items()),
        help_text="None ticked means any timeline, including homeowners who did not say.")
    budget_min = forms.CharField(required=False, max_length=20, label="Minimum budget ($)",
                                 widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "e.g. $1,000"}))
    budget_max = forms.CharField(required=False, max_length=20, label="Maximum budget ($)",
                                 widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "e.g. 25000"}))
    postal_prefixes = forms.CharField(
        required=False, max_length=2000, label=CONTROL_LABELS["postal_prefixes"],
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line or separated by commas: 941 covers every ZIP code from 94100 to 94199. "
                  "Empty means all of your service areas.")

    def __init__(self, *args, category_choices: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["categories"].choices = category_choices
        self.other_filters: list[dict] = []
        self.control_of_filter: list[str] = []

    def _dollars(self, name: str) -> int | None:
        text = (self.cleaned_data.get(name) or "").strip()
        if not text:
            return None
        try:
            return dollars_to_cents(text)
        except forms.ValidationError as exc:
            raise forms.ValidationError(f"{CONTROL_LABELS[name]}: {exc.messages[0]} Write it like 1000 or $1,000.")

    def clean_budget_min(self):
        return self._dollars("budget_min")

    def clean_budget_max(self):
        return self._dollars("budget_max")

    def clean_postal_prefixes(self):
        prefixes = ["".join(p.split()).upper() for p in _split_list(self.cleaned_data.get("postal_prefixes"))]
        bad = [p for p in prefixes if not re.fullmatch(r"[A-Z0-9-]{1,12}", p)]
        if bad:
            raise forms.ValidationError(
                f"{CONTROL_LABELS['postal_prefixes']}: “{bad[0]}” is not the start of a ZIP code; "
                "use digits, e.g. 941.")
        return list(dict.fromkeys(prefixes))

    def clean(self):
        data = super().clean()
        low, high = data.get("budget_min"), data.get("budget_max")
        if low is not None and high is not None and low > high:
            self.add_error("budget_max", "Maximum budget: it must not be below the minimum budget.")
        return data

    def filters(self, *, keep: list[dict] | None = None) -> list[dict]:
        """The SPEC §4.4 filters the controls say, then the kept ones; `control_of_filter` names each one's control."""
        data, out, controls = self.cleaned_data, [], []

        def add(control: str, flt: dict) -> None:
            out.append(flt)
            controls.append(control)

        if data.get("categories"):
            add("categories", {"field": FilterField.CATEGORY, "op": FilterOp.IN, "value": list(data["categories"])})
        if data.get("timelines"):
            add("timelines", {"field": FilterField.TIMELINE, "op": FilterOp.IN, "value": list(data["timelines"])})
        low, high = data.get("budget_min"), data.get("budget_max")
        if low is not None and high is not None:
            add("budget_min", {"field": FilterField.BUDGET_CENTS, "op": FilterOp.BETWEEN, "value": [low, high]})
        elif low is not None:
            add("budget_min", {"field": FilterField.BUDGET_CENTS, "op": FilterOp.GTE, "value": low})
        elif high is not None:
            add("budget_max", {"field": FilterField.BUDGET_CENTS, "op": FilterOp.LTE, "value": high})
        if data.get("postal_prefixes"):
            prefixes = data["postal_prefixes"]
            add("postal_prefixes", {"field": FilterField.POSTAL_CODE, "op": FilterOp.PREFIX,
                                    "value": prefixes[0] if len(prefixes) == 1 else prefixes})
        for flt in keep or []:
            add("", flt)
        self.control_of_filter = controls
        return out

    @staticmethod
    def initial_for(filters: list[dict]) -> tuple[dict, list[dict]]:
        """Stored filters → (the controls' initial values, the filters the controls cannot show)."""
        initial: dict = {}
        other: list[dict] = []
        for flt in filters or []:
            field, op, value = flt.get("field"), flt.get("op"), flt.get("value")
            values = value if isinstance(value, list) else [value]
            if field == FilterField.CATEGORY and op in (FilterOp.EQ, FilterOp.IN) and "categories" not in initial:
                initial["categories"] = values
            elif field == FilterField.TIMELINE and op in (FilterOp.EQ, FilterOp.IN) and "timelines" not in initial:
                initial["timelines"] = values
            elif (field == FilterField.BUDGET_CENTS and op in (FilterOp.GTE, FilterOp.LTE, FilterOp.BETWEEN)
                  and "budget_min" not in initial and "budget_max" not in initial):
                if op == FilterOp.BETWEEN:
                    initial["budget_min"], initial["budget_max"] = (cents_to_dollars(v) for v in value)
                else:
                    initial["budget_min" if op == FilterOp.GTE else "budget_max"] = cents_to_dollars(value)
            elif field == FilterField.POSTAL_CODE and op == FilterOp.PREFIX and "postal_prefixes" not in initial:
                initial["postal_prefixes"] = ", ".join(values)
            else:
                other.append(flt)
        return initial, other


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


def subscription_errors_apply(form: SubscriptionForm, filters_form: SubscriptionFiltersForm,
                               exc: ApplicationError) -> None:
    """Show a subscription service's errors on the control they concern, in the buyer's words; the rest on top."""
    fields = (exc.details or {}).get("fields", []) if isinstance(exc, ValidationFailed) else []
    if not fields:
        form.add_error(None, exc.message)
        return
    for item in fields:
        name, message = item.get("field", ""), item.get("message", "Invalid value.")
        if match := _FILTER_ERROR.match(name):
            index = int(match.group(1))
            controls = filters_form.control_of_filter
            control = controls[index] if index < len(controls) else ""
            if control:
                filters_form.add_error(control, f"{CONTROL_LABELS[control]}: this choice cannot be saved ({message})")
            else:
                form.add_error(None, f"A filter set through the API cannot be saved: {message}")
            continue
        target = _SERVICE_TO_FORM.get(name, name)
        form.add_error(target if target in form.fields else None, message)
