"""Schemas of /auth (SPEC §8, §13). Unknown fields are refused (422), so nothing extra can be set.

Schemas load with the API, before the app registry is ready: no model imports here.
"""
from __future__ import annotations

from ninja import Field, Schema
from pydantic import ConfigDict, field_validator

from api.schemas.strict import StrictJson


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


class RegisterIn(_In):
    email: str = Field(..., max_length=254)
    password: str = Field(..., max_length=256)
    company_name: str = Field(..., max_length=400)
    contact_name: str = Field(..., max_length=400)
    phone: str = Field(..., max_length=40)
    timezone: str | None = Field(None, max_length=64, description="IANA name; default America/New_York")


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
    token: str = Field(..., max_length=200)
    password: str = Field(..., max_length=256)


class VerifyEmailIn(_In):
    token: str = Field(..., max_length=200)


class EmailIn(_In):
    email: str = Field(..., max_length=254)


class AcceptedOut(Schema):
    detail: str


class VerifyEmailOut(Schema):
    id: int
    email: str
    status: str
