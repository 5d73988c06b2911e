from django.db import models


class ProviderStatus(models.TextChoices):
    PENDING_VERIFICATION = "pending_verification", "Pending e-mail verification"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"


class AssignmentNotify(models.TextChoices):
    INSTANT = "instant", "Instant e-mail"
    DAILY_DIGEST = "daily_digest", "Daily digest"
    OFF = "off", "Off"


class AreaKind(models.TextChoices):
    CODE = "code", "Exact postal code"
    PREFIX = "prefix", "Postal code prefix"
