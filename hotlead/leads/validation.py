"""Field rules of a lead submission (SPEC §3): normalise every field, collect every error at once."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import phonenumbers
import zipcodes
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from hotlead.core.exceptions import ValidationFailed
from hotlead.core.money import whole_dollars_format
from hotlead.core.text import name_clean
from hotlead.leads.enums import Timeline

DESCRIPTION_MIN = 20  # "fix roof" tells a roofer nothing; two short sentences do
DESCRIPTION_MAX = 5000
NAME_MAX = 200
EMAIL_MAX = 254
BUDGET_MAX_CENTS = 1_000_000_000  # $10M: beyond this a budget is a typo, and it must fit the column
POSTAL_CODE_RE = re.compile(r"^[A-Z0-9-]{3,10}$")
US_ZIP_RE = re.compile(r"^([0-9]{5})(?:-?([0-9]{4}))?$")  # ASCII digits only: \d also takes other scripts
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SOURCE_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
TEXT_LIMITS = {"utm_source": 100, "utm_medium": 100, "utm_campaign": 100, "referrer": 500}


@dataclass(frozen=True)
class LeadSubmission:
    """What a submitter sent, before normalisation (the API schema or any other entry point)."""

    name: str
    email: str
    phone: str
    postal_code: str
    category: str
    description: str
    consent: bool
    budget_cents: int | None = None
    timeline: str | None = None
    source: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    referrer: str | None = None


def email_normalise(value: str) -> str:
    return value.strip().lower()


def postal_code_normalise(value: str) -> str:
    return re.sub(r"\s+", "", value).upper()


def postal_region() -> str:
    """The country whose postal codes the form accepts (default: the phone numbers' region)."""
    return settings.HOTLEAD.get("POSTAL_REGION", settings.HOTLEAD.get("PHONE_DEFAULT_REGION", "US"))


US_ZIP_MESSAGE = "Enter a US ZIP code: 5 digits, e.g. 94110 (or ZIP+4, e.g. 94110-1234)."
POSTAL_CODE_MESSAGE = "Enter a postal code (3 to 10 letters, digits or dashes)."
BUDGET_MESSAGE = f"Enter a budget between $0 and {whole_dollars_format(BUDGET_MAX_CENTS)}, in whole dollars."
DESCRIPTION_SHORT_MESSAGE = (f"Describe the job in at least {DESCRIPTION_MIN} characters, so that providers know "
                             "what you need")


def postal_code_format_message() -> str:
    """What a postal code of the wrong shape is told, in the region the form accepts."""
    return US_ZIP_MESSAGE if postal_region() == "US" else POSTAL_CODE_MESSAGE


def postal_code_clean(value: str) -> str:
    """The postal code as it is stored and matched; ValueError with a plain message when it is not valid.

    US: a 5-digit ZIP or ZIP+4 that exists in the offline ZIP database (`zipcodes`); stored as the
    5-digit ZIP, which is what service areas and filters match on.
    """
    code = postal_code_normalise(value)
    if postal_region() == "US":
        match = US_ZIP_RE.match(code)
        if not match:
            raise ValueError(US_ZIP_MESSAGE)
        if match.group(1) not in _us_zip_codes():
            raise ValueError(f"{match.group(1)} is not a US ZIP code we know. Check the number.")
        return match.group(1)
    if not POSTAL_CODE_RE.match(code):
        raise ValueError(POSTAL_CODE_MESSAGE)
    return code


@functools.cache
def _us_zip_codes() -> frozenset[str]:
    """Every ZIP the offline database knows, read once per process (`zipcodes.is_real` scans all 42,000 each call).

    Read by two-digit prefix: `zipcodes.list_all()` would keep 42,000 dicts in memory for good."""
    return frozenset(row["zip_code"] for prefix in range(100) for row in zipcodes.similar_to(f"{prefix:02d}"))


def phone_parse(value: str) -> tuple[str, bool]:
    """(E.164, valid) for a possible number in the default region; ValueError when it is not a number."""
    try:
        number = phonenumbers.parse(value.strip(), settings.HOTLEAD["PHONE_DEFAULT_REGION"])
    except phonenumbers.NumberParseException as exc:
        raise ValueError("Enter a phone number.") from exc
    if not phonenumbers.is_possible_number(number):
        raise ValueError("This is not a possible phone number.")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164, phonenumbers.is_valid_number(number)


def submission_clean(sub: LeadSubmission, *, category_known: bool) -> dict:
    """Normalised fields for a Lead (without the category); ValidationFailed lists every bad field.

    `category_known`: the slug names an active category (the caller looked it up).
    """
    errors: list[dict] = []

    def bad(field: str, message: str) -> None:
        errors.append({"field": field, "message": message})

    out: dict = {}
    name = name_clean(sub.name)  # no bidi controls or zero-width characters
    if not name:
        bad("name", "Enter your name.")
    elif len(name) > NAME_MAX:
        bad("name", f"Use at most {NAME_MAX} characters.")
    out["name"] = name

    email = email_normalise(sub.email)
    try:
        if len(email) > EMAIL_MAX:
            raise ValidationError("too long")
        validate_email(email)
    except ValidationError:
        bad("email", "Enter a valid e-mail address.")
    out["email"] = email

    try:
        out["phone"], out["phone_valid"] = phone_parse(sub.phone)
    except ValueError as exc:
        bad("phone", str(exc))

    try:
        out["postal_code"] = postal_code_clean(sub.postal_code)
    except ValueError as exc:
        bad("postal_code", str(exc))
        out["postal_code"] = postal_code_normalise(sub.postal_code)

    if not sub.category.strip():
        bad("category", "Choose a category.")
    elif not category_known:
        bad("category", "Unknown category.")

    description = sub.description.strip()
    if not description:
        bad("description", "Describe what you need.")
    elif len(description) < DESCRIPTION_MIN:
        bad("description", f"{DESCRIPTION_SHORT_MESSAGE} (you wrote {len(description)}).")
    elif len(description) > DESCRIPTION_MAX:
        bad("description", f"Use at most {DESCRIPTION_MAX} characters.")
    out["description"] = description

    if sub.budget_cents is not None and not 0 <= sub.budget_cents <= BUDGET_MAX_CENTS:
        bad("budget_cents", BUDGET_MESSAGE)
    out["budget_cents"] = sub.budget_cents

    if sub.timeline not in (None, "") and sub.timeline not in Timeline.values:
        bad("timeline", f"Choose one of: {', '.join(Timeline.values)}.")
    out["timeline"] = sub.timeline or ""

    if sub.consent is not True:
        bad("consent", "Your consent is required to pass your request to providers.")

    source = (sub.source or "").strip() or "web"
    if not SOURCE_RE.match(source):
        bad("source", "Use at most 64 letters, digits or . _ : -")
    out["source"] = source

    for field, limit in TEXT_LIMITS.items():
        value = (getattr(sub, field) or "").strip()
        if len(value) > limit:
            bad(field, f"Use at most {limit} characters.")
        out[field] = value

    if errors:
        raise ValidationFailed(details={"fields": errors})
    return out
