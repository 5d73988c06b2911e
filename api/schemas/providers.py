"""Schemas of the provider's account API and the admin providers API (SPEC §7, §13).

Unknown fields are refused (422): a client cannot set status, role or balance through these.
Schemas load with the API, before the app registry is ready: enums only, no models.
"""
from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema
from pydantic import ConfigDict

from api.schemas.auth import NulFreeSchema
from api.schemas.strict import StrictJson
from hotlead.providers.enums import AssignmentNotify, ProviderStatus

MAX_AREAS_IN = 5000


class _In(StrictJson, NulFreeSchema):
    model_config = ConfigDict(extra="forbid")


# --- the provider's own account --------------------------------------------------------------------------


class ProfileIn(_In):
    company_name: str = Field(..., max_length=400)
    contact_name: str = Field(..., max_length=400)
    phone: str = Field(..., max_length=40)
    categories: list[str] = Field(..., max_length=200, description="Category slugs the provider serves")
    timezone: str = Field(..., max_length=64, description="IANA time zone")
    webhook_url: str | None = Field(None, max_length=400, description="https URL; omit to keep, null/\"\" to clear")


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
    postal_codes: list[str] = Field(default_factory=list, max_length=MAX_AREAS_IN)
    prefixes: list[str] = Field(default_factory=list, max_length=MAX_AREAS_IN)


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
    reason: str = Field(..., min_length=1, max_length=2000)
