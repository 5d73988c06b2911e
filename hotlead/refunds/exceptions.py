"""The errors of bad-lead reports and refunds."""
from __future__ import annotations

from hotlead.core.exceptions import DomainRuleViolation


class ReportWindowClosed(DomainRuleViolation):
    code = "report_window_closed"
    default_message = "The window for reporting this lead as bad has closed."
