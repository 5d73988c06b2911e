from django.db import models


class BadLeadReason(models.TextChoices):
    WRONG_CONTACT = "wrong_contact", "Wrong contact details"
    DUPLICATE = "duplicate", "Duplicate"
    OUT_OF_AREA = "out_of_area", "Out of area"
    NOT_REQUESTED = "not_requested", "Not requested"
    ALREADY_HIRED = "already_hired", "Already hired someone"
    OTHER = "other", "Other"


class ReportStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class AutoRule(models.TextChoices):
    EMAIL_BOUNCED = "email_bounced", "The lead's verification e-mail bounced"
    PHONE_INVALID = "phone_invalid", "The phone number fails validation"
    # "out_of_area_at_sale" was removed: no sale can be out of the buyer's areas (docs/decisions.md, issue 16).
