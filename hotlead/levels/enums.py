from django.db import models


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    INACTIVE_FUNDS = "inactive_funds", "Inactive: balance below price"
    CANCELLED = "cancelled", "Cancelled"


class FilterField(models.TextChoices):
    CATEGORY = "category"
    POSTAL_CODE = "postal_code"
    BUDGET_CENTS = "budget_cents"
    TIMELINE = "timeline"
    SOURCE = "source"


class FilterOp(models.TextChoices):
    EQ = "eq"
    NE = "ne"
    IN = "in"
    NOT_IN = "not_in"
    GTE = "gte"
    LTE = "lte"
    BETWEEN = "between"
    PREFIX = "prefix"
