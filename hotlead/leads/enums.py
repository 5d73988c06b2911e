from django.db import models


class LeadStatus(models.TextChoices):
    PENDING_VERIFICATION = "pending_verification", "Pending verification"
    VERIFIED = "verified", "Verified"
    PENDING_REVIEW = "pending_review", "Pending review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    DISTRIBUTED = "distributed", "Distributed"
    UNSOLD = "unsold", "Unsold"
    EXPIRED = "expired", "Expired"


class RejectReason(models.TextChoices):
    SPAM = "spam", "Spam"
    DUPLICATE = "duplicate", "Duplicate"
    INCOMPLETE = "incomplete", "Incomplete"
    OUT_OF_AREA = "out_of_area", "Out of area"
    TEST = "test", "Test"
    OTHER = "other", "Other"


class Timeline(models.TextChoices):
    ASAP = "asap", "As soon as possible"
    WITHIN_MONTH = "within_month", "Within a month"
    FLEXIBLE = "flexible", "Flexible"


# The lifecycle of SPEC §3: which status may move to which.
ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    LeadStatus.PENDING_VERIFICATION: {LeadStatus.VERIFIED, LeadStatus.EXPIRED},
    LeadStatus.VERIFIED: {LeadStatus.PENDING_REVIEW},
    LeadStatus.PENDING_REVIEW: {LeadStatus.APPROVED, LeadStatus.REJECTED},
    LeadStatus.APPROVED: {LeadStatus.DISTRIBUTED, LeadStatus.UNSOLD},
    LeadStatus.UNSOLD: {LeadStatus.DISTRIBUTED, LeadStatus.UNSOLD},
    LeadStatus.REJECTED: set(),
    LeadStatus.DISTRIBUTED: set(),
    LeadStatus.EXPIRED: set(),
}
