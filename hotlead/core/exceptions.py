"""Domain errors, raised once in services and mapped once at the edge (SPEC §8).

Each carries a snake_case `code`, an HTTP status, a human message and optional details. A code is declared
once, as a class attribute of its own exception class (here, or in the owning app's `exceptions.py`), and
raised by class name; tests/api/test_error_codes.py holds every code the API answers with to that.
"""
from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    code = "bad_request"
    http_status = 400
    default_message = "The request could not be processed."

    def __init__(self, message: str | None = None, *, details: Any = None, **extra: Any) -> None:
        if "code" in extra:
            raise TypeError(f"{type(self).__name__}: a code is declared once, as a class (hotlead/core/exceptions.py)")
        self.message = message or self.default_message
        self.details = details if details is not None else (extra or {})
        super().__init__(self.message)

    def as_body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class ValidationFailed(ApplicationError):
    """422: input does not satisfy field rules. `details` is {"fields": [{"field", "message"}]}."""

    code = "validation_error"
    http_status = 422
    default_message = "The request has invalid fields."

    @classmethod
    def for_field(cls, field: str, message: str) -> ValidationFailed:
        return cls(details={"fields": [{"field": field, "message": message}]})


class DomainRuleViolation(ApplicationError):
    """400: well-formed input that a business rule refuses (code `bad_request`, or the rule's own)."""

    http_status = 400


class InsufficientBalance(DomainRuleViolation):
    code = "insufficient_balance"
    default_message = "The balance does not cover this amount."


class InvalidToken(DomainRuleViolation):
    """A token from an e-mailed link (or the lead confirmation token) is unknown, spent or expired."""

    code = "invalid_token"
    default_message = "This link is invalid or has expired. Please request a new one."


class NotAuthenticated(ApplicationError):
    code = "not_authenticated"
    http_status = 401
    default_message = "Authentication is required."


class InvalidCredentials(NotAuthenticated):
    code = "invalid_credentials"
    default_message = "The e-mail or password is not correct."


class MfaRequired(NotAuthenticated):
    code = "mfa_required"
    default_message = "A one-time code from your authenticator app is required."


class InvalidOtp(NotAuthenticated):
    code = "invalid_otp"
    default_message = "The one-time code is not valid."


class TokenExpired(NotAuthenticated):
    code = "token_expired"
    default_message = "The token has expired."


class TokenRevoked(NotAuthenticated):
    code = "token_revoked"
    default_message = "The refresh token is no longer valid."


class AccountSuspended(NotAuthenticated):
    code = "account_suspended"
    default_message = "This account is suspended."


class Forbidden(ApplicationError):
    code = "forbidden"
    http_status = 403
    default_message = "You do not have permission to do this."


class EmailNotVerified(Forbidden):
    code = "email_not_verified"
    default_message = "Verify your e-mail address first."


class MfaSetupRequired(Forbidden):
    code = "mfa_setup_required"
    default_message = "Two-factor authentication is required: set it up first."


class NotFound(ApplicationError):
    code = "not_found"
    http_status = 404
    default_message = "Not found."


class Conflict(ApplicationError):
    """409: a transition the current state does not allow."""

    code = "conflict"
    http_status = 409
    default_message = "This action conflicts with the current state."


class MfaAlreadyEnabled(Conflict):
    code = "mfa_already_enabled"
    default_message = "Two-factor authentication is already enabled."


class MfaSetupNotStarted(Conflict):
    code = "mfa_setup_not_started"
    default_message = "Start the set-up first."


class WebhookNotConfigured(ApplicationError):
    """503: an incoming webhook this server has no secret for (payments, e-mail events)."""

    code = "webhook_not_configured"
    http_status = 503
    default_message = "This webhook is not configured on this server."


class RateLimited(ApplicationError):
    code = "rate_limited"
    http_status = 429
    default_message = "Too many requests; try again later."

    def __init__(self, message: str | None = None, *, retry_after: int = 60, **kwargs: Any) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(message, **kwargs)
        if not self.details:
            self.details = {"retry_after": self.retry_after}
