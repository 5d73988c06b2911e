"""The errors of the job queue's operations."""
from __future__ import annotations

from hotlead.core.exceptions import DomainRuleViolation


class TaskUnknown(DomainRuleViolation):
    code = "task_unknown"
    default_message = "This job's function no longer exists in this version; resolve it instead."
