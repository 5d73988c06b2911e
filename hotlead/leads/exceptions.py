"""The errors of lead intake: the submitter's e-mailed code."""
from __future__ import annotations

from hotlead.core.exceptions import DomainRuleViolation


class VerificationLocked(DomainRuleViolation):
    code = "verification_locked"
    default_message = "Too many wrong codes. Ask for a new code."


class CodeExpired(DomainRuleViolation):
    code = "code_expired"
    default_message = "This code has expired. Ask for a new code."


class InvalidCode(DomainRuleViolation):
    code = "invalid_code"
    default_message = "The code is not correct."
