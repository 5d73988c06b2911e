"""Schemas of the provider's account API and the admin providers API (SPEC §7, §13).

Unknown fields are refused (422): a client cannot set status, role or balance through these.
Schemas load with the API, before the app registry is ready: enums only, no models.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from ninja import Field, Schema
from pydantic import ConfigDict

from api.schemas.auth import NulFreeSchema
from api.schemas.strict import PHONE_DESCRIPTION, TIMEZONE_DESCRIPTION, VISIBLE_TEXT, StrictJson, documented
from hotlead.providers.enums import AssignmentNotify, ProviderStatus
from hotlead.providers.validators import WEBHOOK_URL_MAX

MAX_AREAS_IN = 5000


class _In(StrictJson, NulFreeSchema):
    model_config = ConfigDict(extra="forbid")


# --- the provider's own account --------------------------------------------------------------------------


class ProfileIn(_In):
    company_name: str = Field(..., max_length=200, **documented(min_length=1, pattern=VISIBLE_TEXT))
    contact_name: str = Field(..., max_length=200, **documented(min_length=1, pattern=VISIBLE_TEXT))
    phone: str = Field(..., max_length=30, description=PHONE_DESCRIPTION, json_schema_extra={"format": "phone"})
    categories: list[str] = Field(..., max_length=200, description="Active category slugs the provider serves")
    timezone: str = Field(..., max_length=64, description=TIMEZONE_DESCRIPTION,
                          json_schema_extra={"format": "iana-timezone"})
    webhook_url: str | None = Field(None, max_length=WEBHOOK_URL_MAX,
                                    description="https URL; omit to keep, null/\"\" to clear")


class ProfileOut(Schema):
    id: int
    email: str
    status: ProviderStatus
    company_name: str
    contact_name: str
    phone: str
    categories: list[str]
    timezone: str
    webhook_url: str | None
    mfa_enabled: bool


class ServiceAreasIn(_In):
    postal_codes: list[Annotated[str, Field(pattern=r"^ *[A-Za-z0-9](?: *[A-Za-z0-9-]){0,10} *[A-Za-z0-9] *$",
                                            max_length=40)]] = Field(
        default_factory=list, max_length=MAX_AREAS_IN, description="2-12 letters, digits or inner '-'")
    prefixes: list[Annotated[str, Field(pattern=r"^ *(?:[A-Za-z0-9] *){1,11}\*? *$", max_length=40)]] = Field(
        default_factory=list, max_length=MAX_AREAS_IN, description="1-11 letters or digits; a trailing * is dropped")


class ServiceAreasOut(Schema):
    postal_codes: list[str]
    prefixes: list[str]


class NotificationPreferencesIn(_In):
    assignment_email: AssignmentNotify
    low_balance_threshold_cents: int = Field(..., ge=0, le=100_000_000)


class NotificationPreferencesOut(Schema):
    assignment_email: AssignmentNotify
    low_balance_threshold_cents: int


class MfaSetupOut(Schema):
    secret: str = Field(..., description="Base32 secret, for entering by hand")
    otpauth_uri: str = Field(..., description="otpauth://totp/… URI for a QR code")
    digits: int
    period: int


class MfaConfirmIn(_In):
    otp: str = Field(..., max_length=12)


class MfaConfirmOut(Schema):
    mfa_enabled: bool
    access_token: str = Field(..., description="Earlier tokens were revoked: use this MFA-verified pair")
    refresh_token: str
    token_type: str = "Bearer"
    expires_in: int


# --- admin -----------------------------------------------------------------------------------------------


class AdminProviderRow(Schema):
    id: int
    email: str
    company_name: str
    contact_name: str
    status: ProviderStatus
    categories: list[str]
    areas_count: int
    balance_cents: int
    last_assigned_at: datetime | None
    flagged: bool
    created_at: datetime


class AdminProviderListOut(Schema):
    items: list[AdminProviderRow]
    next_cursor: str | None


class AdminProviderOut(AdminProviderRow):
    phone: str
    timezone: str
    webhook_url: str | None
    email_verified_at: datetime | None
    suspended_reason: str
    suspended_at: datetime | None
    flagged_reason: str
    assignment_email: AssignmentNotify
    low_balance_threshold_cents: int
    postal_codes: list[str]
    prefixes: list[str]
    mfa_enabled: bool


class AdminProviderListQuery(NulFreeSchema):
    status: ProviderStatus | None = None
    category: str | None = Field(None, max_length=64, description="Category slug")
    q: str | None = Field(None, max_length=200, description="Search company, contact or e-mail")
    flagged: bool | None = None
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(50, ge=1, le=200)


class AdminProviderUpdateIn(ProfileIn):
    service_areas: ServiceAreasIn | None = Field(None, description="Replace the areas too, when given")
    notification_preferences: NotificationPreferencesIn | None = None


class ReasonIn(_In):
    reason: str = Field(..., min_length=1, max_length=2000, pattern=r"\S")
