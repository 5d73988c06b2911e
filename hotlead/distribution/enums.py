from django.db import models


class AssignmentStatus(models.TextChoices):
    ASSIGNED = "assigned", "Assigned"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    REFUNDED = "refunded", "Refunded"


class RunTrigger(models.TextChoices):
    APPROVAL = "approval", "Approval"
    MANUAL = "manual", "Manual (staff)"
    SCHEDULE = "schedule", "Unsold retry schedule"


class SkipReason(models.TextChoices):
    """SPEC §4.1, in the order the checks are made; the first failing one is recorded."""

    INACTIVE = "inactive", "Subscription, level or provider not active"
    CATEGORY = "category", "Category not served"
    AREA = "area", "Postal code outside service areas"
    FILTER = "filter", "A filter does not match"
    ALREADY_ASSIGNED = "already_assigned", "Already assigned this lead"
    SCHEDULE = "schedule", "Outside delivery schedule or paused"
    CAP = "cap", "A lead or spend cap is reached"
    BALANCE = "balance", "Balance below the price"
