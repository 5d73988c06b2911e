"""Schemas of /auth (SPEC §8, §13). Unknown fields are refused (422), so nothing extra can be set.

Schemas load with the API, before the app registry is ready: no model imports here.
"""
from __future__ import annotations

from ninja import Field, Schema
from pydantic import ConfigDict, field_validator

from api.schemas.strict import (
    EMAIL_PATTERN,
    PHONE_DESCRIPTION,
    TIMEZONE_DESCRIPTION,
    VISIBLE_TEXT,
    StrictJson,
    documented,
)


def nul_refuse(value):
    """PostgreSQL text cannot hold NUL: such input is a 422 on its field, never a database error (a 500)."""
    items = value if isinstance(value, list) else [value]
    if any(isinstance(item, str) and "\x00" in item for item in items):
        raise ValueError("NUL characters are not allowed.")
    return value


class NulFreeSchema(Schema):
    """Every string (and list of strings) field refuses NUL characters."""

    @field_validator("*", mode="before")
    @classmethod
    def nul_check(cls, value):
        return nul_refuse(value)


class _In(StrictJson, NulFreeSchema):
    model_config = ConfigDict(extra="forbid")


PASSWORD_RULES = dict(max_length=256, **documented(min_length=12, pattern=r"[^0-9]"),
                      description="At least 12 characters, not only digits, not a common password, not like "
                                  "the e-mail address")


class RegisterIn(_In):
    email: str = Field(..., max_length=254, **documented(min_length=6, pattern=EMAIL_PATTERN))
    password: str = Field(..., **PASSWORD_RULES)
    company_name: str = Field(..., max_length=200, **documented(min_length=1, pattern=VISIBLE_TEXT))
    contact_name: str = Field(..., max_length=200, **documented(min_length=1, pattern=VISIBLE_TEXT))
    phone: str = Field(..., max_length=30, description=PHONE_DESCRIPTION, json_schema_extra={"format": "phone"})
    timezone: str | None = Field(None, max_length=64, description=TIMEZONE_DESCRIPTION + "; default America/New_York",
                                 json_schema_extra={"format": "iana-timezone"})


class RegisterOut(Schema):
    id: int = Field(..., description="The provider id")
    email: str
    status: str = Field(..., description="pending_verification until the e-mailed link is followed")


class LoginIn(_In):
    email: str = Field(..., max_length=254)
    password: str = Field(..., max_length=256)
    otp: str | None = Field(None, max_length=12, description="The TOTP code; required when the account has MFA")


class TokenOut(Schema):
    access_token: str
    refresh_token: str
    token_type: str = "Bearer"
    expires_in: int = Field(..., description="Seconds until the access token expires")


class RefreshIn(_In):
    refresh_token: str = Field(..., max_length=4096)


class ForgotPasswordIn(_In):
    email: str = Field(..., max_length=254)


class ResetPasswordIn(_In):
    token: str = Field(..., min_length=1, max_length=200, description="From the e-mailed link")
    password: str = Field(..., **PASSWORD_RULES)


class VerifyEmailIn(_In):
    token: str = Field(..., min_length=1, max_length=200, description="From the e-mailed link")


class EmailIn(_In):
    email: str = Field(..., max_length=254)


class AcceptedOut(Schema):
    detail: str


class VerifyEmailOut(Schema):
    id: int
    email: str
    status: str
